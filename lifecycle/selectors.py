"""Reads about the lifecycle: timelines and the board."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from lifecycle.models import StageTransition
from products.models import Product, Stage


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
    ends = [t.at for t in transitions[1:]] + [None]
    return [TimelineEntry(transition=t, left_at=end) for t, end in zip(transitions, ends, strict=True)]


def board_columns(*, limit_per_stage: int = 60) -> list[tuple[Stage, int, list[Product]]]:
    """One column per stage, in order: the stage, how many products it holds, and the longest-waiting ones."""
    products = Product.objects.select_related("owner").order_by("stage_entered_at")
    columns = []
    by_stage: dict[str, list[Product]] = {stage.value: [] for stage in Stage}
    counts: dict[str, int] = dict.fromkeys(by_stage, 0)
    for product in products.only(
        "slug",
        "name",
        "stage",
        "stage_entered_at",
        "health",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
    ):
        counts[product.stage] += 1
        if len(by_stage[product.stage]) < limit_per_stage:
            by_stage[product.stage].append(product)
    for stage in Stage:
        columns.append((stage, counts[stage.value], by_stage[stage.value]))
    return columns
