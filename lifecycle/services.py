"""Writes to the lifecycle. ``product_create`` is the only way a product is created (with the first transition
of its stage history), ``product_move_stage`` the only way its stage changes; work products are written by
``work_product_save`` and ``work_product_delete``."""

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from lifecycle.gates import CriterionResult, unmet_for_move
from lifecycle.models import StageTransition
from lifecycle.signals import stage_changed
from lifecycle.summaries import work_summary
from products.choices import Stage
from products.models import Product, User
from products.permissions import can_edit_product, can_move_stage, can_override_gate

OVERRIDE_REASON_MAX_LENGTH = 2000


class StageMoveRefused(ValidationError):
    """A move that the rules refuse, with a reason a person can act on."""


class GateNotMet(StageMoveRefused):
    """A forward move whose gate criteria are not all met. ``unmet`` lists them; ``may_override`` says whether
    the person moving could override the gate with a written reason."""

    def __init__(self, message: str, *, unmet: list[CriterionResult], may_override: bool) -> None:
        super().__init__(message, code="gate_not_met")
        self.unmet = unmet
        self.may_override = may_override


def check_move(
    *,
    product: Product,
    to: str,
    note: str,
    by: User | None = None,
    override_reason: str = "",
    today: dt.date | None = None,
) -> list[CriterionResult]:
    """Rules every move obeys. Returns the gate criteria a permitted override passes over (empty: the gate is
    met, or the move goes backwards). Raises ``StageMoveRefused`` (``GateNotMet`` for unmet criteria without
    an override this person may give) or ``PermissionDenied`` for an override they may not give."""
    if to not in Stage.values:
        raise StageMoveRefused(f"“{to}” is not a lifecycle stage.")
    if product.stage == to:
        raise StageMoveRefused(f"{product.name} is already in {Stage(to).label}.")
    if Stage(to).position < Stage(product.stage).position:
        if not note.strip():
            raise StageMoveRefused(
                f"Moving {product.name} back to {Stage(to).label} needs a note saying why.",
                code="note_required",
            )
        return []
    today = today or timezone.localdate()
    unmet = unmet_for_move(
        work=work_summary(product=product, today=today), from_stage=product.stage, to_stage=to, today=today
    )
    if not unmet:
        return []
    may_override = by is not None and can_override_gate(by, product)
    if override_reason.strip():
        if not may_override:
            raise PermissionDenied("Only a director of this portfolio or a VP may override a stage gate.")
        return unmet
    names = "; ".join(criterion.name for criterion in unmet)
    raise GateNotMet(
        f"{product.name} is not ready to leave {Stage(product.stage).label}: {len(unmet)} "
        f"criteri{'on' if len(unmet) == 1 else 'a'} unmet ({names}).",
        unmet=unmet,
        may_override=may_override,
    )


@transaction.atomic
def product_create(*, product: Product, by: User, note: str = "") -> Product:
    """Save a new product and start its stage history: a first transition from nothing to its stage, at the
    moment it entered it, by ``by``, with ``note``. The product's audit history names ``by`` too. The admin's add
    form, a CSV import and an approved scenario all create products here. Returns the saved product.

    ``product`` is unsaved, built by the caller (a model form's instance, an import row, a scenario line), so
    the admin's inlines and log entry hang off the very object it saved. Its fields are checked as a model form
    checks them: choices, lengths, the slug's form and that no product has it yet (one query; ``portfolio`` and
    ``owner`` are the caller's instances, not re-read). Anything wrong raises ``ValidationError`` (by field) and
    nothing is written; the database's check constraints (money not negative) refuse the rest.

    It lives in the lifecycle, not in ``products.services``, because the first transition is a lifecycle row
    written in the same transaction as the product: ``products`` may not import the lifecycle, and a signal the
    lifecycle answered would hide a write the product needs (signals are for work a higher app derives). No
    signal is sent: a new product has no measurements, so no rollup goes stale.
    """
    if not product._state.adding:
        raise ValueError("product_create saves a new product; products.services.product_update changes one.")
    product.full_clean(exclude=["portfolio", "owner"], validate_constraints=False)
    product._history_user = by
    product.save()
    StageTransition.objects.create(
        product=product,
        from_stage="",
        to_stage=product.stage,
        at=product.stage_entered_at,
        by=by,
        note=note,
    )
    return product


@transaction.atomic
def product_move_stage(
    *, product: Product, to: str, by: User, note: str = "", override_reason: str = ""
) -> StageTransition:
    """Move a product to another stage, recording who, when and why.

    A forward move needs every gate criterion of the stages it leaves (``lifecycle.gates``), or an
    ``override_reason`` from someone who ``can_override_gate``: the transition then records the override, the
    reason and the unmet criteria. A move back needs a ``note``. Raises ``PermissionDenied`` or
    ``StageMoveRefused`` (``GateNotMet``); on either, nothing changes."""
    if not can_move_stage(by, product):
        raise PermissionDenied("You may not move this product between stages.")
    product = Product.objects.select_for_update().get(pk=product.pk)
    overridden = check_move(product=product, to=to, note=note, by=by, override_reason=override_reason)
    now = timezone.now()
    transition = StageTransition.objects.create(
        product=product,
        from_stage=product.stage,
        to_stage=to,
        at=now,
        by=by,
        note=note.strip(),
        gate_overridden=bool(overridden),
        override_reason=override_reason.strip() if overridden else "",
        unmet_criteria=[f"{criterion.name}: {criterion.reason}" for criterion in overridden],
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


@transaction.atomic
def work_product_save(*, product: Product, instance: models.Model, by: User) -> models.Model:
    """Save one work product (a new row or an edited one, validated by its form) of ``product``.

    Raises ``PermissionDenied`` unless ``by`` may edit the product; the row is always tied to ``product``,
    whatever the form said."""
    if not can_edit_product(by, product):
        raise PermissionDenied("You may not edit this product's lifecycle work.")
    instance.product = product
    instance._history_user = by  # its audit history names the writer, with or without a request
    instance.save()
    return instance


@transaction.atomic
def work_product_delete(*, product: Product, instance: models.Model, by: User) -> None:
    """Delete one work product of ``product``. Raises ``PermissionDenied`` unless ``by`` may edit it."""
    if not can_edit_product(by, product) or instance.product_id != product.pk:
        raise PermissionDenied("You may not edit this product's lifecycle work.")
    instance._history_user = by
    instance.delete()
