"""The database itself refuses rows that break the domain's invariants, whatever wrote them."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from products.choices import Stage
from products.models import Product
from tests.factories import MembershipFactory, ProductFactory, UserFactory


def refuses(**fields) -> bool:
    product = ProductFactory()
    try:
        with transaction.atomic():
            Product.objects.filter(pk=product.pk).update(**fields)
    except IntegrityError:
        return True
    return False


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"planned_budget": Decimal("-1")},
        {"actual_spend": Decimal("-0.01")},
        {"stage": "launch"},
        {"market": "b2g"},
        {"focus": "marketing"},
        {"health": "great"},
        {"slug": ""},
    ],
    ids=lambda f: next(iter(f)),
)
def test_the_database_refuses_invalid_product_values(fields):
    assert refuses(**fields)


@pytest.mark.django_db
def test_valid_product_values_are_accepted():
    assert not refuses(stage=Stage.EXECUTION, market="b2c", focus="design", planned_budget=Decimal("0"))


@pytest.mark.django_db
def test_slugs_are_unique():
    ProductFactory(slug="atlas")
    with pytest.raises(IntegrityError):
        ProductFactory(slug="atlas")


@pytest.mark.django_db
def test_a_person_has_one_role_per_product():
    membership = MembershipFactory()
    with pytest.raises(IntegrityError):
        MembershipFactory(product=membership.product, user=membership.user, role="pm")


@pytest.mark.django_db
def test_roles_must_be_on_the_ladder():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        type(user).objects.filter(pk=user.pk).update(role="ceo")


@pytest.mark.django_db
def test_days_in_stage_counts_whole_days():
    import datetime as dt

    from django.utils import timezone

    product = ProductFactory(stage_entered_at=timezone.now() - dt.timedelta(days=9, hours=3))
    assert product.days_in_stage == 9


@pytest.mark.django_db
def test_an_owner_with_products_cannot_be_deleted():
    product = ProductFactory()
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        product.owner.delete()
