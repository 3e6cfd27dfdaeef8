"""A junior PM hears that a product they work on moved, reads it from the bell, filters the inbox, marks
notifications read in place (the bell follows without a reload), and mutes and follows a product from its page;
on a desktop and on a phone."""

from urllib.parse import urlsplit

import pytest

from lifecycle.services import product_move_stage
from portfolio.alerts.services import products_stuck_notify
from products.choices import Role, Stage
from products.models import Product
from tests.browser.conftest import PageWatch, log_in
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


@pytest.mark.parametrize("width", [1440, 390])
def test_choosing_how_to_hear_by_email_then_unsubscribing_from_a_mail_without_signing_in(
    page, browser, live_server, news, screenshot, width
):
    from portfolio.alerts.mail import unsubscribe_token
    from portfolio.models import AlertSettings
    from products.models import User

    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "jo")
    page.goto("/inbox/")
    page.get_by_role("link", name="Email and digest settings").click()
    page.wait_for_url("**/inbox/settings/")
    assert page.get_by_label("Gate overridden").input_value() == "immediate"  # the default: someone must act
    assert page.get_by_label("Stage move").input_value() == "digest"

    # A careless half of the quiet hours: refused, nothing saved, every choice kept.
    page.get_by_label("Digest").select_option("weekly")
    page.get_by_label("Time zone").select_option("Europe/Berlin")
    page.get_by_label("Stage move").select_option("immediate")
    page.get_by_label("Quiet hours from").fill("22:00")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_selector("text=Give both ends of the quiet hours, or neither.")
    assert page.get_by_label("Digest").input_value() == "weekly"
    assert page.get_by_label("Stage move").input_value() == "immediate"
    assert not AlertSettings.objects.exists()
    screenshot(page, f"alert-settings-refused-{width}")

    page.get_by_label("Quiet hours until").fill("07:00")
    page.get_by_role("button", name="Save settings").click()
    page.wait_for_selector("text=Saved: this is how you hear from now on.")
    prefs = AlertSettings.objects.get(user__username="jo")
    assert (prefs.digest, prefs.time_zone, prefs.modes) == (
        "weekly",
        "Europe/Berlin",
        {"stage_moved": "immediate"},
    )
    assert page.get_by_label("Quiet hours until").input_value() == "07:00"
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    screenshot(page, f"alert-settings-{width}")
    page.watch.assert_clean()

    # The mail's unsubscribe link, opened where nobody is signed in.
    jo = User.objects.get(username="jo")
    context = browser.new_context(viewport={"width": width, "height": 900}, base_url=live_server.url)
    anonymous = context.new_page()
    watch = PageWatch(anonymous, urlsplit(live_server.url).netloc)
    anonymous.goto(f"/unsubscribe/{unsubscribe_token(jo.pk, jo.email)}/")
    anonymous.get_by_role("button", name="Unsubscribe").click()
    anonymous.wait_for_selector(f"text=No more email goes to {jo.email}")
    assert AlertSettings.objects.get(user=jo).email_enabled is False
    screenshot(anonymous, f"unsubscribed-{width}")
    watch.assert_clean()
    context.close()


@pytest.mark.parametrize("width", [1440, 390])
def test_following_and_muting_a_kpi_from_the_kpi_page(page, news, screenshot, width):
    from portfolio.models import Follow
    from tests.factories import KPIFactory

    revenue = KPIFactory(name="Revenue")
    KPIFactory(name="Uptime")
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "jo")
    page.goto("/portfolio/kpis/")
    control = page.locator(f"#follow-kpi-{revenue.pk}")
    control.get_by_role("button", name="Follow").click()
    page.wait_for_selector(f'#follow-kpi-{revenue.pk} button[value="follow"][aria-pressed="true"]')
    assert Follow.objects.get(user__username="jo", kpi=revenue).muted is False
    page.locator(f"#follow-kpi-{revenue.pk}").get_by_role("button", name="Mute").click()
    page.wait_for_selector(f'#follow-kpi-{revenue.pk} button[value="mute"][aria-pressed="true"]')
    assert Follow.objects.get(user__username="jo", kpi=revenue).muted is True
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    screenshot(page, f"kpi-follow-{width}")
    assert widths[0] <= widths[1], widths
    page.watch.assert_clean()
