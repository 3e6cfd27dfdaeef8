"""RICE and WSJF: the formulas, their validation, the ranked page, inline edits and who may make them."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfolio.models import PriorityScore
from portfolio.strategy.rules import (
    ScoreInvalid,
    rice_score,
    validate_scores,
    wsjf_score,
)
from portfolio.strategy.services.priorities import priority_score_set
from products.choices import Role
from tests.factories import MembershipFactory, ProductFactory, UserFactory
from tests.portfolio.strategy_data import build_world, score

VALID = {
    "reach": 2000,
    "impact": "2",
    "confidence": 50,
    "effort": "4",
    "business_value": 13,
    "time_criticality": 8,
    "risk_reduction": 5,
    "job_size": 13,
}


def test_rice_is_reach_times_impact_times_confidence_over_effort():
    assert rice_score(reach=2000, impact=Decimal("2"), confidence=50, effort=Decimal("4")) == Decimal(
        "500.00"
    )
    assert rice_score(reach=1000, impact=Decimal("0.25"), confidence=80, effort=Decimal("3")) == Decimal(
        "66.67"
    )


def test_wsjf_is_cost_of_delay_over_job_size():
    assert wsjf_score(business_value=13, time_criticality=8, risk_reduction=5, job_size=13) == Decimal("2.00")
    assert wsjf_score(business_value=1, time_criticality=1, risk_reduction=1, job_size=20) == Decimal("0.15")


@pytest.mark.parametrize(
    ("reach", "impact", "confidence", "effort", "rice"),
    [
        # Worked by hand: reach x impact x confidence% / effort, rounded half-up to the cent.
        (100, "0.5", 50, "3", "8.33"),  # 100 x 0.5 x 0.5 / 3 = 8.333…
        (3, "0.5", 100, "4", "0.38"),  # 0.375: the half goes up
        (1, "0.25", 100, "8", "0.03"),  # 0.03125
        (0, "3", 100, "1", "0.00"),  # nobody reached
        (100_000_000, "3", 100, "0.01", "30000000000.00"),  # the largest the ranges allow
    ],
)
def test_rice_worked_examples(reach, impact, confidence, effort, rice):
    score = rice_score(reach=reach, impact=Decimal(impact), confidence=confidence, effort=Decimal(effort))
    assert score == Decimal(rice)


@settings(deadline=None)
@given(
    reach=st.integers(min_value=0, max_value=1_000_000),
    more=st.integers(min_value=1, max_value=1_000_000),
    effort=st.decimals(min_value=Decimal("0.5"), max_value=Decimal("100"), places=1),
)
def test_more_reach_never_lowers_rice(reach, more, effort):
    low = rice_score(reach=reach, impact=Decimal(1), confidence=80, effort=effort)
    assert rice_score(reach=reach + more, impact=Decimal(1), confidence=80, effort=effort) >= low


@pytest.mark.parametrize(
    ("business_value", "time_criticality", "risk_reduction", "job_size", "wsjf"),
    [
        # Worked by hand: (business value + time criticality + risk reduction) / job size, half-up.
        (1, 1, 1, 8, "0.38"),  # 3 / 8 = 0.375
        (20, 20, 20, 1, "60.00"),
        (5, 3, 2, 13, "0.77"),  # 10 / 13 = 0.769…
        (1, 2, 3, 20, "0.30"),
    ],
)
def test_wsjf_worked_examples(business_value, time_criticality, risk_reduction, job_size, wsjf):
    score = wsjf_score(
        business_value=business_value,
        time_criticality=time_criticality,
        risk_reduction=risk_reduction,
        job_size=job_size,
    )
    assert score == Decimal(wsjf)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reach", -1),
        ("reach", "1.5"),
        ("impact", "4"),
        ("confidence", 101),
        ("effort", "0"),
        ("effort", "-2"),
        ("business_value", 4),
        ("job_size", 0),
        ("reach", "lots"),
        ("effort", "NaN"),
    ],
)
def test_out_of_range_inputs_are_refused_with_the_field_named(field, value):
    with pytest.raises(ScoreInvalid) as refused:
        validate_scores({**VALID, field: value})
    assert field in refused.value.problems


@pytest.mark.django_db
def test_saving_scores_stores_both_and_refuses_bad_input_without_a_write():
    product = ProductFactory()
    saved = priority_score_set(product=product, values=VALID, by=None)
    assert (saved.rice, saved.wsjf) == (Decimal("500.00"), Decimal("2.00"))
    with pytest.raises(ScoreInvalid):
        priority_score_set(product=product, values={**VALID, "reach": 5, "confidence": 500}, by=None)
    saved.refresh_from_db()
    assert saved.reach == 2000


@pytest.mark.django_db
def test_ranked_list_orders_by_the_chosen_score_and_shows_inputs(client):
    world = build_world()
    client.force_login(world.junior)
    rice = client.get("/portfolio/priorities/")
    assert [row.product.slug for row in rice.context["rows"]] == [
        "checkout",
        "wallet",
    ]  # RICE 500 against 400
    wsjf = client.get("/portfolio/priorities/?rank=wsjf")
    assert [row.product.slug for row in wsjf.context["rows"]] == ["wallet", "checkout"]
    assert b"Ads" in rice.content  # unscored, listed to be scored
    assert (
        b"Edit" not in rice.content.split(b"Not scored yet")[0].split(b"<tbody>")[1]
    )  # a junior edits nothing


@pytest.mark.django_db
def test_owner_edits_scores_inline_and_gets_the_row_back(client):
    world = build_world()
    client.force_login(world.pm)
    form = client.get("/portfolio/priorities/checkout/edit/", headers={"HX-Request": "true"})
    assert form.status_code == 200
    assert b"<html" not in form.content
    assert b'name="reach"' in form.content
    row = client.post(
        "/portfolio/priorities/checkout/edit/",
        {**VALID, "reach": "4000", "rank_no": "1"},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 200
    assert b"<html" not in row.content
    assert b"1,000" in row.content  # RICE 4000 x 2 x 0.5 / 4
    assert PriorityScore.objects.get(product=world.checkout).rice == Decimal("1000.00")


@pytest.mark.django_db
def test_bad_input_keeps_the_form_with_a_message_and_changes_nothing(client):
    world = build_world()
    client.force_login(world.pm)
    response = client.post("/portfolio/priorities/checkout/edit/", {**VALID, "confidence": "300"})
    assert response.status_code == 400
    assert b"Confidence" in response.content
    assert PriorityScore.objects.get(product=world.checkout).confidence == 50


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.JUNIOR_PM, Role.INTERN, Role.PM])
def test_people_who_do_not_edit_the_product_may_not_score_it(client, role):
    world = build_world()
    outsider = UserFactory(role=role)
    if role == Role.JUNIOR_PM:
        MembershipFactory(product=world.checkout, user=outsider, role=Role.JUNIOR_PM)
    client.force_login(outsider)
    assert client.get("/portfolio/priorities/checkout/edit/").status_code == 403
    assert client.post("/portfolio/priorities/checkout/edit/", VALID).status_code == 403
    assert PriorityScore.objects.get(product=world.checkout).reach == 2000


@pytest.mark.django_db
def test_priorities_csv_is_ranked_and_formula_safe(client):
    world = build_world()
    world.wallet.name = "=HYPERLINK(evil)"
    world.wallet.save()
    client.force_login(world.junior)
    response = client.get("/portfolio/priorities/?rank=wsjf&format=csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("rank,product,name,portfolio,reach,impact,confidence,effort,rice")
    assert lines[1].startswith("1,wallet,'=HYPERLINK(evil)")
    assert lines[2].startswith("2,checkout,Checkout,payments,2000,2.00,50,4.00,500.00,13,8,5,13,2.00")


@pytest.mark.django_db
def test_priorities_page_queries_do_not_grow(client, django_assert_max_num_queries):
    world = build_world()
    client.force_login(world.director)
    client.get("/portfolio/priorities/")
    counts = []
    for extra in (5, 60):
        for _ in range(extra):
            score(ProductFactory(portfolio=world.payments))
        with django_assert_max_num_queries(14) as captured:
            assert client.get("/portfolio/priorities/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
