"""Django admin for lifecycle work products, stuck thresholds and the "Move to stage…" action on products."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from lifecycle.models import PainPoint, StageTransition
from lifecycle.work.kinds import WORK_KINDS
from products.choices import Role, Stage
from products.models import Product
from tests.factories import PortfolioFactory, ProductFactory, UserFactory
from tests.lifecycle.factories import fill_gates

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", WORK_KINDS, ids=lambda kind: kind.slug)
def test_every_work_product_has_an_admin(admin_client, kind):
    name = kind.model._meta.model_name
    assert admin_client.get(f"/admin/lifecycle/{name}/").status_code == 200
    assert admin_client.get(f"/admin/lifecycle/{name}/add/").status_code == 200


def test_stuck_thresholds_are_edited_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/lifecycle/stagethreshold/add/", {"stage": "mvp", "stuck_after_days": "30"}
    )
    assert response.status_code == 302
    from lifecycle.analytics.selectors import stuck_thresholds

    assert stuck_thresholds()["mvp"] == 30


def test_the_product_admin_shows_roadmap_releases_and_milestones_inline(admin_client):
    product = ProductFactory()
    PainPoint.objects.create(product=product, description="x")
    html = admin_client.get(f"/admin/products/product/{product.pk}/change/").content.decode()
    assert "Roadmap items" in html
    assert "Releases" in html
    assert "Milestones" in html


def move(client, products, **data):
    return client.post(
        "/admin/products/product/",
        {"action": "move_to_stage", ACTION_CHECKBOX_NAME: [p.pk for p in products], "apply": "1", **data},
    )


def test_the_move_action_asks_where_to_then_moves_through_the_gates(admin_client):
    ready = fill_gates(ProductFactory(name="Ready", stage=Stage.PROBLEM))
    unready = ProductFactory(name="Unready", stage=Stage.PROBLEM)
    form = admin_client.post(
        "/admin/products/product/", {"action": "move_to_stage", ACTION_CHECKBOX_NAME: [ready.pk, unready.pk]}
    )
    assert form.status_code == 200
    assert b"Move products to another stage" in form.content

    response = move(admin_client, [ready, unready], to="opportunity", note="", override_reason="")
    assert response.status_code == 302
    assert Product.objects.get(pk=ready.pk).stage == "opportunity"
    assert Product.objects.get(pk=unready.pk).stage == "problem"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Moved 1 product." in page
    assert "Not moved: Unready: Unready is not ready to leave Problem" in page


def test_a_superuser_overrides_the_gate_from_the_action_with_a_reason(admin_client):
    unready = ProductFactory(name="Unready", stage=Stage.PROBLEM)
    move(admin_client, [unready], to="opportunity", note="", override_reason="Board decision")
    transition = StageTransition.objects.get(product=unready)
    assert transition.gate_overridden
    assert transition.override_reason == "Board decision"


def test_a_director_of_another_portfolio_cannot_override(client):
    director = UserFactory(role=Role.DIRECTOR, is_staff=True, is_superuser=False)
    own = PortfolioFactory(director=director)
    product = ProductFactory(portfolio=own, stage=Stage.PROBLEM)
    other = ProductFactory(stage=Stage.PROBLEM)
    from products.staff import role_groups_assign

    role_groups_assign(users=[director])
    client.force_login(director)
    move(client, [product, other], to="opportunity", note="", override_reason="Because")
    assert Product.objects.get(pk=product.pk).stage == "opportunity"
    assert Product.objects.get(pk=other.pk).stage == "problem"


def test_changing_the_stage_on_the_product_form_obeys_the_gate(admin_client):
    from tests.products.test_admin import admin_form_data

    product = ProductFactory(name="Unready", stage=Stage.RESEARCH)
    page = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    response = admin_client.post(
        f"/admin/products/product/{product.pk}/change/", admin_form_data(page, stage=Stage.MVP)
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Unready is not ready to leave Research: 3 criteria unmet" in response.content.decode()
    assert Product.objects.get(pk=product.pk).stage == Stage.RESEARCH
    assert not StageTransition.objects.exists()


def test_a_work_product_has_a_history_page_in_the_admin(admin_client):
    pain = PainPoint.objects.create(product=ProductFactory(), description="Slow")
    response = admin_client.get(f"/admin/lifecycle/painpoint/{pain.pk}/history/")
    assert response.status_code == 200
    assert b"Slow" in response.content
