"""Objectives, key results and alignment: the coverage view's reads and the alignment writes.

A key result's current value is its KPI's latest native rollup in the objective's scope (the portfolio's key,
or the organisation for an organisation-wide objective), read with one annotated query; its status follows the
KPI's direction and tolerance against the key result's target (``portfolio.kpis.rules.rollup_status``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, When

from portfolio.choices import Grain, Scope
from portfolio.kpis.rules import rollup_status
from portfolio.models import Alignment, KeyResult, Objective, Portfolio, Rollup
from products.models import Product

ALIGNED_NAMES_SHOWN = 6


def _latest_rollup(field_name: str, scope: str, key) -> Subquery:
    latest = Rollup.objects.filter(
        scope=scope, scope_key=key, grain=Grain.NATIVE, kpi=OuterRef("kpi")
    ).order_by("-period")
    return Subquery(latest.values(field_name)[:1])


def key_results(*, objectives: QuerySet[Objective]) -> QuerySet[KeyResult]:
    """Key results of ``objectives`` with ``current`` and ``current_period`` from the KPI rollups: one query."""

    def current(field_name: str) -> Case:
        return Case(
            When(
                objective__portfolio__isnull=True,
                then=_latest_rollup(field_name, Scope.ORGANISATION, "all"),
            ),
            default=_latest_rollup(field_name, Scope.PORTFOLIO, OuterRef("objective__portfolio__slug")),
        )

    return (
        KeyResult.objects.filter(objective__in=objectives.order_by().values("pk"))
        .select_related("kpi")
        .annotate(current=current("value"), current_period=current("period"))
        .order_by("objective_id", "order", "title")
    )


@dataclass
class KeyResultView:
    key_result: KeyResult

    @property
    def status(self) -> str:
        kr = self.key_result
        if kr.kpi is None or kr.current is None:
            return "no_data"
        return rollup_status(
            value=kr.current, target=kr.target, direction=kr.kpi.direction, tolerance=float(kr.kpi.tolerance)
        )

    @property
    def progress(self) -> int | None:
        """Current value as a percentage of the target (for a higher-is-better KPI), capped at 100."""
        kr = self.key_result
        if kr.kpi is None or kr.current is None or not kr.target or kr.kpi.direction != "higher":
            return None
        return max(0, min(100, round(kr.current / kr.target * 100)))


@dataclass
class ObjectiveView:
    objective: Objective
    key_results: list[KeyResultView] = field(default_factory=list)
    aligned: list[tuple] = field(
        default_factory=list
    )  # (slug, name, weight, alignment id, product id), first few
    aligned_count: int = 0
    funding: Decimal | None = None

    @property
    def covered(self) -> bool:
        return self.aligned_count > 0


@dataclass
class Coverage:
    objectives: list[ObjectiveView]
    uncovered: list[ObjectiveView]
    unaligned_products: QuerySet[Product]
    unaligned_count: int
    products: int


def objective_list(*, portfolio: Portfolio | None = None) -> QuerySet[Objective]:
    """Objectives of ``portfolio`` and the organisation-wide ones (every objective without a portfolio)."""
    objectives = Objective.objects.select_related("portfolio")
    if portfolio is not None:
        objectives = objectives.filter(Q(portfolio=portfolio) | Q(portfolio__isnull=True))
    return objectives.order_by(F("portfolio__name").asc(nulls_first=True), "order", "title")


def coverage(
    *, portfolio: Portfolio | None, products: QuerySet[Product], funding: dict[int, Decimal] | None = None
) -> Coverage:
    """Objectives with key results and aligned products, and which objectives and products are not covered.

    ``products`` are the products in view (a portfolio's, or every product); ``funding`` maps objective ids to their
    share of the money. Five queries whatever the number of products.
    """
    objectives = list(objective_list(portfolio=portfolio))
    views = {objective.pk: ObjectiveView(objective=objective) for objective in objectives}
    for kr in key_results(objectives=Objective.objects.filter(pk__in=views)):
        views[kr.objective_id].key_results.append(KeyResultView(kr))
    alignments = (
        Alignment.objects.filter(objective_id__in=views, product__in=products.order_by().values("pk"))
        .order_by("objective_id", "-weight", "product__name")
        .values_list("objective_id", "product__slug", "product__name", "weight", "pk", "product_id")
    )
    for objective_id, *aligned in alignments:
        view = views[objective_id]
        view.aligned_count += 1
        if len(view.aligned) < ALIGNED_NAMES_SHOWN:
            view.aligned.append(tuple(aligned))
    for objective_id, amount in (funding or {}).items():
        if objective_id in views:
            views[objective_id].funding = amount
    unaligned = products.filter(~Q(pk__in=Alignment.objects.values("product_id"))).order_by("name", "pk")
    totals = products.order_by().aggregate(
        n=Count("pk"), unaligned=Count("pk", filter=~Q(pk__in=Alignment.objects.values("product_id")))
    )
    ordered = [views[objective.pk] for objective in objectives]
    return Coverage(
        objectives=ordered,
        uncovered=[view for view in ordered if not view.covered],
        unaligned_products=unaligned,
        unaligned_count=totals["unaligned"],
        products=totals["n"],
    )
