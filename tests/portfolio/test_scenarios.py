"""Scenarios: the copy, changes, the side-by-side summary, approval applying exactly its changes, refusal when
the live plan moved unless confirmed, and who may do what.

Today is 16 May 2026: a scenario plans Q2 2026 to Q1 2027. In the world (tests/portfolio/strategy_data.py) the
Payments portfolio plans Checkout 200k there (Q2 100k, Q3 100k opex) and Wallet 20k (Q2 capex).
"""

from decimal import Decimal

import pytest

from portfolio.models import Alignment, BudgetLine, PlanChange, Scenario, ScenarioStatus
from portfolio.strategy.rules import LivePlanChanged, ScenarioRefused
from portfolio.strategy.selectors.scenarios import scenario_summary
from portfolio.strategy.services.budgets import budget_line_set
from portfolio.strategy.services.scenarios import (
    scenario_add_product,
    scenario_approve,
    scenario_change_budget,
    scenario_create_from_live,
    scenario_pause_product,
)
from products.choices import Focus, Market, Stage
from products.models import Product
from tests.factories import ProductFactory
from tests.portfolio.strategy_data import TODAY, YEAR, build_world, line


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def scenario(world):
    return scenario_create_from_live(name="Cut", portfolio=world.payments, by=world.director, today=TODAY)


def lines_of(scenario):
    return {
        line.product.slug if line.product else line.new_name: line
        for line in scenario.lines.select_related("product")
    }


def budget_state() -> dict:
    return {
        (product, quarter.isoformat(), kind): (planned, actual)
        for product, quarter, kind, planned, actual in BudgetLine.objects.values_list(
            "product__slug", "quarter", "kind", "planned", "actual"
        )
    }


def test_a_copy_holds_each_products_money_over_the_next_four_quarters(scenario):
    lines = lines_of(scenario)
    assert set(lines) == {"checkout", "wallet"}  # Payments only
    assert lines["checkout"].base_planned == lines["checkout"].planned == 200_000
    assert lines["wallet"].planned == 20_000
    assert scenario.status == ScenarioStatus.DRAFT
    assert str(scenario.horizon_start) == "2026-04-01"


def test_summary_side_by_side(world, scenario):
    lines = lines_of(scenario)
    scenario_change_budget(scenario=scenario, line=lines["checkout"], planned=Decimal("150000"))
    scenario_pause_product(scenario=scenario, line=lines["wallet"])
    scenario_add_product(
        scenario=scenario,
        name="Payouts",
        portfolio=world.payments,
        owner=world.pm,
        market=Market.B2B,
        focus=Focus.BUSINESS,
        objective=world.reach,
        planned=Decimal("40000"),
    )
    summary = scenario_summary(scenario=scenario)
    assert summary.live.budget == 220_000
    assert summary.proposed.budget == 190_000
    assert summary.ceiling == 1_000_000
    assert summary.live.covered == {world.speed.pk, world.reach.pk}
    assert summary.proposed.covered == {world.speed.pk, world.reach.pk}
    assert (summary.proposed.paused_products, summary.proposed.new_products, summary.changed_lines) == (
        1,
        1,
        3,
    )
    # RICE: Checkout 500, Wallet 400; effort 4 and 1 person-months.
    assert (summary.live.value, summary.proposed.value) == (900, 500)
    assert (summary.live.effort, summary.proposed.effort) == (5, 4)
    funding = {item.objective.title: item for item in summary.objectives}
    assert funding["Faster payments"].live == 200_000 * Decimal("0.6") + 20_000 * Decimal("0.5")
    assert funding["Faster payments"].scenario == 90_000
    assert funding["More merchants"].scenario == 60_000 + 40_000
    assert funding["Grow retention"].expected.startswith("unfunded")


