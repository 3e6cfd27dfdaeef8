"""Every interaction of the main pages, in one catalogue: the browser suite (tests/browser/test_interactions.py)
performs each at 1440 px and at 390 px, and `make audit` (bench/audit.py) prints what each left behind.

An ``Interaction`` starts on a page as one of the demo people, does what a person would (choose a filter, sort,
page, open an edit in place and save it, record, move, delete through the step that asks first, approve...), and
names the region that changed. ``after_interaction`` then reads what a person would notice: console errors,
Content-Security-Policy violations, requests to another host, a page wider than the phone, and whether the
changed region and the focused element are in view.

The catalogue runs in order on one demo (``seed_demo --products 24 --months 3 --seed 1``): a later interaction may
use what an earlier one made (the scenario it approves, the pain point it deletes). ``{product}`` in a path is
the first product the PM owns (in the Problem stage in that demo; `make audit` runs the catalogue on its own
demo, where it may be in another stage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

DEMO = {"products": 24, "months": 3, "seed": 1}
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}

# Recorded from the first script of each document: CSP violations (tests/browser/test_csp.py does the same).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push([event.violatedDirective, event.blockedURI, event.sourceFile, event.lineNumber].join(" | "));
});
"""


@dataclass(frozen=True)
class Interaction:
    name: str
    path: str
    viewer: str
    act: Callable  # (page, product_slug) -> the CSS selector of the region that changed
    open_page: bool = True  # False: carries on from where the previous interaction left the page


