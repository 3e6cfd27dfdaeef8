"""The demo's gate overrides: a few products moved on by a director against their gate."""

from __future__ import annotations

import random
from collections.abc import Sequence

from django.db.models import F

from lifecycle.gates import rules_for
from lifecycle.models import StageTransition
from portfolio.demo.work_texts import OVERRIDE_REASONS
from products.choices import Stage
from products.models import Product

BATCH = 2000


def demo_overrides(products: Sequence[Product], seed: int) -> int:
    """Mark some of the forward moves a portfolio's director made as gate overrides, with a reason and the
    criteria they passed over, so the analytics have overrides to show."""
    rng = random.Random(f"lifecycle-overrides:{seed}")
    moves = (
        StageTransition.objects.filter(product__in=list(products), by=F("product__portfolio__director"))
        .exclude(from_stage="")
        .order_by("pk")
    )
    overridden = []
    for move in moves:
        if not move.from_stage or Stage(move.to_stage).position < Stage(move.from_stage).position:
            continue
        if rng.random() < 0.35:
            rules = rules_for(move.from_stage)
            move.gate_overridden = True
            move.override_reason = rng.choice(OVERRIDE_REASONS)
            move.unmet_criteria = [
                f"{rule.name}: not met at the move." for rule in rng.sample(rules, rng.randint(1, 2))
            ]
            overridden.append(move)
    StageTransition.objects.bulk_update(
        overridden, ["gate_overridden", "override_reason", "unmet_criteria"], batch_size=BATCH
    )
    return len(overridden)
