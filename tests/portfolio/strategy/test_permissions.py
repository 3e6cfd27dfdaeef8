"""``access_product_strategy``: the strategy views' choke point, on top of ``products.permissions.access_product``."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from portfolio.strategy.permissions import access_product_strategy
from products.choices import Role
from tests.factories import MembershipFactory, PortfolioFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

NOT_SHARED = "This product's budget is not shared with you."
LEADERSHIP_ONLY = "Only leadership of this portfolio changes its budget."
NO_SCORE = "You may not score this product."


@pytest.fixture
def people():
    owner = UserFactory(username="owner", role=Role.PM)
    director = UserFactory(username="director", role=Role.DIRECTOR)
    product = ProductFactory(slug="alpha", owner=owner, portfolio=PortfolioFactory(director=director))
    junior = UserFactory(username="junior", role=Role.JUNIOR_PM)
    MembershipFactory(product=product, user=junior, role=Role.JUNIOR_PM)
    return {
        "product": product,
        "owner": owner,
        "director": director,
        "junior": junior,
        "pm_other": UserFactory(username="pm-other", role=Role.PM),
        "director_other": UserFactory(username="director-other", role=Role.DIRECTOR),
        "vp": UserFactory(username="vp", role=Role.VP),
    }


@pytest.mark.parametrize(
    ("person", "action", "refusal"),
    [
        ("director", "edit_budget", None),
        ("vp", "edit_budget", None),
        ("owner", "edit_budget", LEADERSHIP_ONLY),  # sees the budget, does not change it
        ("director_other", "edit_budget", LEADERSHIP_ONLY),
        ("pm_other", "edit_budget", NOT_SHARED),  # does not even see it
        ("owner", "edit_priority", None),
        ("director", "edit_priority", None),
        ("junior", "edit_priority", NO_SCORE),
        ("director_other", "edit_priority", NO_SCORE),
        ("pm_other", "see_budget", NOT_SHARED),  # a product action passes through
        ("junior", "see_budget", None),
    ],
)
def test_a_strategy_action_returns_the_product_or_refuses_with_its_message(people, person, action, refusal):
    if refusal is None:
        assert access_product_strategy(people[person], "alpha", action=action) == people["product"]
        return
    with pytest.raises(PermissionDenied) as refused:
        access_product_strategy(people[person], "alpha", action=action)
    assert str(refused.value) == refusal


def test_a_missing_product_is_not_found(people):
    with pytest.raises(Http404):
        access_product_strategy(people["vp"], "no-such-product", action="edit_budget")
