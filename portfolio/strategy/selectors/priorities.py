"""Reads: products ranked by RICE or WSJF."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F, QuerySet

from portfolio.models import PriorityScore
from products.models import Product


@dataclass(frozen=True)
class RankedRow:
    rank: int
    score: PriorityScore

    @property
    def product(self) -> Product:
        return self.score.product


def ranked_scores(*, products: QuerySet[Product], by: str = "rice") -> QuerySet[PriorityScore]:
    """The scores of ``products``, best first by ``by`` (rice or wsjf), then by the other score and name."""
    other = "wsjf" if by == "rice" else "rice"
    return (
        PriorityScore.objects.filter(product__in=products.order_by().values("pk"))
        .select_related("product", "product__portfolio")
        .order_by(F(by).desc(), F(other).desc(), "product__name", "pk")
    )
