"""Reads about the lifecycle: timelines, the board, work products and their gate checklists."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from lifecycle.models import (
    StageTransition,
)
from products.choices import Stage
from products.models import Product


@dataclass(frozen=True)
class TimelineEntry:
    transition: StageTransition
    left_at: datetime | None

    @property
    def days(self) -> int:
        end = self.left_at or timezone.now()
        return max((end - self.transition.at).days, 0)


def product_timeline(*, product: Product) -> list[TimelineEntry]:
    """Every transition of a product, oldest first, with how long the product stayed in the stage it entered."""
    transitions = list(
        StageTransition.objects.filter(product=product).select_related("by").order_by("at", "pk")
    )
    ends: list[datetime | None] = [t.at for t in transitions[1:]]
    if transitions:
        ends.append(None)
    return [TimelineEntry(transition=t, left_at=end) for t, end in zip(transitions, ends, strict=True)]


def stages_around(stage: str) -> tuple[list[Stage], list[Stage]]:
    """The stages a product in ``stage`` can move to: later ones in order, then earlier ones nearest first."""
    position = Stage(stage).position
    stages = list(Stage)
    return stages[position + 1 :], stages[:position][::-1]