def test_pausing_the_only_product_of_an_objective_loses_it(world, scenario):
    lines = lines_of(scenario)
    scenario_pause_product(scenario=scenario, line=lines["checkout"])
    summary = scenario_summary(scenario=scenario)
    assert [item.objective for item in summary.lost_objectives] == [world.reach]


def test_approval_applies_exactly_its_changes_and_nothing_else(world, scenario):
    lines = lines_of(scenario)
    scenario_change_budget(scenario=scenario, line=lines["checkout"], planned=Decimal("150000"))
    scenario_pause_product(scenario=scenario, line=lines["wallet"])
    scenario_add_product(
        scenario=scenario,
        name="Payouts",
        portfolio=world.payments,
        owner=world.pm,
        market=Market.B2B,
        focus=Focus.BUSINESS,
        objective=world.reach,
        planned=Decimal("40000"),
    )
    before = budget_state()
    products_before = set(Product.objects.values_list("slug", flat=True))
    change = scenario_approve(scenario=scenario, by=world.director)
    after = budget_state()
    expected = dict(before)
    # Checkout's two horizon lines scale from 200k to 150k; Q1 (before the horizon) keeps its plan.
    expected[("checkout", "2026-04-01", "opex")] = (
        Decimal("75000.00"),
        before[("checkout", "2026-04-01", "opex")][1],
    )
    expected[("checkout", "2026-07-01", "opex")] = (Decimal("75000.00"), Decimal("0.00"))
    expected[("wallet", "2026-04-01", "capex")] = (Decimal("0.00"), Decimal("0.00"))
    for quarter in ("2026-04-01", "2026-07-01", "2026-10-01", "2027-01-01"):
        expected[("payouts", quarter, "opex")] = (Decimal("10000.00"), Decimal("0.00"))
    assert after == expected
    assert set(Product.objects.values_list("slug", flat=True)) == products_before | {"payouts"}
    payouts = Product.objects.get(slug="payouts")
    assert (payouts.stage, payouts.owner, payouts.portfolio) == (Stage.PROBLEM, world.pm, world.payments)
    assert list(Alignment.objects.filter(product=payouts).values_list("objective", "weight")) == [
        (world.reach.pk, 100)
    ]
    world.checkout.refresh_from_db()
    assert world.checkout.planned_budget == 300_000  # Q1 150k + 75k + 75k
    scenario.refresh_from_db()
    assert (scenario.status, scenario.decided_by) == (ScenarioStatus.APPROVED, world.director)
    assert change.scenario == scenario
    assert len(change.details) == 3
    with pytest.raises(ScenarioRefused):
        scenario_approve(scenario=scenario, by=world.director)


def test_an_unchanged_scenario_changes_no_money(world, scenario):
    before = budget_state()
    scenario_approve(scenario=scenario, by=world.director)
    assert budget_state() == before


def test_approval_refuses_when_the_live_plan_changed_until_confirmed(world, scenario):
    lines = lines_of(scenario)
    scenario_change_budget(scenario=scenario, line=lines["checkout"], planned=Decimal("100000"))
    budget_line_set(
        product=world.wallet,
        quarter=YEAR[2],
        kind="opex",
        planned=Decimal("30000"),
        actual=Decimal(0),
        by=world.vp,
    )
    before = budget_state()
    with pytest.raises(LivePlanChanged) as changed:
        scenario_approve(scenario=scenario, by=world.director)
    assert budget_state() == before
    scenario.refresh_from_db()
    assert scenario.status == ScenarioStatus.DRAFT
    assert [c["slug"] for c in changed.value.conflicts] == ["wallet"]
    assert changed.value.conflicts[0]["live"] == 50_000
    assert "Wallet" in changed.value.changes[0].summary
    # Someone changes the plan again after the warning: the old confirmation no longer counts.
    budget_line_set(
        product=world.wallet,
        quarter=YEAR[3],
        kind="opex",
        planned=Decimal("1"),
        actual=Decimal(0),
        by=world.vp,
    )
    with pytest.raises(LivePlanChanged) as again:
        scenario_approve(scenario=scenario, by=world.director, confirm_version=changed.value.version)
    scenario_approve(scenario=scenario, by=world.director, confirm_version=again.value.version)
    after = budget_state()
    # Only Checkout changed; the VP's Wallet lines stay as they are.
    assert {key for key in after if after[key] != before.get(key)} == {
        ("checkout", "2026-04-01", "opex"),
        ("checkout", "2026-07-01", "opex"),
        ("wallet", "2026-10-01", "opex"),
    }
    assert after[("wallet", "2026-07-01", "opex")] == (Decimal("30000.00"), Decimal("0.00"))


