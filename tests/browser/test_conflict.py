"""Two people edit the same product at once in two browsers: the second save shows what the first changed,
keeps the second person's input, and saving again applies it on top. Then the History tab shows both saves."""

from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from products.choices import Role
from products.models import Product
from tests.browser.conftest import PageWatch, log_in
from tests.factories import MembershipFactory, ProductFactory, StageTransitionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def beacon():
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Park", role=Role.PM)
    product = ProductFactory(
        name="Beacon Payouts",
        slug="beacon-payouts",
        owner=owner,
        stage="mvp",
        planned_budget=Decimal("100000.00"),
    )
    StageTransitionFactory(product=product, from_stage="", to_stage="mvp")
    ben = UserFactory(username="ben", first_name="Ben", last_name="Ode", role=Role.PM)
    MembershipFactory(product=product, user=ben, role=Role.PM)
    return product


@pytest.fixture
def second_page(browser, live_server):
    """Another person's browser: its own context, so its own session."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server.url)
    other = context.new_page()
    other.set_default_timeout(15_000)
    other.watch = PageWatch(other, urlsplit(live_server.url).netloc)
    yield other
    context.close()


def open_editor(page) -> None:
    page.goto("/products/beacon-payouts/")
    page.get_by_role("link", name="Edit product").click()
    page.get_by_label("Name").wait_for()


def test_the_second_editor_sees_the_conflict_and_saves_on_top(page, second_page, beacon, screenshot):
    olivia, ben = page, second_page
    log_in(olivia, "olivia")
    log_in(ben, "ben")
    open_editor(olivia)
    open_editor(ben)

    olivia.get_by_label("Name").fill("Beacon Payouts EU")
    olivia.get_by_role("button", name="Save changes").click()
    olivia.get_by_text("Saved Beacon Payouts EU.").wait_for()

    ben.get_by_label("Description").fill("Payouts for EU merchants")
    ben.get_by_role("button", name="Save changes").click()
    alert = ben.get_by_role("alert").filter(has_text="Someone else saved this product while you were editing")
    alert.wait_for()
    assert "Olivia Park" in alert.inner_text()
    name_change = alert.locator("li", has_text="Name changed")
    assert (name_change.locator("del").inner_text(), name_change.locator("ins").inner_text()) == (
        "“Beacon Payouts”",
        "“Beacon Payouts EU”",
    )
    # Ben's typed description stays; the name he did not touch now shows Olivia's save; nothing of his is saved.
    assert ben.get_by_label("Description").input_value() == "Payouts for EU merchants"
    assert ben.get_by_label("Name").input_value() == "Beacon Payouts EU"
    product = Product.objects.get(slug="beacon-payouts")
    assert (product.name, product.description) == ("Beacon Payouts EU", "")
    screenshot(ben, "product-edit-conflict")

    ben.get_by_role("button", name="Save changes").click()
    ben.get_by_text("Saved Beacon Payouts EU.").wait_for()
    product.refresh_from_db()
    assert (product.name, product.description) == ("Beacon Payouts EU", "Payouts for EU merchants")

    # The History tab, swapped in without a page load, lists both saves, newest first, with their authors.
    ben.get_by_role("link", name="History").click()
    ben.wait_for_url("**/products/beacon-payouts/history/")
    entries = ben.locator(".history__entry")
    entries.first.wait_for()
    assert "Ben Ode" in entries.nth(0).inner_text()
    assert "Payouts for EU merchants" in entries.nth(0).inner_text()
    assert "Olivia Park" in entries.nth(1).inner_text()
    assert "Beacon Payouts EU" in entries.nth(1).inner_text()
    screenshot(ben, "product-history")
    olivia.watch.assert_clean()
    ben.watch.assert_clean()
