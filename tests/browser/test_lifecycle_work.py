"""A PM fills in a stage's work on the product page until its gate opens and moves the product on; on the board
a director overrides an unmet gate with a reason; the director reads the lifecycle analytics."""

import datetime as dt

import pytest
from django.utils import timezone

from lifecycle.models import StageTransition
from products.choices import Role
from products.models import Product
from tests.browser.conftest import log_in
from tests.factories import PortfolioFactory, ProductFactory, StageTransitionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def atlas():
    director = UserFactory(username="dana", first_name="Dana", last_name="Reyes", role=Role.DIRECTOR)
    portfolio = PortfolioFactory(name="Payments", slug="payments", director=director)
    owner = UserFactory(username="rosa", first_name="Rosa", last_name="Diaz", role=Role.PM)
    product = ProductFactory(
        name="Atlas Pay", slug="atlas-pay", owner=owner, portfolio=portfolio, stage="problem"
    )
    StageTransitionFactory(
        product=product, from_stage="", to_stage="problem", at=timezone.now() - dt.timedelta(days=30)
    )
    return product


def add(section, block: str, fields: dict[str, str], button: str = "Add") -> None:
    """Open a work block's add form, fill it and submit; wait for the section to come back."""
    block_locator = section.locator(f"#work-block-{block}")
    if block_locator.locator("details.work-add[open]").count() == 0:
        block_locator.locator(".work-add > a").click()  # the form loads in place
        block_locator.locator("details.work-add[open] form").wait_for()
    for label, value in fields.items():
        field = block_locator.locator("form.work-form").get_by_label(label, exact=False).first
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    block_locator.get_by_role("button", name=button, exact=True).click()


def test_a_pm_ticks_through_the_problem_gate_and_moves_the_product(page, atlas, screenshot):
    log_in(page, "rosa")
    page.goto("/products/atlas-pay/")
    work = page.locator("#lifecycle-work")
    work.scroll_into_view_if_needed()
    page.locator("details#work-problem[open]").wait_for()  # the whole section loaded in place
    assert "0/4 criteria met" in page.locator("#work-problem .work-stage__gate").inner_text()

    add(
        page,
        "problem-statement",
        {"Problem statement": "Finance teams chase unpaid invoices by hand."},
        "Save",
    )
    page.get_by_text("Saved problem statement").wait_for()
    add(page, "pain-points", {"Description": "Matching payments takes days", "Severity": "high"})
    page.get_by_text("Saved pain point: Matching payments takes days.").wait_for()
    add(page, "pain-points", {"Description": "Late fees from missed reminders", "Severity": "critical"})
    page.get_by_text("Saved pain point: Late fees from missed reminders.").wait_for()
    assert "3/4 criteria met" not in page.locator("#work-problem .work-stage__gate").inner_text()
    add(page, "personas", {"Name": "Finance lead"})
    page.get_by_text("Saved persona: Finance lead.").wait_for()
    assert page.locator("#work-problem .work-stage__gate").inner_text() == "3/4 criteria met"

    # Moving on now is refused, with the unmet criterion named.
    page.locator("#work-move-to").select_option("opportunity")
    page.get_by_role("button", name="Move stage").click()
    page.get_by_text("Atlas Pay is not ready to leave Problem: 1 criterion unmet").wait_for()
    assert Product.objects.get(slug="atlas-pay").stage == "problem"

    add(page, "competitors", {"Name": "Legacy ERP", "Gap in the market": "No self-service for small teams"})
    page.get_by_text("Saved competitor: Legacy ERP.").wait_for()
    assert page.locator("#work-problem .work-stage__gate").inner_text() == "4/4 criteria met"
    assert "4 of 4" in page.locator(".work__current .gate__summary").inner_text()
    screenshot(page, "lifecycle-work-gate-met")

    page.locator("#work-move-to").select_option("opportunity")
    page.get_by_role("button", name="Move stage").click()
    page.locator("#product-header").get_by_text("Moved Atlas Pay from Problem to Opportunity.").wait_for()
    assert Product.objects.get(slug="atlas-pay").stage == "opportunity"
    page.locator("details#work-opportunity[open]").wait_for()
    assert "Gate to leave Opportunity" in page.locator(".work__current").inner_text()

    # A closed stage's work is added the same way.
    page.locator("#work-research > summary").click()
    add(page, "hypotheses", {"Statement": "Reminders cut late fees", "Outcome": "validated"})
    page.get_by_text("Saved hypothesis: Reminders cut late fees.").wait_for()
    assert "1 of 1 hypothesis validated." in page.locator("#work-research").inner_text()
    page.watch.assert_clean()


def test_a_director_overrides_an_unmet_gate_on_the_board(page, atlas, screenshot):
    log_in(page, "dana")
    page.goto("/lifecycle/board/")
    card = page.locator("#card-atlas-pay")
    assert "0/4 criteria met" in card.locator(".kgate__summary").inner_text()
    card.locator("summary", has_text="Move").click()
    card.locator('select[name="to"]').select_option("opportunity")
    card.get_by_role("button", name="Move", exact=True).click()
    card = page.locator("#card-atlas-pay")
    card.locator(".kmove__gate").wait_for()
    assert card.locator(".kmove__gate .gate-list__item").count() == 4
    card.locator('textarea[name="override_reason"]').fill("Board wants the sizing before the research budget")
    screenshot(page, "board-gate-override")
    card.get_by_role("button", name="Move", exact=True).click()
    page.get_by_text("Moved Atlas Pay from Problem to Opportunity.").wait_for()
    page.get_by_text("Gate overridden").wait_for()
    transition = StageTransition.objects.filter(product__slug="atlas-pay").latest("at")
    assert transition.gate_overridden
    assert transition.override_reason == "Board wants the sizing before the research budget"
    assert len(transition.unmet_criteria) == 4

    # The analytics count it, and draw the cumulative flow with one band per stage.
    page.goto("/lifecycle/analytics/")
    page.locator('[data-figure="analytics-flow"]').scroll_into_view_if_needed()  # drawn as it comes into view
    page.locator('[data-figure="analytics-flow"] .main-svg').first.wait_for()
    assert page.locator("#overrides-title").is_visible()
    assert "Atlas Pay" in page.locator(".overrides").inner_text()
    bands = page.locator('[data-figure="analytics-flow"] .scatterlayer .trace').count()
    assert bands == 7
    bars = page.locator('[data-figure="analytics-funnel"] .bars .point').count()
    assert bars == 7
    screenshot(page, "lifecycle-analytics")

    # A filter swaps the results in place and keeps the URL shareable.
    page.locator("#id_market").select_option("b2c")
    page.wait_for_url("**/lifecycle/analytics/?*market=b2c*")
    page.get_by_text("0 products · window").wait_for()
    assert "Atlas Pay" not in page.locator("#analytics-results").inner_text()
    page.watch.assert_clean()