def test_a_change_in_another_portfolio_does_not_block(world, scenario):
    budget_line_set(
        product=world.ads, quarter=YEAR[2], kind="opex", planned=Decimal("1"), actual=Decimal(0), by=world.vp
    )
    scenario_approve(scenario=scenario, by=world.director)
    assert Scenario.objects.get(pk=scenario.pk).status == ScenarioStatus.APPROVED


def test_a_budget_change_with_no_live_lines_spreads_as_opex(world):
    empty = ProductFactory(slug="empty", portfolio=world.payments)
    scenario = scenario_create_from_live(
        name="Fund it", portfolio=world.payments, by=world.director, today=TODAY
    )
    scenario_change_budget(
        scenario=scenario, line=scenario.lines.get(product=empty), planned=Decimal("100.01")
    )
    scenario_approve(scenario=scenario, by=world.director)
    planned = list(
        BudgetLine.objects.filter(product=empty).order_by("quarter").values_list("planned", flat=True)
    )
    assert planned == [Decimal("25.00"), Decimal("25.00"), Decimal("25.00"), Decimal("25.01")]


def test_drafts_only_and_lines_of_this_scenario_only(world, scenario):
    other = scenario_create_from_live(
        name="Other", portfolio=world.growth, by=world.other_director, today=TODAY
    )
    with pytest.raises(ScenarioRefused):
        scenario_change_budget(scenario=scenario, line=other.lines.first(), planned=Decimal(1))
    with pytest.raises(ScenarioRefused):
        scenario_add_product(
            scenario=scenario,
            name="Elsewhere",
            portfolio=world.growth,
            owner=world.pm,
            market=Market.B2B,
            focus=Focus.BUSINESS,
            objective=None,
            planned=Decimal(1),
        )
    scenario_approve(scenario=scenario, by=world.director)
    with pytest.raises(ScenarioRefused):
        scenario_pause_product(scenario=scenario, line=lines_of(scenario)["wallet"])


# ---------------------------------------------------------------------------------------------------------
# Through the pages
# ---------------------------------------------------------------------------------------------------------


def test_director_builds_and_approves_through_the_pages(client, world, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: TODAY)
    client.force_login(world.director)
    created = client.post("/portfolio/scenarios/", {"name": "Leaner Payments", "portfolio": "payments"})
    scenario = Scenario.objects.get(name="Leaner Payments")
    assert created["Location"] == f"/portfolio/scenarios/{scenario.pk}/"
    lines = lines_of(scenario)
    edit = client.post(
        f"/portfolio/scenarios/{scenario.pk}/lines/{lines['checkout'].pk}/",
        {"planned": "180,000"},
        headers={"HX-Request": "true", "HX-Target": "scenario-lines"},
    )
    assert edit.status_code == 200
    assert b"<html" not in edit.content
    assert edit["HX-Trigger"] == "scenario-changed"
    summary = client.get(
        f"/portfolio/scenarios/{scenario.pk}/",
        headers={"HX-Request": "true", "HX-Target": "scenario-summary"},
    )
    assert b"\xe2\x82\xac200,000" in summary.content  # scenario: 180k + 20k
    bad = client.post(f"/portfolio/scenarios/{scenario.pk}/lines/{lines['wallet'].pk}/", {"planned": "lots"})
    assert bad.status_code == 302
    assert lines_of(scenario)["wallet"].planned == 20_000
    approved = client.post(f"/portfolio/scenarios/{scenario.pk}/approve/")
    assert approved.status_code == 302
    assert BudgetLine.objects.get(product=world.checkout, quarter=YEAR[1], kind="opex").planned == 90_000
    assert PlanChange.objects.filter(scenario=scenario).exists()


