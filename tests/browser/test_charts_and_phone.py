"""What a person sees of the charts and on a phone (issue 15): no chart offers to send data off the machine or adds
buttons to the tab order, a chart that grows with its rows keeps inside its card, a log axis reads as numbers,
no main page is wider than a 390 px phone, and focus follows a form opened in place."""

import pytest
from django.core.management import call_command

from portfolio.strategy.charts import EFFORT_TICKS
from tests.browser.conftest import log_in
from tests.browser.main_pages import MAIN_PAGES, page_resolves

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "charts-and-phone-password"
CHART_PAGES = [
    "/products/{product}/",
    "/lifecycle/analytics/",
    "/portfolio/rollups/",
    "/portfolio/investment/",
    "/portfolio/priorities/",
    "/portfolio/roadmap/",
]


@pytest.fixture
def demo(settings):
    settings.SPM_DEMO_PASSWORD = PASSWORD
    call_command("seed_demo", products=24, months=3, seed=1, verbosity=0)
    from products.models import Product

    return Product.objects.filter(owner__username="pm").order_by("pk").first()


def draw_every_chart(page) -> None:
    """Scroll each chart into view (those below the fold are drawn when they come near) and wait for it."""
    for chart in page.locator("[data-figure]").all():
        chart.scroll_into_view_if_needed()
        page.wait_for_function("e => e.getAttribute('data-drawn') === 'true'", arg=chart.element_handle())


def test_charts_have_no_mode_bar_no_share_link_and_stay_inside_their_cards(page, demo, screenshot):
    log_in(page, "admin", PASSWORD)
    page.set_viewport_size({"width": 1440, "height": 900})
    for path in CHART_PAGES:
        page.goto(path.format(product=demo.slug))
        draw_every_chart(page)
        found = page.evaluate(
            """() => ({
                charts: document.querySelectorAll('[data-figure][data-drawn]').length,
                modebars: document.querySelectorAll('.modebar-btn, .modebar-group').length,
                focusable: document.querySelectorAll(
                    '[data-figure] a, [data-figure] button, [data-figure] [tabindex]').length,
                cloud: /plot\\.ly|chart-studio|plotly\\.com/i.test(document.body.innerHTML),
                spilled: [...document.querySelectorAll('[data-figure] .main-svg')].filter(svg => {
                    const chart = svg.closest('[data-figure]').getBoundingClientRect();
                    return svg.getBoundingClientRect().height > chart.height + 1;
                }).length,
            })"""
        )
        assert found["charts"] >= 1, path
        assert (found["modebars"], found["focusable"], found["cloud"], found["spilled"]) == (
            0,
            0,
            False,
            0,
        ), path
        page.watch.assert_clean()
    # The roadmap's timeline is as tall as its rows, its date axis inside the card above the Entries.
    page.goto("/portfolio/roadmap/")
    draw_every_chart(page)
    timeline = page.locator("[data-figure='timeline-figure']").bounding_box()
    drawn = page.locator("[data-figure='timeline-figure'] .main-svg").first.bounding_box()
    entries = page.locator("#entries-title").bounding_box()
    assert abs(drawn["height"] - timeline["height"]) <= 1  # the box follows the rows, whatever their number
    assert timeline["y"] + timeline["height"] < entries["y"]
    screenshot(page, "charts-roadmap-1440")


def test_the_log_axis_of_value_against_effort_reads_as_plain_numbers(page, demo):
    log_in(page, "admin", PASSWORD)
    page.goto("/portfolio/priorities/")
    draw_every_chart(page)
    ticks = page.locator("[data-figure] .xtick text").evaluate_all("els => els.map(e => e.textContent)")
    allowed = {f"{tick:g}" for tick in EFFORT_TICKS}
    assert ticks
    assert set(ticks) <= allowed, ticks
    numbers = [float(tick) for tick in ticks]
    assert numbers == sorted(set(numbers))  # rising, no "… 8 9 1 2 3" minor-tick labels
    labels = page.locator("[data-figure] .textpoint text").evaluate_all("els => els.map(e => e.textContent)")
    assert labels
    assert labels[0].startswith("#1 ")


@pytest.mark.parametrize("main_page", [p for p in MAIN_PAGES if p.signed_in], ids=lambda p: p.name)
def test_no_main_page_is_wider_than_a_phone(browser, live_server, demo, main_page, screenshot):
    if not page_resolves(main_page.path):
        pytest.skip(f"{main_page.path} is not built yet")
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, base_url=live_server.url
    )
    page = context.new_page()
    try:
        log_in(page, "admin", PASSWORD)
        page.goto(main_page.path.format(product=demo.slug))
        page.wait_for_load_state("networkidle")
        width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= 390, (main_page.path, width)
        # Every section of the top bar is in view: none hidden in a strip that scrolls sideways.
        hidden = page.evaluate(
            """() => [...document.querySelectorAll('.topbar__nav a')]
                .filter(a => a.getBoundingClientRect().right > window.innerWidth).map(a => a.textContent.trim())"""
        )
        assert hidden == [], hidden
        if main_page.name in {"product", "lifecycle-analytics", "dashboard"}:
            screenshot(page, f"phone-{main_page.name}-390")
    finally:
        context.close()


def test_a_work_form_opened_in_place_has_the_focus_and_is_in_view(page, demo):
    log_in(page, "pm", PASSWORD)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/products/{demo.slug}/")
    work = page.locator("#lifecycle-work")
    work.scroll_into_view_if_needed()
    opener = page.locator("details.work-stage[open] .work-add > a").first
    opener.wait_for()
    opener.click()
    page.locator("details.work-add[open] form").first.wait_for()
    page.wait_for_function("() => document.activeElement && document.activeElement !== document.body")
    focused = page.evaluate(
        """() => { const e = document.activeElement; const r = e.getBoundingClientRect();
                   return {inForm: !!e.closest('form.work-form'), tag: e.tagName,
                           inView: r.top >= 0 && r.bottom <= window.innerHeight}; }"""
    )
    assert focused["inForm"], focused
    assert focused["tag"] in {"INPUT", "SELECT", "TEXTAREA"}, focused
    assert focused["inView"], focused
    page.watch.assert_clean()
