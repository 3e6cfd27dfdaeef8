"""A director answers "which KPIs got worse, where, and because of which products" in three clicks."""

import pytest

from tests.browser.conftest import log_in
from tests.portfolio.director_data import build_director_org

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1440, 390])
def test_from_the_menu_to_the_product_that_caused_a_fall_in_three_clicks(page, screenshot, width):
    build_director_org()
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "dora")

    # 1. The director view, from the main navigation.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Rollups").click()
    changes = page.locator("#changes-title").locator("xpath=ancestor::section")
    changes.get_by_text("Revenue", exact=False).first.wait_for()
    assert "Alpha" in changes.inner_text()  # where: Alpha's revenue went from on target to off target
    assert "per week: 3 weeks vs 4 in Oct 2026" in page.locator(".scorecard").inner_text()  # like for like

    # 2. The change itself: its drill-down opens in place.
    changes.get_by_role("link").filter(has_text="Alpha").first.click()
    cell = page.locator("#rollup-cell")
    cell.get_by_text("Moved it most the worse way since Oct 2026").wait_for()

    # 3. Ordered by what changed it: the product that caused the fall comes first.
    cell.get_by_role("link", name="What changed it most first").click()
    page.locator('#rollup-cell [aria-current="true"]', has_text="What changed it most first").wait_for()
    first = page.locator("#rollup-cell tbody tr").first.inner_text()
    assert "Alpha One" in first
    assert "\N{MINUS SIGN}€70" in first  # its contribution: the fall it caused, per week
    screenshot(page, f"director-view-cause-{width}")
    page.watch.assert_clean()