def test_the_page_shows_what_changed_and_approves_after_confirmation(client, world, scenario, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: TODAY)
    scenario_change_budget(scenario=scenario, line=lines_of(scenario)["checkout"], planned=Decimal("1000"))
    budget_line_set(
        product=world.wallet,
        quarter=YEAR[1],
        kind="capex",
        planned=Decimal("25000"),
        actual=Decimal(0),
        by=world.vp,
    )
    client.force_login(world.director)
    refused = client.post(f"/portfolio/scenarios/{scenario.pk}/approve/")
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "The live plan changed since this scenario was copied" in page
    assert "Wallet" in page
    assert "approve anyway" in page
    assert Scenario.objects.get(pk=scenario.pk).status == ScenarioStatus.DRAFT
    version = refused.context["conflict"].version
    confirmed = client.post(f"/portfolio/scenarios/{scenario.pk}/approve/", {"confirm_version": str(version)})
    assert confirmed.status_code == 302
    assert Scenario.objects.get(pk=scenario.pk).status == ScenarioStatus.APPROVED
    assert BudgetLine.objects.get(product=world.wallet, quarter=YEAR[1], kind="capex").planned == 25_000


def test_approve_asks_first_naming_what_will_change(client, world, scenario, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: TODAY)
    lines = lines_of(scenario)
    scenario_change_budget(scenario=scenario, line=lines["checkout"], planned=Decimal("150000"))
    scenario_pause_product(scenario=scenario, line=lines["wallet"])
    client.force_login(world.director)
    before = budget_state()
    page = client.get(f"/portfolio/scenarios/{scenario.pk}/").content.decode()
    approve_url = f"/portfolio/scenarios/{scenario.pk}/approve/"
    # The header's buttons open the step; they do not post.
    assert f'<a class="btn btn--primary" href="{approve_url}">Approve as live plan…</a>' in page
    assert f'action="{approve_url}"' not in page
    step = client.get(approve_url)
    assert step.status_code == 200
    html = step.content.decode()
    section = html.split('class="card confirm-step"', 1)[1].split("</section>", 1)[0]
    assert "Approve “Cut” as the live plan?" in section
    assert "2 changed lines" in section
    assert "€220,000 → €150,000 (-€70,000)" in section
    assert "2 → 1: 1 paused" in section
    assert "Wallet" in section
    assert f'action="{approve_url}"' in section
    assert "csrfmiddlewaretoken" in section
    assert budget_state() == before
    assert Scenario.objects.get(pk=scenario.pk).status == ScenarioStatus.DRAFT
    assert client.post(approve_url).status_code == 302
    assert Scenario.objects.get(pk=scenario.pk).status == ScenarioStatus.APPROVED
    # Decided: the step has nothing left to ask.
    again = client.get(approve_url)
    assert again.status_code == 302
    assert "already approved" in client.get(again["Location"]).content.decode()


def test_discard_asks_first_and_leaves_the_live_plan(client, world, scenario):
    client.force_login(world.director)
    before = budget_state()
    discard_url = f"/portfolio/scenarios/{scenario.pk}/discard/"
    html = client.get(discard_url).content.decode()
    section = html.split('class="card confirm-step"', 1)[1].split("</section>", 1)[0]
    assert "Discard “Cut”?" in section
    assert "the live plan, which stays as it is" in section
    assert ">Discard scenario</button>" in section
    assert Scenario.objects.get(pk=scenario.pk).status == ScenarioStatus.DRAFT
    assert client.post(discard_url)["Location"] == "/portfolio/scenarios/"
    assert Scenario.objects.get(pk=scenario.pk).status == ScenarioStatus.DISCARDED
    assert budget_state() == before


