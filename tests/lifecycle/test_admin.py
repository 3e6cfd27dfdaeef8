"""Django admin for recorded stage transitions."""

import datetime as dt

import pytest
from django.utils import timezone

from lifecycle.models import StageTransition
from products.choices import Stage
from tests.factories import ProductFactory, StageTransitionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_changelist_add_and_change_pages_render(admin_client):
    transition = StageTransitionFactory(
        product=ProductFactory(name="Aurora Billing"), from_stage=Stage.PROBLEM, to_stage=Stage.OPPORTUNITY
    )
    changelist = admin_client.get("/admin/lifecycle/stagetransition/")
    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [transition]
    assert b"Aurora Billing" in changelist.content
    assert admin_client.get("/admin/lifecycle/stagetransition/add/").status_code == 200
    change = admin_client.get(f"/admin/lifecycle/stagetransition/{transition.pk}/change/")
    assert change.status_code == 200
    assert change.context["original"] == transition


def test_list_shows_newest_first_and_flags_backward_moves(admin_client):
    product = ProductFactory()
    now = timezone.now()
    forward = StageTransitionFactory(
        product=product, from_stage=Stage.PROBLEM, to_stage=Stage.RESEARCH, at=now - dt.timedelta(days=9)
    )
    backward = StageTransitionFactory(
        product=product, from_stage=Stage.RESEARCH, to_stage=Stage.PROBLEM, at=now - dt.timedelta(days=1)
    )
    response = admin_client.get("/admin/lifecycle/stagetransition/")
    assert list(response.context["cl"].result_list) == [backward, forward]
    rows = response.content.decode().split('<td class="field-is_backward">')[1:]
    assert ["icon-yes" in row.split("</td>")[0] for row in rows] == [True, False]


def test_list_filters_by_stage_entered(admin_client):
    StageTransitionFactory(from_stage="", to_stage=Stage.PROBLEM)
    into_mvp = StageTransitionFactory(from_stage=Stage.RESEARCH, to_stage=Stage.MVP)
    response = admin_client.get("/admin/lifecycle/stagetransition/", {"to_stage__exact": "mvp"})
    assert list(response.context["cl"].result_list) == [into_mvp]


def test_search_finds_transitions_of_a_product(admin_client):
    StageTransitionFactory(product=ProductFactory(name="Aurora Billing"))
    StageTransitionFactory(product=ProductFactory(name="Zephyr Mobile"))
    response = admin_client.get("/admin/lifecycle/stagetransition/", {"q": "aurora"})
    assert [t.product.name for t in response.context["cl"].result_list] == ["Aurora Billing"]


def test_an_admin_can_correct_a_transition_note(admin_client):
    transition = StageTransitionFactory(
        from_stage=Stage.PROBLEM, to_stage=Stage.OPPORTUNITY, note="typo", by=UserFactory(username="pm1")
    )
    data = {
        "product": transition.product.pk,
        "from_stage": Stage.PROBLEM,
        "to_stage": Stage.OPPORTUNITY,
        "at_0": transition.at.date().isoformat(),
        "at_1": transition.at.strftime("%H:%M:%S"),
        "by": transition.by.pk,
        "note": "Sized the market: 40k teams.",
    }
    response = admin_client.post(f"/admin/lifecycle/stagetransition/{transition.pk}/change/", data)
    assert response.status_code == 302
    transition.refresh_from_db()
    assert transition.note == "Sized the market: 40k teams."


def test_a_transition_that_changes_nothing_is_refused(admin_client):
    product = ProductFactory()
    data = {
        "product": product.pk,
        "from_stage": Stage.MVP,
        "to_stage": Stage.MVP,
        "at_0": "2026-01-05",
        "at_1": "09:00:00",
    }
    response = admin_client.post("/admin/lifecycle/stagetransition/add/", data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not StageTransition.objects.exists()


def test_list_is_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    owner = UserFactory()
    product = ProductFactory(owner=owner)
    for index in range(25):
        StageTransitionFactory(
            product=product,
            from_stage=Stage.PROBLEM if index % 2 else Stage.RESEARCH,
            to_stage=Stage.RESEARCH if index % 2 else Stage.PROBLEM,
            by=owner,
        )
    with django_assert_max_num_queries(12):
        response = admin_client.get("/admin/lifecycle/stagetransition/")
    assert len(response.context["cl"].result_list) == 25
