"""``access_product``: the one place a view fetches a product by its slug and checks what the user may do."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from products.choices import Role
from products.models import Product
from products.permissions import PRODUCT_ACTIONS, access_product
from tests.factories import MembershipFactory, PortfolioFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

JUNIOR = "junior member"
PM_OTHER = "pm, not on the product"
OWNER = "pm owner"
DIRECTOR = "director, directs it"
DIRECTOR_OTHER = "director, another portfolio"
VP = "vp"
SUPERUSER = "superuser"
EDITORS = {OWNER, DIRECTOR, VP, SUPERUSER}

#: Action -> who may do it (docs/permissions.md); everyone else signed in gets 403 with the action's message.
ALLOWED = {
    "view": {JUNIOR, PM_OTHER, OWNER, DIRECTOR, DIRECTOR_OTHER, VP, SUPERUSER},
    "edit": EDITORS,
    "edit_work": EDITORS,
    "move_stage": EDITORS,
    "record_measurement": EDITORS | {JUNIOR},
    "see_budget": {JUNIOR, OWNER, DIRECTOR, DIRECTOR_OTHER, VP, SUPERUSER},
}
MESSAGES = {
    "edit": "You may not edit this product.",
    "edit_work": "You may not edit this product's lifecycle work.",
    "move_stage": "You may not move this product between stages.",
    "record_measurement": "You may not record measurements for this product.",
    "see_budget": "This product's budget is not shared with you.",
}


@pytest.fixture
def product():
    owner = UserFactory(username="owner", role=Role.PM)
    director = UserFactory(username="director", role=Role.DIRECTOR)
    return ProductFactory(slug="alpha", owner=owner, portfolio=PortfolioFactory(director=director))


@pytest.fixture
def people(product):
    junior = UserFactory(username="junior", role=Role.JUNIOR_PM)
    MembershipFactory(product=product, user=junior, role=Role.JUNIOR_PM)
    return {
        JUNIOR: junior,
        PM_OTHER: UserFactory(username="pm-other", role=Role.PM),
        OWNER: product.owner,
        DIRECTOR: product.portfolio.director,
        DIRECTOR_OTHER: UserFactory(username="director-other", role=Role.DIRECTOR),
        VP: UserFactory(username="vp", role=Role.VP),
        SUPERUSER: UserFactory(username="root", role=Role.JUNIOR_PM, is_superuser=True),
    }


def test_every_action_is_in_this_matrix():
    assert set(ALLOWED) == set(PRODUCT_ACTIONS)


@pytest.mark.parametrize("action", sorted(ALLOWED))
@pytest.mark.parametrize("person", [JUNIOR, PM_OTHER, OWNER, DIRECTOR, DIRECTOR_OTHER, VP, SUPERUSER])
def test_an_action_returns_the_product_or_refuses_with_its_message(product, people, person, action):
    user = people[person]
    if person in ALLOWED[action]:
        assert access_product(user, "alpha", action=action) == product
        return
    with pytest.raises(PermissionDenied) as refused:
        access_product(user, "alpha", action=action)
    assert str(refused.value) == MESSAGES[action]


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_a_missing_product_is_not_found_whoever_asks(product, people, action):
    with pytest.raises(Http404, match="No product with that slug"):
        access_product(people[SUPERUSER], "no-such-product", action=action)


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_a_product_the_user_may_not_see_is_not_found_rather_than_refused(product, action):
    # Only the signed-in see products (the login middleware redirects the others before any view runs).
    with pytest.raises(Http404, match="No product with that slug"):
        access_product(AnonymousUser(), "alpha", action=action)


def test_the_product_comes_with_what_the_rules_and_pages_read(product, people, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = access_product(people[VP], "alpha", action="edit")
        assert (found.portfolio.director, found.owner) == (product.portfolio.director, product.owner)


def test_the_caller_chooses_where_to_look(product, people):
    others = Product.objects.exclude(pk=product.pk)
    with pytest.raises(Http404):
        access_product(people[VP], "alpha", action="view", queryset=others)
    joined = Product.objects.select_related("portfolio", "owner", "problem")
    assert access_product(people[VP], "alpha", action="view", queryset=joined) == product


def test_an_unknown_action_is_a_programming_error(product, people):
    with pytest.raises(ValueError, match="Unknown product action"):
        access_product(people[VP], "alpha", action="delete")
