"""Objectives, key results and alignment: the coverage view's reads and the alignment writes.

A key result's current value is its KPI's latest native rollup in the objective's scope (the portfolio's key,
or the organisation for an organisation-wide objective), read with one annotated query; its status follows the
KPI's direction and tolerance against the key result's target (``portfolio.kpis.rules.rollup_status``). Its
forecast is the KPI's quarter forecast in the same scope (one query for every key result), and its chance is
against the key result's own target (``portfolio.kpis.forecast.chance``), not the rollup's.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from django.db.models import Case, Count, F, OuterRef, Q, QuerySet, Subquery, When

from portfolio.choices import Grain, Horizon, Scope, Status
from portfolio.kpis.forecast.chance import chance_of_target, period_target
from portfolio.kpis.rules import rollup_status
from portfolio.models import Alignment, KeyResult, Objective, Portfolio, Rollup, ScopeForecast
from portfolio.periods import native_periods_in
from products.models import Product

ALIGNED_NAMES_SHOWN = 6
NO_DATA = "no_data"
#: A key result's statuses, worst first: the order of an objective's summary and of the page's status filter.
KEY_RESULT_STATUSES = {
    Status.OFF_TARGET.value: "Off target",
    Status.AT_RISK.value: "At risk",
    Status.ON_TARGET.value: "On target",
    NO_DATA: "No data",
    Status.NO_TARGET.value: "No target",
}
#: The same, as the page says "objectives with a key result …".
KEY_RESULT_STATUS_PHRASES = {
    Status.OFF_TARGET.value: "off target",
    Status.AT_RISK.value: "at risk",
    Status.ON_TARGET.value: "on target",
    NO_DATA: "without data",
    Status.NO_TARGET.value: "without a target",
}


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


#: The forecast a key result shows: its KPI's current quarter in the objective's scope.
KEY_RESULT_FORECAST_GRAIN = Grain.QUARTER


def objective_scope(objective: Objective) -> tuple[str, str]:
    """The rollup scope and key of an objective: its portfolio's, or the organisation for an organisation-wide
    one."""
    if objective.portfolio_id is None:
        return Scope.ORGANISATION, "all"
    return Scope.PORTFOLIO, objective.portfolio.slug


def key_result_forecasts(key_results: list[KeyResult]) -> dict[tuple[str, str, int], ScopeForecast]:
    """The quarter forecasts of the key results' KPIs in their objectives' scopes, keyed by (scope, key, KPI):
    one query whatever the number of key results (the forecasts' unique index: scope, grain, KPI, key)."""
    wanted = {(*objective_scope(kr.objective), kr.kpi_id) for kr in key_results if kr.kpi_id}
    if not wanted:
        return {}
    kpi_ids = sorted({kpi_id for _, _, kpi_id in wanted})
    slugs = sorted({key for scope, key, _ in wanted if scope == Scope.PORTFOLIO})
    where = Q(scope=Scope.ORGANISATION, scope_key="all")
    if slugs:
        portfolio_keys = Q(scope=Scope.PORTFOLIO, scope_key__in=slugs)
        organisation = any(scope == Scope.ORGANISATION for scope, _, _ in wanted)
        where = (where | portfolio_keys) if organisation else portfolio_keys
    rows = ScopeForecast.objects.filter(
        where, grain=KEY_RESULT_FORECAST_GRAIN, horizon=Horizon.CURRENT, kpi_id__in=kpi_ids
    ).order_by()
    return {(row.scope, row.scope_key, row.kpi_id): row for row in rows}


@dataclass
class KeyResultView:
    key_result: KeyResult
    forecast: ScopeForecast | None = None  # the KPI's quarter forecast in the objective's scope

    @cached_property
    def forecast_target(self) -> float | None:
        """The key result's target for the whole forecast period: a ``sum`` KPI's target is per native period
        (as its current value, the latest period's rollup), so a quarter's is that over the quarter's periods."""
        kr, forecast = self.key_result, self.forecast
        if kr.kpi is None or kr.target is None or forecast is None:
            return None
        periods = native_periods_in(forecast.period, forecast.grain, kr.kpi.frequency)
        return period_target(kr.target, time_aggregation=kr.kpi.time_aggregation, native_periods=periods)

    @cached_property
    def forecast_chance(self) -> float | None:
        """The chance that the forecast period ends on the key result's own target (None: no target or no
        forecast)."""
        forecast, target = self.forecast, self.forecast_target
        if forecast is None or forecast.value is None or target is None or forecast.high_95 is None:
            return None
        return chance_of_target(
            value=forecast.value,
            high_95=forecast.high_95,
            target=target,
            direction=self.key_result.kpi.direction,
        )

    @cached_property
    def status(self) -> str:
        kr = self.key_result
        if kr.kpi is None or kr.current is None:
            return NO_DATA
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

    @property
    def status_counts(self) -> list[tuple[str, int]]:
        """How many of its key results are in each status, worst first; statuses without one left out."""
        return _status_counts(kr.status for kr in self.key_results)

    @property
    def progress(self) -> int | None:
        """The mean progress of the key results that have one (higher-is-better KPIs with a value), else None."""
        values = [kr.progress for kr in self.key_results if kr.progress is not None]
        return round(sum(values) / len(values)) if values else None


def _status_counts(statuses) -> list[tuple[str, int]]:
    counts = Counter(statuses)
    return [(status, counts[status]) for status in KEY_RESULT_STATUSES if counts[status]]


@dataclass
class ObjectiveGroup:
    """The objectives of one portfolio, or the organisation-wide ones (``portfolio`` None), in page order."""

    portfolio: Portfolio | None
    objectives: list[ObjectiveView] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.portfolio.slug if self.portfolio else "organisation"

    @property
    def label(self) -> str:
        return self.portfolio.name if self.portfolio else "Organisation-wide"

    @property
    def status_counts(self) -> list[tuple[str, int]]:
        return _status_counts(kr.status for view in self.objectives for kr in view.key_results)

    @property
    def uncovered(self) -> int:
        return sum(1 for view in self.objectives if not view.covered)


def objectives_with_status(objectives: list[ObjectiveView], status: str | None) -> list[ObjectiveView]:
    """The objectives with at least one key result in ``status`` (a ``KEY_RESULT_STATUSES`` key); all without."""
    if not status:
        return list(objectives)
    return [view for view in objectives if any(kr.status == status for kr in view.key_results)]


def objective_groups(objectives: list[ObjectiveView]) -> list[ObjectiveGroup]:
    """``objectives`` grouped by portfolio, in their order (``objective_list``: the organisation's first, then by
    portfolio name). Plain Python over what ``coverage`` read: no query."""
    groups: dict[int | None, ObjectiveGroup] = {}
    for view in objectives:
        portfolio_id = view.objective.portfolio_id
        if portfolio_id not in groups:
            groups[portfolio_id] = ObjectiveGroup(portfolio=view.objective.portfolio)
        groups[portfolio_id].objectives.append(view)
    return list(groups.values())


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
    share of the money. Six queries whatever the number of products (one for the key results' forecasts).
    """
    objectives = list(objective_list(portfolio=portfolio))
    views = {objective.pk: ObjectiveView(objective=objective) for objective in objectives}
    results = list(key_results(objectives=Objective.objects.filter(pk__in=views)))
    for kr in results:
        kr.objective = views[kr.objective_id].objective  # the objective and its portfolio, read already
    forecasts = key_result_forecasts(results)
    for kr in results:
        forecast = forecasts.get((*objective_scope(kr.objective), kr.kpi_id)) if kr.kpi_id else None
        views[kr.objective_id].key_results.append(KeyResultView(kr, forecast=forecast))
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
