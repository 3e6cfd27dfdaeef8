"""A PM filters, sorts and pages the dashboard without a full page load, and the URL follows."""

import pytest

from products.choices import Role
from tests.browser.conftest import log_in
from tests.factories import PortfolioFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portfolio_of_products():
    UserFactory(username="pat", first_name="Pat", last_name="Lee", role=Role.PM)
    portfolio = PortfolioFactory(name="Payments", slug="payments")
    stages = ["problem", "mvp", "execution"]
    for i in range(36):
        ProductFactory(
            name=f"Product {i:02d}", slug=f"product-{i:02d}", portfolio=portfolio, stage=stages[i % 3]
        )


def table_names(page) -> list[str]:
    return page.locator("#product-table tbody .table__primary").all_inner_texts()


def test_filter_sort_and_page_swap_the_table_and_update_the_url(page, portfolio_of_products, screenshot):
    log_in(page, "pat")
    page.goto("/")
    page.evaluate("window.__loadedOnce = true")  # lost if the page reloads
    assert len(table_names(page)) == 25

    page.locator('select[name="stage"]').select_option("mvp")
    page.wait_for_url("**/?stage=mvp")
    page.wait_for_function("() => document.querySelectorAll('#product-table tbody tr').length === 12")
    assert page.evaluate("window.__loadedOnce") is True
    screenshot(page, "dashboard-filtered")

    page.goto("/")
    page.evaluate("window.__loadedOnce = true")
    page.locator("#product-table thead").get_by_role("link", name="Product").first.click()
    page.wait_for_url("**/?sort=name&dir=desc")
    page.wait_for_function(
        "() => document.querySelector('#product-table tbody .table__primary').innerText.includes('35')"
    )
    assert table_names(page)[0].startswith("Product 35")

    page.get_by_role("link", name="Next page").click()
    page.wait_for_url("**page=2**")
    page.wait_for_function("() => document.querySelectorAll('#product-table tbody tr').length === 11")
    assert page.evaluate("window.__loadedOnce") is True

    page.go_back()
    page.wait_for_url("**/?sort=name&dir=desc")
    page.wait_for_function("() => document.querySelectorAll('#product-table tbody tr').length === 25")
    screenshot(page, "dashboard")
    page.watch.assert_clean()
