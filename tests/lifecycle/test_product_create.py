"""``product_create``: the only way a product is created, with the first transition of its stage history."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from lifecycle.models import StageTransition
from lifecycle.services import product_create
from lifecycle.signals import stage_changed
from portfolio.models import StaleRollup
from products.choices import Focus, Market, Role, Stage
from products.models import Product
from tests.factories import PortfolioFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def creator():
    return UserFactory(username="creator", role=Role.DIRECTOR)


def new_product(**fields) -> Product:
    defaults = {
        "slug": "nova",
        "name": "Nova",
        "portfolio": PortfolioFactory(),
        "owner": UserFactory(username="owner"),
        "market": Market.B2C,
        "focus": Focus.DESIGN,
    }
    return Product(**{**defaults, **fields})


def nothing_written() -> bool:
    return not Product.objects.filter(slug="nova").exists() and not StageTransition.objects.exists()


def test_it_saves_the_product_and_its_first_transition_by_the_creator(creator):
    product = product_create(product=new_product(), by=creator, note="Kick-off")
    stored = Product.objects.get(slug="nova")
    assert stored == product
    assert (stored.stage, stored.version) == (Stage.PROBLEM, 1)
    transition = StageTransition.objects.get(product=product)
    assert (transition.from_stage, transition.to_stage, transition.by, transition.note) == (
        "",
        Stage.PROBLEM,
        creator,
        "Kick-off",
    )
    assert transition.at == stored.stage_entered_at
    # Its audit history names the creator, with or without a request.
    assert (stored.history.get().history_type, stored.history.get().history_user) == ("+", creator)
    assert transition.history.get().history_user == creator


def test_a_product_created_in_a_later_stage_starts_its_history_there(creator):
    entered = dt.datetime(2026, 2, 2, 9, 0, tzinfo=dt.UTC)
    product = product_create(
        product=new_product(stage=Stage.OPPORTUNITY, stage_entered_at=entered), by=creator
    )
    transition = StageTransition.objects.get(product=product)
    assert (transition.from_stage, transition.to_stage, transition.at) == ("", Stage.OPPORTUNITY, entered)


def test_a_new_product_makes_no_rollup_stale(creator):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    stage_changed.connect(receiver, dispatch_uid="test-product-create")
    try:
        product_create(product=new_product(), by=creator)
    finally:
        stage_changed.disconnect(dispatch_uid="test-product-create")
    assert received == []
    assert not StaleRollup.objects.exists()


def test_a_taken_slug_is_refused_as_the_admin_form_refuses_it(creator):
    ProductFactory(slug="taken")
    with pytest.raises(ValidationError) as refused:
        product_create(product=new_product(slug="taken"), by=creator)
    assert refused.value.message_dict == {"slug": ["Product with this Slug already exists."]}
    assert Product.objects.filter(slug="taken").count() == 1
    assert not StageTransition.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"slug": "not a slug"}, "slug"),
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"market": "mars"}, "market"),
        ({"stage": "done"}, "stage"),
    ],
)
def test_invalid_fields_are_refused_by_field_and_nothing_is_written(creator, fields, field):
    with pytest.raises(ValidationError) as refused:
        product_create(product=new_product(**fields), by=creator)
    assert field in refused.value.message_dict
    assert nothing_written()


def test_a_saved_product_is_not_created_again(creator):
    product = ProductFactory(slug="nova")
    with pytest.raises(ValueError, match="new product"):
        product_create(product=product, by=creator)
    assert not StageTransition.objects.exists()