def test_a_proposed_products_owner_is_picked_by_name(client, world, scenario):
    world.pm.first_name, world.pm.last_name = "Zoe", "Olsen"
    world.pm.save()
    client.force_login(world.director)
    page = client.get(f"/portfolio/scenarios/{scenario.pk}/").content.decode()
    form = page.split('id="add-title"', 1)[1].split("</form>", 1)[0]
    assert '<label for="id_owner">Owner</label>' in form
    assert '<option value="owner-pm">Zoe Olsen (owner-pm)</option>' in form
    fields = {
        "name": "Instant refunds",
        "portfolio": "payments",
        "market": Market.B2B,
        "focus": Focus.CUSTOMER,
        "planned": "40,000",
    }
    typed = client.post(f"/portfolio/scenarios/{scenario.pk}/products/", {**fields, "owner": "Zoe Olsen"})
    assert typed.status_code == 400
    refused = typed.content.decode()
    assert "Owner: “Zoe Olsen” is not a person who may own a product." in refused
    assert 'value="Instant refunds"' in refused  # what was typed stays
    assert not scenario.lines.filter(new_name="Instant refunds").exists()
    added = client.post(f"/portfolio/scenarios/{scenario.pk}/products/", {**fields, "owner": "owner-pm"})
    assert added.status_code == 302
    assert scenario.lines.get(new_name="Instant refunds").new_owner == world.pm


@pytest.mark.parametrize("who", ["pm", "junior"])
def test_people_outside_leadership_see_no_scenarios(client, world, scenario, who):
    client.force_login(getattr(world, who))
    assert client.get("/portfolio/scenarios/").status_code == 403
    assert client.get(f"/portfolio/scenarios/{scenario.pk}/").status_code == 403
    assert client.post(f"/portfolio/scenarios/{scenario.pk}/approve/").status_code == 403
    assert client.get(f"/portfolio/scenarios/{scenario.pk}/approve/").status_code == 403
    assert Scenario.objects.get(pk=scenario.pk).status == ScenarioStatus.DRAFT


def test_another_director_reads_but_may_not_change_or_approve(client, world, scenario):
    client.force_login(world.other_director)
    assert client.get(f"/portfolio/scenarios/{scenario.pk}/").status_code == 200
    line = lines_of(scenario)["checkout"]
    assert (
        client.post(f"/portfolio/scenarios/{scenario.pk}/lines/{line.pk}/", {"planned": "1"}).status_code
        == 403
    )
    assert client.post(f"/portfolio/scenarios/{scenario.pk}/approve/").status_code == 403
    assert client.post(f"/portfolio/scenarios/{scenario.pk}/discard/").status_code == 403
    assert (
        client.post("/portfolio/scenarios/", {"name": "Theirs", "portfolio": "payments"}).status_code == 400
    )
    assert client.post("/portfolio/scenarios/", {"name": "Org", "portfolio": ""}).status_code == 400
    assert lines_of(scenario)["checkout"].planned == 200_000
    assert Scenario.objects.count() == 1


def test_a_vp_plans_the_whole_organisation(client, world):
    client.force_login(world.vp)
    client.post("/portfolio/scenarios/", {"name": "Everything", "portfolio": ""})
    scenario = Scenario.objects.get(name="Everything")
    assert scenario.portfolio is None
    assert scenario.lines.count() == 3


