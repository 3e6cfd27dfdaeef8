"""A PM opens “My products” from the top bar, on a desktop and on a phone, and looks at a colleague's products
without a full page load."""

import pytest

from products.choices import Role
from tests.browser.conftest import log_in
from tests.factories import MembershipFactory, PortfolioFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def team():
    """Pat owns 3 products and is a member of 2 more; Jo (junior PM) is a member of one of Pat's; 6 others."""
    pat = UserFactory(username="pat", first_name="Pat", last_name="Lee", role=Role.PM)
    jo = UserFactory(username="jo", first_name="Jo", last_name="Kim", role=Role.JUNIOR_PM)
    portfolio = PortfolioFactory(name="Payments", slug="payments")
    products = [
        ProductFactory(name=f"Product {i:02d}", slug=f"product-{i:02d}", portfolio=portfolio)
        for i in range(11)
    ]
    for product in products[:3]:
        product.owner = pat
        product.save(update_fields=["owner"])
    for product in products[3:5]:
        MembershipFactory(product=product, user=pat, role=Role.PM)
    MembershipFactory(product=products[0], user=jo, role=Role.JUNIOR_PM)


def rows(page) -> int:
    return page.locator("#product-table tbody tr").count()


@pytest.mark.parametrize("width", [1440, 390])
def test_my_products_from_the_top_bar(page, team, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "pat")
    page.goto("/")
    page.locator(".topbar__nav").get_by_role("link", name="My products").click()
    page.wait_for_url("**/products/?member=pat")
    assert page.locator('.topbar__nav a[aria-current="page"]').all_inner_texts() == ["My products"]
    people = page.locator(".product-results__people")
    assert " ".join(people.inner_text().split()) == "Your products: 3 you own, 2 you are a member of"
    assert rows(page) == 5
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    outside = page.evaluate(
        """() => [...document.querySelectorAll('.topbar__nav a')]
            .filter(a => a.getBoundingClientRect().right > window.innerWidth).map(a => a.textContent.trim())"""
    )
    assert outside == []
    screenshot(page, f"my-products-{width}")

    # A colleague's products, swapped in place: the URL follows and the sentence says whose they are.
    page.evaluate("window.__loadedOnce = true")
    page.locator('select[name="member"]').select_option("jo")
    page.wait_for_url("**/products/?member=jo")
    page.wait_for_function("() => document.querySelectorAll('#product-table tbody tr').length === 1")
    assert (
        " ".join(people.inner_text().split()) == "Jo Kim\u2019s products: 0 they own, 1 they are a member of"
    )
    assert page.evaluate("window.__loadedOnce") is True
    page.watch.assert_clean()
