"""Writes of priority scores."""

from __future__ import annotations

from django.db import transaction

from portfolio.models import PriorityScore
from portfolio.strategy.rules import scores_for, validate_scores
from products.models import Product, User


@transaction.atomic
def priority_score_set(*, product: Product, values: dict[str, object], by: User | None) -> PriorityScore:
    """Create or replace a product's RICE and WSJF inputs; stores both scores. Raises ``ScoreInvalid``."""
    clean = validate_scores(values)
    rice, wsjf = scores_for(clean)
    score, _ = PriorityScore.objects.update_or_create(
        product=product, defaults={**clean, "rice": rice, "wsjf": wsjf, "updated_by": by}
    )
    return score