def test_compare_two_scenarios(client, world, scenario):
    other = scenario_create_from_live(name="Bolder", portfolio=world.payments, by=world.director, today=TODAY)
    scenario_pause_product(scenario=other, line=lines_of(other)["checkout"])
    client.force_login(world.vp)
    response = client.get(f"/portfolio/scenarios/compare/?s={scenario.pk}&s={other.pk}")
    assert [s.scenario.name for s in response.context["summaries"]] == ["Cut", "Bolder"]
    assert [s.proposed.budget for s in response.context["summaries"]] == [220_000, 20_000]
    rows = b"".join(
        client.get(f"/portfolio/scenarios/compare/?s={scenario.pk}&s={other.pk}&format=csv").streaming_content
    )
    assert rows.decode().splitlines()[2].startswith("Bolder,220000.00,20000.00,1000000")


def test_scenario_lines_csv(client, world, scenario):
    client.force_login(world.director)
    rows = (
        b"".join(client.get(f"/portfolio/scenarios/{scenario.pk}/?format=csv").streaming_content)
        .decode()
        .splitlines()
    )
    assert rows[0] == "product,name,portfolio,new,base_planned,planned,paused,change"
    assert rows[1] == "checkout,Checkout,payments,false,200000.00,200000.00,false,false"


def test_scenario_page_queries_do_not_grow(client, world, django_assert_max_num_queries):
    client.force_login(world.director)
    counts = []
    for extra in (3, 40):
        for _ in range(extra):
            line(ProductFactory(portfolio=world.payments), YEAR[2], "opex", "1000")
        scenario = scenario_create_from_live(
            name=f"S{extra}", portfolio=world.payments, by=world.director, today=TODAY
        )
        with django_assert_max_num_queries(25) as captured:
            assert client.get(f"/portfolio/scenarios/{scenario.pk}/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_funding_and_history_csv(client, world, scenario):
    budget_line_set(
        product=world.wallet,
        quarter=YEAR[2],
        kind="opex",
        planned=Decimal("1"),
        actual=Decimal(0),
        by=world.vp,
    )
    client.force_login(world.director)
    funding = b"".join(
        client.get(f"/portfolio/scenarios/{scenario.pk}/?format=csv&table=funding").streaming_content
    )
    rows = funding.decode().splitlines()
    assert rows[0] == "objective,portfolio,kpis,live,scenario,change_pct,expected"
    assert rows[1].startswith("Faster payments,payments,Conversion,")
    history = b"".join(
        client.get("/portfolio/scenarios/?format=csv&table=history").streaming_content
    ).decode()
    assert history.splitlines()[1].startswith("1,")
    assert "Wallet Q3 2026 opex" in history


def test_scenario_lines_escape_names_and_carry_the_page_in_their_forms(client, world, scenario):
    """The lines are written in Python (strategy_tables): names escaped; an editor's forms post to the line
    with the CSRF token, the page and the changed-only switch; a reader sees the state in words."""
    world.checkout.name = "Checkout <b>bold</b>"
    world.checkout.save()
    line = lines_of(scenario)["checkout"]
    scenario_change_budget(scenario=scenario, line=line, planned=Decimal("150000"))
    client.force_login(world.director)
    page = client.get(f"/portfolio/scenarios/{scenario.pk}/?changed=1").content.decode()
    assert "<b>bold</b>" not in page
    assert "Checkout &lt;b&gt;bold&lt;/b&gt;" in page
    row = page[page.index(f'<tr id="line-{line.pk}"') :]
    row = row[: row.index("</tr>")]
    assert 'class="line--changed"' in row
    assert row.count(f'hx-post="/portfolio/scenarios/{scenario.pk}/lines/{line.pk}/"') == 2
    assert row.count('name="csrfmiddlewaretoken"') == 2
    assert '<input type="hidden" name="changed" value="1">' in row
    assert 'name="planned" value="150000.00"' in row

    client.force_login(world.other_director)
    page = client.get(f"/portfolio/scenarios/{scenario.pk}/").content.decode()
    row = page[page.index(f'<tr id="line-{line.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "<form" not in row
    assert "<td>changed</td>" in row
