"""Writes of objective alignments."""

from __future__ import annotations

from django.db import transaction

from portfolio.models import Alignment, Objective
from portfolio.strategy.rules import AlignmentInvalid
from portfolio.strategy.services.plan import plan_change
from products.models import Product, User


@transaction.atomic
def alignment_set(*, product: Product, objective: Objective, weight: int, by: User | None) -> Alignment:
    """Align a product to an objective with a weight (percent), or change the weight. A product aligns to its
    own portfolio's objectives and to organisation-wide ones; raises ``AlignmentInvalid`` otherwise."""
    if objective.portfolio_id is not None and objective.portfolio_id != product.portfolio_id:
        raise AlignmentInvalid(f"“{objective.title}” is another portfolio's objective.")
    if not 1 <= int(weight) <= 100:
        raise AlignmentInvalid("The weight is a percentage from 1 to 100.")
    summary = f"{product.name} serves “{objective.title}” at {weight}%"
    details = [{"product": product.slug, "objective": objective.pk, "weight": int(weight)}]
    with plan_change(by=by, summary=summary, portfolio=product.portfolio, details=details):
        alignment, _ = Alignment.objects.update_or_create(
            product=product, objective=objective, defaults={"weight": int(weight)}
        )
    return alignment


@transaction.atomic
def alignment_remove(*, alignment: Alignment, by: User | None) -> None:
    product, objective = alignment.product, alignment.objective
    summary = f"{product.name} no longer serves “{objective.title}”"
    details = [{"product": product.slug, "objective": objective.pk, "weight": None}]
    with plan_change(by=by, summary=summary, portfolio=product.portfolio, details=details):
        alignment.delete()
