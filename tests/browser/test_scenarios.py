"""A director builds a scenario in the browser (a budget cut, a pause), watches the side-by-side numbers and
chart follow without a page load, and approves it into the live plan."""

from decimal import Decimal

import pytest
from django.utils import timezone

from portfolio.models import Alignment, BudgetLine, KeyResult, Scenario, ScenarioStatus
from portfolio.periods import add_quarters, quarter_start
from products.choices import Role
from tests.browser.conftest import log_in
from tests.factories import KPIFactory, ObjectiveFactory, PortfolioFactory, ProductFactory, UserFactory
from tests.portfolio.strategy_data import score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def plan():
    director = UserFactory(username="dana", first_name="Dana", last_name="Reyes", role=Role.DIRECTOR)
    payments = PortfolioFactory(name="Payments", slug="payments", director=director, budget=Decimal("900000"))
    owner = UserFactory(username="pat", role=Role.PM)
    speed = ObjectiveFactory(portfolio=payments, title="Faster payments", order=1)
    reach = ObjectiveFactory(portfolio=payments, title="More merchants", order=2)
    KeyResult.objects.create(
        objective=speed, title="Conversion to 5%", kpi=KPIFactory(name="Conversion"), target=5
    )
    now = quarter_start(timezone.localdate())
    products = {}
    for name, amount, objective in (
        ("Checkout", 100_000, speed),
        ("Wallet", 40_000, reach),
        ("Ledger", 60_000, speed),
    ):
        product = ProductFactory(name=name, slug=name.lower(), portfolio=payments, owner=owner)
        for offset in (0, 1):
            BudgetLine.objects.create(
                product=product, quarter=add_quarters(now, offset), kind="opex", planned=amount
            )
        Alignment.objects.create(product=product, objective=objective, weight=100)
        score(product)
        products[name] = product
    return products


def scenario_budget(page) -> str:
    return page.locator("[data-scenario-budget]").inner_text()


def test_director_builds_and_approves_a_scenario(page, plan, screenshot):
    log_in(page, "dana")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Strategy").click()
    page.get_by_role("navigation", name="Strategy").get_by_role("link", name="Scenarios").click()
    page.get_by_label("Name").fill("Leaner payments")
    page.get_by_role("button", name="Create scenario").click()
    page.wait_for_url("**/portfolio/scenarios/*/")
    assert scenario_budget(page) == "€400,000"
    page.evaluate("window.__loadedOnce = true")

    page.get_by_label("Scenario budget of Checkout").fill("150000")
    page.get_by_role("button", name="Save budget of Checkout").click()
    page.wait_for_function("() => document.querySelector('[data-scenario-budget]').innerText === '€350,000'")

    page.get_by_role("button", name="Pause Wallet").click()
    page.wait_for_function("() => document.querySelector('[data-scenario-budget]').innerText === '€270,000'")
    page.wait_for_function("() => document.querySelector('[data-scenario-covered]').innerText === '1'")
    assert page.evaluate("window.__loadedOnce") is True  # all in place, no page load
    assert "More merchants" in page.locator("#scenario-summary").inner_text()  # left without funding

    chart = page.locator("[data-figure='funding-figure']")
    chart.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => document.querySelector(\"[data-figure='funding-figure']\").dataset.drawn === 'true'"
    )
    bars = page.evaluate(
        "() => document.querySelector(\"[data-figure='funding-figure']\").data.map(t => t.x.length)"
    )
    assert bars == [2, 2]  # live and scenario, one bar per objective
    screenshot(page, "scenario-built")

    page.get_by_role("link", name="Approve as live plan…").click()
    page.wait_for_load_state()
    # The step names what will change, in view and focused, before anything is applied.
    step = page.locator(".confirm-step")
    assert "Approve “Leaner payments” as the live plan?" in step.inner_text()
    assert page.evaluate("document.activeElement.id") == "confirm-title"
    assert Scenario.objects.get(name="Leaner payments").status == ScenarioStatus.DRAFT
    screenshot(page, "scenario-approve-step")
    step.get_by_role("button", name="Approve as live plan").click()
    page.wait_for_load_state()
    assert "Approved “Leaner payments”" in page.locator(".messages").inner_text()
    scenario = Scenario.objects.get(name="Leaner payments")
    assert scenario.status == ScenarioStatus.APPROVED
    checkout = BudgetLine.objects.filter(product=plan["Checkout"]).order_by("quarter")
    assert [line.planned for line in checkout] == [Decimal("75000.00"), Decimal("75000.00")]
    assert sum(BudgetLine.objects.filter(product=plan["Wallet"]).values_list("planned", flat=True)) == 0
    assert sum(BudgetLine.objects.filter(product=plan["Ledger"]).values_list("planned", flat=True)) == 120_000
    screenshot(page, "scenario-approved")
    page.watch.assert_clean()


STRATEGY_PAGES = {
    "/portfolio/objectives/": 0,
    "/portfolio/investment/": 2,
    "/portfolio/investment/?dimension=objective": 2,
    "/portfolio/priorities/": 1,
    "/portfolio/roadmap/": 0,
    "/portfolio/scenarios/": 0,
}


def test_strategy_pages_draw_their_charts_under_the_csp(page, plan, screenshot):
    from tests.browser.test_csp import RECORD_VIOLATIONS

    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, "dana")
    for path, charts in STRATEGY_PAGES.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        if charts:
            page.wait_for_function(
                f"() => document.querySelectorAll('[data-figure][data-drawn=\"true\"]').length === {charts}"
            )
        assert page.evaluate("window.__cspViolations") == [], path
        if path == "/portfolio/investment/":
            slices = page.evaluate(
                "() => document.querySelector(\"[data-figure='allocation-figure']\").data[0].values"
            )
            this_year = BudgetLine.objects.filter(quarter__year=timezone.localdate().year)
            assert slices == [
                int(sum(this_year.values_list("planned", flat=True)))
            ]  # one portfolio, this year
            screenshot(page, "strategy-investment")
    page.watch.assert_clean()


def test_director_aligns_a_product_in_place(page, plan):
    log_in(page, "dana")
    page.goto("/portfolio/objectives/")
    page.evaluate("window.__loadedOnce = true")
    card = page.locator("article", has=page.get_by_role("heading", name="More merchants"))
    assert "1 product" in card.locator(".objective__facts").inner_text()
    assert not card.get_by_label("Align a product").is_visible()  # folded under the key-result summary
    card.locator("summary").click()
    card.get_by_label("Align a product").fill("ledger")
    card.get_by_label("Weight %").fill("30")
    card.get_by_role("button", name="Align").click()
    page.wait_for_function("() => document.body.innerText.includes('Ledger now serves')")
    card = page.locator("article", has=page.get_by_role("heading", name="More merchants"))
    assert "2 products" in card.locator(".objective__facts").inner_text()
    assert "Ledger" in card.locator(".aligned-list").inner_text()  # the swapped card comes back open
    assert page.evaluate("window.__loadedOnce") is True
    page.watch.assert_clean()