def days_ago(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


def settle(page) -> None:
    """Wait until htmx has nothing in flight and the page is quiet."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('.htmx-request')")
    page.wait_for_timeout(50)  # htmx settles (focus, scroll) just after the swap


def _choose(page, selector: str, value: str) -> None:
    page.locator(selector).first.select_option(value)
    settle(page)


# ------------------------------------------------------------------------------------------------ dashboard


def dashboard_filter(page, product):
    _choose(page, "#product-filters select[name=stage]", "mvp")
    return "#dashboard-results"


def dashboard_member_filter(page, product):
    _choose(page, "#product-filters select[name=stage]", "")
    page.locator("#product-filters select[name=member]").select_option(index=1)
    settle(page)
    return "#dashboard-results"


def dashboard_sort(page, product):
    page.locator("#product-table thead").get_by_role("link", name="Health").first.click()
    settle(page)
    return "#product-table"


def dashboard_funnel(page, product):
    page.locator('a[hx-get="/?stage=opportunity"]').first.click()
    settle(page)
    return "#dashboard-results"


def dashboard_page_size(page, product):
    _choose(page, "#product-table select[name=per_page]", "50")
    return "#product-table"


# ------------------------------------------------------------------------------------------------ products


def product_search(page, product):
    page.locator("#product-filters input[name=q]").fill("ledger")
    page.wait_for_timeout(600)  # the search waits for the typing to stop
    settle(page)
    return "#product-table"


def product_list_sort_and_page(page, product):
    page.locator("#product-filters input[name=q]").fill("")
    page.wait_for_timeout(600)
    settle(page)
    page.locator("#product-table thead").get_by_role("link", name="Days").first.click()
    settle(page)
    next_page = page.get_by_role("link", name="Next page")
    if next_page.count():
        next_page.first.click()
        settle(page)
    return "#product-table"


def my_products(page, product):
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My products").click()
    settle(page)
    return "main"


# ------------------------------------------------------------------------------------------------ product page


def product_edit(page, product):
    page.get_by_role("link", name="Edit product").click()
    settle(page)
    page.get_by_label("Description").fill("Cards for small businesses, issued the same day.")
    page.get_by_role("button", name="Save changes").click()
    settle(page)
    page.get_by_text("Saved").first.wait_for()
    return "#product-header"


def product_record(page, product):
    form = page.locator('form[hx-post$="/measurements/"]')
    form.scroll_into_view_if_needed()
    form.get_by_label("Period", exact=True).fill(days_ago(7))
    form.get_by_label("Value", exact=True).fill("1234")
    form.get_by_role("button", name="Record").click()
    settle(page)
    replace = page.get_by_role("button", name="Replace")
    if replace.count():  # the period had a value: the form asks before replacing it
        replace.click()
        settle(page)
    return "#kpis"


def product_history(page, product):
    page.get_by_role("link", name="History").first.click()
    settle(page)
    return "#product-tab"


def _work(page):
    """The lifecycle work section, loaded, with the Problem stage open (it is open already when the product is
    in it)."""
    work = page.locator("#lifecycle-work")
    work.scroll_into_view_if_needed()
    page.locator("details#work-problem").wait_for()
    settle(page)
    if not page.locator("details#work-problem[open]").count():
        page.locator("#work-problem > summary").click()
    return work


def work_add(page, product):
    work = _work(page)
    block = work.locator("#work-block-pain-points")
    block.locator(".work-add > a").click()
    settle(page)
    block.locator("form").get_by_label("Description").fill("Card limits take a week to change")
    block.get_by_role("button", name="Add", exact=True).click()
    settle(page)
    return "#lifecycle-work"


def work_edit(page, product):
    entry = page.locator("#work-block-pain-points .work-entry", has_text="Card limits take a week").first
    entry.get_by_role("link", name="Edit").click()
    settle(page)
    form = page.locator("#work-block-pain-points form.work-form").first
    form.get_by_label("Description").fill("Card limits take a week to change, by phone only")
    form.get_by_role("button", name="Save").click()
    settle(page)
    return "#lifecycle-work"


def work_delete(page, product):
    entry = page.locator("#work-block-pain-points .work-entry", has_text="by phone only").first
    entry.get_by_role("link", name="Delete").click()
    settle(page)
    page.locator(".confirm__question", has_text="Delete the pain point").wait_for()
    page.get_by_role("button", name="Delete pain point").click()
    settle(page)
    return "#lifecycle-work"


def work_move_refused(page, product):
    _work(page)
    page.locator("#work-move-to").select_option(index=0)  # the next stage: its gate is not met yet
    page.get_by_role("button", name="Move stage").click()
    settle(page)
    return "#lifecycle-work"


# ------------------------------------------------------------------------------------------------ lifecycle


def board_filter(page, product):
    _choose(page, "#product-filters select[name=portfolio]", "payments")
    return "#board-region"


def board_move(page, product):
    card = page.locator(f"#card-{product}")
    card.scroll_into_view_if_needed()
    card.locator("summary", has_text="Move").click()
    card.locator('select[name="to"]').select_option(index=0)
    card.get_by_role("button", name="Move", exact=True).click()
    settle(page)
    return "#board-region"


def analytics_filter(page, product):
    _choose(page, "select[name=portfolio]", "payments")
    return "#analytics-results"


# ------------------------------------------------------------------------------------------------ rollups


def rollups_dimension(page, product):
    _choose(page, "#rollup-filters select[name=dimension]", "stage")
    return "#rollups-results"


def rollups_grain(page, product):
    _choose(page, "#rollup-filters select[name=grain]", "quarter")
    return "#rollups-results"


def rollups_drilldown(page, product):
    page.locator(".scorecard__link").first.click()
    settle(page)
    return "#rollup-cell"


def rollups_trend_chart(page, product):
    page.locator("select[name=chart]").select_option(index=1)
    settle(page)
    return "#rollup-trend"


# ------------------------------------------------------------------------------------------------ strategy


def objectives_status(page, product):
    _choose(page, "#strategy-filters select[name=status]", "on_target")
    _choose(page, "#strategy-filters select[name=status]", "")
    return "#objectives-results"


def objectives_align(page, product):
    card = page.locator("#objectives-results article").first
    card.locator("summary").first.click()
    card.get_by_label("Align a product").fill(product)
    card.get_by_label("Weight %").fill("30")
    card.get_by_role("button", name="Align").click()
    settle(page)
    return "#objectives-results"


def investment_dimension(page, product):
    _choose(page, "#strategy-filters select[name=dimension]", "objective")
    return "#investment-results"


def budget_line_save_and_delete(page, product):
    page.goto(f"/portfolio/investment/{product}/")
    row = page.locator("#budget-lines tbody tr").first
    row.locator("input[name=planned]").fill("12500")
    row.get_by_role("button", name="Save").click()
    settle(page)
    page.locator("#budget-lines tbody tr").first.get_by_role("link", name="Delete").click()
    settle(page)
    page.locator(".confirm__question", has_text="Delete the").wait_for()
    page.get_by_role("button", name="Delete line").click()
    settle(page)
    return "#budget-lines"


def priority_edit(page, product):
    page.locator(f"#priority-{product}").get_by_role("link", name="Edit").click()
    settle(page)
    row = page.locator(f"#priority-{product}")
    row.locator("input[name=reach]").fill("4200")
    row.get_by_role("button", name="Save").click()
    settle(page)
    return f"#priority-{product}"


def priority_rank(page, product):
    _choose(page, "#strategy-filters select[name=rank]", "wsjf")
    return "#priorities-results"


def roadmap_late(page, product):
    page.locator("#strategy-filters input[name=late]").check()
    settle(page)
    return "#roadmap-results"


def scenario_create_and_change(page, product):
    # Named for the screen: `make audit` runs the catalogue twice on one demo, and a name is used once.
    page.get_by_label("Name").fill(f"Leaner Payments at {page.viewport_size['width']} px")
    page.locator("select[name=portfolio]").first.select_option("payments")
    page.get_by_role("button", name="Create").first.click()
    settle(page)
    line = page.locator("#scenario-lines tbody tr").first
    line.locator("input[name=planned]").fill("1000")
    line.get_by_role("button", name="Save").click()
    settle(page)
    return "#scenario-lines"


def scenario_approve(page, product):
    page.get_by_role("link", name="Approve as live plan…").click()
    settle(page)
    page.locator(".confirm-step").wait_for()
    page.locator(".confirm-step").get_by_role("button", name="Approve as live plan").click()
    settle(page)
    return "main"


def measurements_page(page, product):
    page.get_by_role("link", name="Next page").first.click()
    settle(page)
    return "#measurement-table"


def import_check_and_apply(page, product):
    text = f"product,kpi,period,value,target\n{product},Revenue,{days_ago(14)},4321,\n"
    page.get_by_label("What the file holds").select_option("measurements")
    page.get_by_label("CSV file").set_input_files(
        {"name": "revenue.csv", "mimeType": "text/csv", "buffer": text.encode()}
    )
    page.get_by_role("button", name="Check file").click()
    settle(page)
    page.get_by_role("button", name="Apply the import").click()
    settle(page)
    page.get_by_role("heading", name="Imported: 1 row").wait_for()
    return "main"


INTERACTIONS = [
    Interaction("dashboard: filter by stage", "/", "director", dashboard_filter),
    Interaction("dashboard: filter by member", "/", "director", dashboard_member_filter, open_page=False),
    Interaction("dashboard: sort by health", "/", "director", dashboard_sort, open_page=False),
    Interaction("dashboard: funnel stage", "/", "director", dashboard_funnel),
    Interaction("dashboard: rows per page", "/", "director", dashboard_page_size),
    Interaction("products: search", "/products/", "director", product_search),
    Interaction(
        "products: sort and page", "/products/", "director", product_list_sort_and_page, open_page=False
    ),
    Interaction("my products", "/", "pm", my_products),
    Interaction("product: edit in place", "/products/{product}/", "pm", product_edit),
    Interaction("product: record a measurement", "/products/{product}/", "pm", product_record),
    Interaction("product: history", "/products/{product}/", "pm", product_history),
    Interaction("product: add a work product", "/products/{product}/", "pm", work_add),
    Interaction("product: edit a work product", "/products/{product}/", "pm", work_edit, open_page=False),
    Interaction("product: delete a work product", "/products/{product}/", "pm", work_delete, open_page=False),
    Interaction("product: refused stage move", "/products/{product}/", "pm", work_move_refused),
    Interaction("board: filter", "/lifecycle/board/", "director", board_filter),
    Interaction("analytics: filter", "/lifecycle/analytics/", "director", analytics_filter),
    Interaction("rollups: dimension", "/portfolio/rollups/", "director", rollups_dimension),
    Interaction("rollups: grain", "/portfolio/rollups/", "director", rollups_grain, open_page=False),
    Interaction("rollups: drill down", "/portfolio/rollups/", "director", rollups_drilldown, open_page=False),
    Interaction("rollups: trend chart", "/portfolio/rollups/", "director", rollups_trend_chart),
    Interaction("objectives: filter by status", "/portfolio/objectives/", "director", objectives_status),
    Interaction("objectives: align a product", "/portfolio/objectives/", "director", objectives_align),
    Interaction("investment: by objective", "/portfolio/investment/", "director", investment_dimension),
    Interaction(
        "budget: save and delete a line", "/portfolio/investment/", "director", budget_line_save_and_delete
    ),
    Interaction("priorities: edit scores", "/portfolio/priorities/", "director", priority_edit),
    Interaction("priorities: rank by WSJF", "/portfolio/priorities/", "director", priority_rank),
    Interaction("roadmap: late only", "/portfolio/roadmap/", "director", roadmap_late),
    Interaction(
        "scenario: create and change", "/portfolio/scenarios/", "director", scenario_create_and_change
    ),
    Interaction("scenario: approve", "/portfolio/scenarios/", "director", scenario_approve, open_page=False),
    Interaction("measurements: next page", "/portfolio/measurements/", "director", measurements_page),
    Interaction("import: check and apply", "/portfolio/imports/", "pm", import_check_and_apply),
    Interaction("board: move a card", "/lifecycle/board/", "pm", board_move),
]


def after_interaction(page, region: str, *, phone: bool) -> dict:
    """What the interaction left: CSP violations since the page loaded (cleared), overflow on a phone, and
    whether the changed region and the focused element are in view."""
    return page.evaluate(
        """([region, phone]) => {
            const inView = (element) => {
                if (!element) return false;
                const box = element.getBoundingClientRect();
                return box.bottom > 0 && box.top < window.innerHeight && box.right > 0 && box.left < window.innerWidth;
            };
            const changed = document.querySelector(region);
            const focused = document.activeElement;
            const violations = window.__cspViolations || [];
            window.__cspViolations = [];
            return {
                csp: violations,
                overflow: phone ? Math.max(0, document.documentElement.scrollWidth - window.innerWidth) : 0,
                region_in_view: inView(changed),
                focus_in_view: !focused || focused === document.body || inView(focused),
                focused: focused ? focused.tagName.toLowerCase() + (focused.id ? "#" + focused.id : "") +
                    (focused.name ? "[name=" + focused.name + "]" : "") : "",
                scroll_y: Math.round(window.scrollY),
            };
        }""",
        [region, phone],
    )
