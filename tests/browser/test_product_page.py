"""A PM opens a product, sees its charts drawn, edits it inline and records a measurement, in Chromium."""

import datetime as dt

import pytest

from portfolio.models import Measurement
from products.choices import Role
from tests.browser.conftest import log_in
from tests.factories import KPIFactory, ProductFactory, StageTransitionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owned_product():
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Park", role=Role.PM)
    product = ProductFactory(name="Beacon Payouts", slug="beacon-payouts", owner=owner, stage="mvp")
    StageTransitionFactory(product=product, from_stage="", to_stage="mvp")
    revenue = KPIFactory(name="Revenue", unit="€", default_target=120.0, is_key=True)
    start = dt.date(2026, 6, 1)
    Measurement.objects.bulk_create(
        Measurement(product=product, kpi=revenue, period=start + dt.timedelta(weeks=i), value=100.0 + i)
        for i in range(12)
    )
    return product


def test_charts_render_then_inline_edit_and_record_a_measurement(page, owned_product, screenshot):
    log_in(page, "olivia")
    page.goto("/products/beacon-payouts/")
    page.locator("#trends-title").scroll_into_view_if_needed()
    chart = page.locator(f'[data-figure="figure-{owned_product.measurements.first().kpi_id}"]')
    chart.locator(".main-svg").first.wait_for()
    # Twelve weekly values are plotted as twelve markers on the value line.
    assert chart.locator(".scatterlayer .trace").last.locator(".point").count() == 12
    screenshot(page, "product-page")

    page.goto("/products/beacon-payouts/")
    page.get_by_role("link", name="Edit product").click()
    page.get_by_label("Name").fill("Beacon Payouts EU")
    page.get_by_label("Name").fill("   ")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("This field is required.").wait_for()
    page.get_by_label("Name").fill("Beacon Payouts EU")
    page.get_by_role("button", name="Save changes").click()
    page.get_by_text("Saved Beacon Payouts EU.").wait_for()
    assert page.locator("h1").inner_text() == "Beacon Payouts EU"
    assert page.get_by_role("link", name="Budget lines").count() == 1  # money is changed on the budget page

    page.get_by_label("Period", exact=True).fill("2026-09-02")
    page.get_by_label("Value", exact=True).fill("131")
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Recorded Revenue = €131 for the week of 31 Aug 2026.").wait_for()
    assert Measurement.objects.get(product=owned_product, period=dt.date(2026, 8, 31)).value == 131
    # The swapped region redraws its chart with the new point.
    page.locator("#trends-title").scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-figure] .scatterlayer .trace:last-child .point').length === 13"
    )
    screenshot(page, "product-page-recorded")

    # The same week again with another value: the form asks first, naming the value it would replace.
    page.get_by_label("Period", exact=True).fill("2026-09-03")
    page.get_by_label("Value", exact=True).fill("140")
    page.get_by_role("button", name="Record").click()
    page.get_by_text("The week of 31 Aug 2026 already has Revenue = €131").wait_for()
    assert Measurement.objects.get(product=owned_product, period=dt.date(2026, 8, 31)).value == 131
    screenshot(page, "product-page-replace")
    page.get_by_role("button", name="Replace").click()
    page.get_by_text("Recorded Revenue = €140 for the week of 31 Aug 2026.").wait_for()
    assert Measurement.objects.get(product=owned_product, period=dt.date(2026, 8, 31)).value == 140
    page.watch.assert_clean()
