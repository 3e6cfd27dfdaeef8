"""The strategy models' admin: every page opens, and writes go through the services (plan version, totals)."""

import datetime as dt
from decimal import Decimal

import pytest

from portfolio.models import BudgetLine, KeyResult, PlanChange, PriorityScore, Scenario
from portfolio.strategy.services.scenarios import scenario_create_from_live
from tests.portfolio.strategy_data import TODAY, build_world, score


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model", ["keyresult", "alignment", "budgetline", "priorityscore", "scenario", "planchange", "planstate"]
)
def test_changelists_open(admin_client, model):
    world = build_world()
    scenario_create_from_live(name="Admin", portfolio=world.payments, by=world.director, today=TODAY)
    assert admin_client.get(f"/admin/portfolio/{model}/").status_code == 200


@pytest.mark.django_db
def test_a_budget_line_saved_in_the_admin_syncs_the_product_and_records_the_change(admin_client):
    world = build_world()
    line = BudgetLine.objects.get(product=world.wallet, kind="opex")
    response = admin_client.post(
        f"/admin/portfolio/budgetline/{line.pk}/change/",
        {
            "product": world.wallet.pk,
            "quarter": "2026-01-01",
            "kind": "opex",
            "planned": "41000",
            "actual": "40000",
        },
    )
    assert response.status_code == 302
    world.wallet.refresh_from_db()
    assert world.wallet.planned_budget == 61_000
    assert PlanChange.objects.count() == 1


@pytest.mark.django_db
def test_scenarios_are_read_only_in_the_admin(admin_client):
    world = build_world()
    scenario = scenario_create_from_live(
        name="Admin", portfolio=world.payments, by=world.director, today=TODAY
    )
    page = admin_client.get(f"/admin/portfolio/scenario/{scenario.pk}/change/")
    assert page.status_code == 200
    admin_client.post(f"/admin/portfolio/scenario/{scenario.pk}/change/", {"name": "Renamed"})
    assert Scenario.objects.get(pk=scenario.pk).name == "Admin"


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["105", "-3"])
def test_a_key_result_target_its_kpi_cannot_reach_is_refused_in_the_admin(admin_client, target):
    world = build_world()
    key_result = KeyResult.objects.get(title="Conversion to 60%")
    response = admin_client.post(
        f"/admin/portfolio/keyresult/{key_result.pk}/change/",
        {
            "objective": key_result.objective_id,
            "title": "Conversion to the moon",
            "kpi": key_result.kpi_id,
            "target": target,
            "order": "0",
        },
    )
    assert response.status_code == 200
    assert "is not a possible target of Conversion: it must be 0% to 100%" in response.content.decode()
    key_result.refresh_from_db()
    assert (key_result.title, key_result.target) == ("Conversion to 60%", 60.0)
    assert world.payments.objectives.count() == 2


@pytest.mark.django_db
def test_budget_lines_list_their_money_grouped_and_a_plain_amount_typed_in_the_admin_saves(admin_client):
    world = build_world()
    line = BudgetLine.objects.get(product=world.wallet, kind="opex")
    response = admin_client.post(
        f"/admin/portfolio/budgetline/{line.pk}/change/",
        {
            "product": world.wallet.pk,
            "quarter": "2026-01-01",
            "kind": "opex",
            "planned": "2010207.50",  # what the change page's input shows and takes: no separators
            "actual": "40000",
        },
    )
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.planned == Decimal("2010207.50")
    BudgetLine.objects.filter(pk=line.pk).update(updated_at=dt.datetime(2026, 5, 4, 14, 30, tzinfo=dt.UTC))

    page = admin_client.get(
        "/admin/portfolio/budgetline/", {"product__id__exact": world.wallet.pk, "kind": "opex"}
    )
    row = next(r for r in page.content.decode().split("<tr") if "field-planned" in r and "2,010,207.50" in r)
    assert '<td class="field-actual">40,000.00</td>' in row
    assert "4 May 2026, 14:30" in row
    change = admin_client.get(f"/admin/portfolio/budgetline/{line.pk}/change/").content.decode()
    assert 'value="2010207.50"' in change  # the input stays plain: what a person types back


@pytest.mark.django_db
def test_priority_scores_show_rice_grouped_and_never_as_an_input(admin_client):
    world = build_world()
    score(world.ads, reach=50_000, impact="3", confidence=100, effort="0.5")
    scored = PriorityScore.objects.get(product=world.ads)
    listing = admin_client.get("/admin/portfolio/priorityscore/").content.decode()
    assert f'<td class="field-rice">{scored.rice:,}</td>' in listing  # 300,000.00
    assert '<td class="field-reach">50,000</td>' in listing
    change = admin_client.get(f"/admin/portfolio/priorityscore/{scored.pk}/change/")
    assert "rice" not in change.context["adminform"].form.fields
    assert f"{scored.rice:,}" in change.content.decode()
