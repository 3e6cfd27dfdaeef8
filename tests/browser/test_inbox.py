"""A junior PM hears that a product they work on moved, reads it from the bell, filters the inbox, marks
notifications read in place (the bell follows without a reload), and mutes and follows a product from its page;
on a desktop and on a phone."""

import pytest

from lifecycle.services import product_move_stage
from portfolio.alerts.services import products_stuck_notify
from products.choices import Role, Stage
from products.models import Product
from tests.browser.conftest import log_in
from tests.factories import MembershipFactory, PortfolioFactory, ProductFactory, UserFactory
from tests.lifecycle.factories import fill_gates

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def news():
    """Pat moved Atlas (Jo works on it); Beacon, also Jo's, has been in Problem for 100 days."""
    import datetime as dt

    from django.utils import timezone

    pat = UserFactory(username="pat", first_name="Pat", last_name="Lee", role=Role.PM)
    jo = UserFactory(username="jo", first_name="Jo", last_name="Kim", role=Role.JUNIOR_PM)
    portfolio = PortfolioFactory(name="Payments", slug="payments")
    atlas = ProductFactory(name="Atlas", slug="atlas", portfolio=portfolio, owner=pat)
    beacon = ProductFactory(name="Beacon", slug="beacon", portfolio=portfolio, owner=pat)
    for product in (atlas, beacon):
        MembershipFactory(product=product, user=jo, role=Role.JUNIOR_PM)
    product_move_stage(product=fill_gates(atlas, to=Stage.OPPORTUNITY), to=Stage.OPPORTUNITY, by=pat)
    Product.objects.filter(pk=beacon.pk).update(stage_entered_at=timezone.now() - dt.timedelta(days=100))
    products_stuck_notify()


def bell_count(page) -> str:
    return page.locator("#inbox-bell").inner_text().split("Notifications")[0].strip()


@pytest.mark.parametrize("width", [1440, 390])
def test_reading_the_inbox_from_the_bell(page, news, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "jo")
    page.goto("/")
    page.wait_for_selector("#inbox-bell .bell__count")
    assert bell_count(page) == "2"
    page.locator("#inbox-bell").click()
    page.wait_for_url("**/inbox/")
    items = page.locator(".inbox__item")
    assert items.count() == 2
    text = page.locator("#inbox-list").inner_text()
    assert "Pat Lee moved Atlas from Problem to Opportunity." in text
    assert "Beacon has been in Problem for 100 days" in text
    assert "You work on Atlas." in text
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    screenshot(page, f"inbox-{width}")

    # Filter in place: the URL follows, the page is not reloaded.
    page.evaluate("window.__loadedOnce = true")
    page.locator('select[name="kind"]').select_option("product_stuck")
    page.wait_for_url("**/inbox/?kind=product_stuck")
    page.wait_for_function("() => document.querySelectorAll('.inbox__item').length === 1")
    page.get_by_role("link", name="Clear filters").click()
    page.wait_for_function("() => document.querySelectorAll('.inbox__item').length === 2")

    # Mark one read: the item changes in place and the bell follows without a reload.
    page.locator(".inbox__item--unread").first.get_by_role("button", name="Mark read").click()
    page.wait_for_function("() => document.querySelectorAll('.inbox__item--unread').length === 1")
    page.wait_for_function(
        "() => document.querySelector('#inbox-bell .bell__count')?.textContent.trim() === '1'"
    )
    page.get_by_role("button", name="Mark all read").click()
    page.wait_for_function("() => document.querySelectorAll('.inbox__item--unread').length === 0")
    page.wait_for_function("() => !document.querySelector('#inbox-bell .bell__count')")
    assert page.evaluate("window.__loadedOnce") is True

    # The sentence links to its page.
    page.get_by_role("link", name="Pat Lee moved Atlas from Problem to Opportunity.").click()
    page.wait_for_url("**/products/atlas/")

    # Mute Atlas, then follow it again: the pressed button moves in place.
    control = page.locator("#follow-control")
    control.get_by_role("button", name="Mute").click()
    page.wait_for_selector('#follow-control button[value="mute"][aria-pressed="true"]')
    page.locator("#follow-control").get_by_role("button", name="Follow").click()
    page.wait_for_selector('#follow-control button[value="follow"][aria-pressed="true"]')
    screenshot(page, f"follow-{width}")
    page.watch.assert_clean()
