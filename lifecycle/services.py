"""Writes to the lifecycle. ``product_move_stage`` is the only way a product's stage changes."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from lifecycle.models import StageTransition
from lifecycle.signals import stage_changed
from products.models import Product, Stage, User
from products.permissions import can_move_stage


class StageMoveRefused(ValidationError):
    """A move that the rules refuse, with a reason a person can act on."""


def check_move(*, product: Product, to: Stage, note: str) -> None:
    """Rules every move obeys; gate criteria slot in here. Raises ``StageMoveRefused``."""
    if to not in Stage.values:
        raise StageMoveRefused(f"“{to}” is not a lifecycle stage.")
    if product.stage == to:
        raise StageMoveRefused(f"{product.name} is already in {Stage(to).label}.")
    if Stage(to).position < Stage(product.stage).position and not note.strip():
        raise StageMoveRefused(
            f"Moving {product.name} back to {Stage(to).label} needs a note saying why.", code="note_required"
        )


@transaction.atomic
def product_move_stage(*, product: Product, to: str, by: User, note: str = "") -> StageTransition:
    """Move a product to another stage, recording who, when and why. Raises ``PermissionDenied`` or
    ``StageMoveRefused``; on either, nothing changes."""
    if not can_move_stage(by, product):
        raise PermissionDenied("You may not move this product between stages.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    check_move(product=product, to=to, note=note)
    now = timezone.now()
    transition = StageTransition.objects.create(
        product=product, from_stage=product.stage, to_stage=to, at=now, by=by, note=note.strip()
    )
    product.stage = to
    product.stage_entered_at = now
    # A save like any other: the product's version moves on (an open edit form then conflicts) and its
    # history names the mover (docs/history.md).
    product.version += 1
    product._history_user = by
    product.save(update_fields=["stage", "stage_entered_at", "version", "updated_at"])
    stage_changed.send(sender=Product, product_id=product.pk, changes={"stage": (transition.from_stage, to)})
    return transition
