"""``product_move_stage``: the only way a product's stage changes."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from lifecycle.models import StageTransition
from lifecycle.services import StageMoveRefused, product_move_stage
from lifecycle.signals import stage_changed
from products.choices import Role, Stage
from products.models import Product
from tests.factories import MembershipFactory, PortfolioFactory, ProductFactory, UserFactory
from tests.lifecycle.factories import fill_gates

pytestmark = pytest.mark.django_db

LONG_AGO = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def owner():
    return UserFactory(username="owner", role=Role.PM)


@pytest.fixture
def product(owner):
    # Its work meets every gate ahead, so forward moves test the other rules (tests/lifecycle/test_gates.py
    # tests the gates).
    return fill_gates(ProductFactory(owner=owner, stage=Stage.MVP, stage_entered_at=LONG_AGO))


def unchanged(product: Product) -> bool:
    stored = Product.objects.get(pk=product.pk)
    return (
        stored.stage == Stage.MVP
        and stored.stage_entered_at == LONG_AGO
        and not StageTransition.objects.filter(product=product).exists()
    )


def test_a_forward_move_changes_the_stage_and_records_who_when_and_why(product, owner):
    before = timezone.now()
    transition = product_move_stage(product=product, to=Stage.FEEDBACK, by=owner, note="  Pilot live.  ")
    after = timezone.now()

    stored = Product.objects.get(pk=product.pk)
    assert stored.stage == Stage.FEEDBACK
    assert before <= stored.stage_entered_at <= after
    assert StageTransition.objects.filter(product=product).count() == 1
    transition.refresh_from_db()
    assert (transition.from_stage, transition.to_stage) == (Stage.MVP, Stage.FEEDBACK)
    assert transition.by == owner
    assert transition.note == "Pilot live."
    assert transition.at == stored.stage_entered_at


def test_a_forward_move_needs_no_note(product, owner):
    transition = product_move_stage(product=product, to=Stage.EXECUTION, by=owner)
    assert transition.note == ""
    assert Product.objects.get(pk=product.pk).stage == Stage.EXECUTION


@pytest.mark.parametrize("note", ["", "   \n "])
def test_a_backward_move_without_a_note_is_refused_and_changes_nothing(product, owner, note):
    with pytest.raises(StageMoveRefused) as refused:
        product_move_stage(product=product, to=Stage.RESEARCH, by=owner, note=note)
    assert refused.value.code == "note_required"
    assert "needs a note" in refused.value.message
    assert unchanged(product)


def test_a_backward_move_with_a_note_is_recorded_as_backward(product, owner):
    transition = product_move_stage(
        product=product, to=Stage.PROBLEM, by=owner, note="Customers do not have this problem."
    )
    assert transition.is_backward
    assert transition.note == "Customers do not have this problem."
    assert Product.objects.get(pk=product.pk).stage == Stage.PROBLEM


@pytest.mark.parametrize(
    ("to", "reason"), [(Stage.MVP, "already in MVP"), ("launch", "not a lifecycle stage")]
)
def test_a_move_to_the_same_or_an_unknown_stage_is_refused(product, owner, to, reason):
    with pytest.raises(StageMoveRefused, match=reason):
        product_move_stage(product=product, to=to, by=owner, note="why not")
    assert unchanged(product)


def test_the_rules_read_the_stored_stage_not_a_stale_instance(product, owner):
    stale = Product.objects.get(pk=product.pk)
    product_move_stage(product=product, to=Stage.FEEDBACK, by=owner)
    # The stale copy still says MVP; moving it "forward" to feedback is a move to the current stage.
    with pytest.raises(StageMoveRefused, match="already in Feedback"):
        product_move_stage(product=stale, to=Stage.FEEDBACK, by=owner)
    assert StageTransition.objects.filter(product=product).count() == 1


@pytest.mark.parametrize(
    "who",
    [
        "junior member",
        "intern member",
        "associate member",
        "non-member PM",
        "director of another portfolio",
        "junior owner",
        "PM on another product",
    ],
)
def test_people_who_may_not_edit_the_product_are_denied_and_nothing_changes(product, who):
    if who == "junior member":
        user = MembershipFactory(product=product, role=Role.JUNIOR_PM).user
    elif who == "intern member":
        user = MembershipFactory(product=product, role=Role.INTERN).user
    elif who == "associate member":
        user = MembershipFactory(product=product, role=Role.ASSOCIATE_PM).user
    elif who == "non-member PM":
        user = UserFactory(role=Role.PM)
    elif who == "director of another portfolio":
        user = PortfolioFactory().director
    elif who == "junior owner":
        user = UserFactory(role=Role.JUNIOR_PM)
        Product.objects.filter(pk=product.pk).update(owner=user)
        product.refresh_from_db()
    else:
        user = MembershipFactory(product=ProductFactory(portfolio=product.portfolio), role=Role.PM).user
    with pytest.raises(PermissionDenied):
        product_move_stage(product=product, to=Stage.FEEDBACK, by=user)
    stored = Product.objects.get(pk=product.pk)
    assert stored.stage == Stage.MVP
    assert not StageTransition.objects.filter(product=product).exists()


@pytest.mark.parametrize("who", ["owner", "pm member", "senior member", "director", "vp", "superuser"])
def test_owners_pm_level_members_the_director_vps_and_superusers_may_move(product, owner, who):
    if who == "owner":
        user = owner
    elif who == "pm member":
        user = MembershipFactory(product=product, role=Role.PM).user
    elif who == "senior member":
        user = MembershipFactory(product=product, role=Role.PRODUCT_OWNER).user
    elif who == "director":
        user = product.portfolio.director
    elif who == "vp":
        user = UserFactory(role=Role.VP)
    else:
        user = UserFactory(role=Role.JUNIOR_PM, is_superuser=True)
    transition = product_move_stage(product=product, to=Stage.FEEDBACK, by=user)
    assert transition.by == user
    assert Product.objects.get(pk=product.pk).stage == Stage.FEEDBACK


def test_a_move_tells_higher_apps_through_the_stage_changed_signal(product, owner):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs["product_id"])

    stage_changed.connect(receiver, dispatch_uid="test-board-move")
    try:
        product_move_stage(product=product, to=Stage.FEEDBACK, by=owner)
        with pytest.raises(StageMoveRefused):
            product_move_stage(product=product, to=Stage.MVP, by=owner)
    finally:
        stage_changed.disconnect(dispatch_uid="test-board-move")
    assert received == [product.pk]
