"""Reads for the director scorecard and its trend: a fixed number of queries whatever the portfolio size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

from django.db.models import (
    Count,
    F,
    Q,
    Value,
    Window,
)
from django.db.models.functions import Concat, RowNumber
from django.utils import timezone

from portfolio.choices import Direction, Grain, Scope, Status, TimeAggregation
from portfolio.kpis.rules import STATUS_SEVERITY
from portfolio.kpis.selectors.comparisons import native_periods_recorded
from portfolio.kpis.selectors.forecasts import ForecastSummary, scorecard_forecasts
from portfolio.kpis.selectors.scopes import (
    ORGANISATION_COLUMN,
    ORGANISATION_KEY,
    ScopeColumn,
    period_pairs_filter,
    period_range_filter,
    scope_key_label,
    scope_keys_in_order,
)
from portfolio.models import KPI, Rollup
from portfolio.periods import native_periods_in, period_end
from portfolio.validity import FREQUENCY_NOUNS

# Wider than this a scorecard stops being readable (148 owners): the keys with most KPIs off target stay.
SCORECARD_MAX_COLUMNS = 12
TREND_MAX_LINES = 8


@dataclass(frozen=True)
class RollupPoint:
    """One rollup row's numbers."""

    period: dt.date
    value: float
    target: float | None
    status: str
    products: int


@dataclass(frozen=True)
class ScorecardCell:
    """One KPI in one scope key: its latest period's rollup and, when there is one, the period before. The
    comparison is worked out once per cell (``cached_property``): the page asks a cell for it several times."""

    kpi: KPI
    column: ScopeColumn
    grain: str
    current: RollupPoint
    previous: RollupPoint | None
    # The KPI's own periods in the two buckets (the current one to date): a sum over time is compared per period.
    current_periods: int = 1
    previous_periods: int = 1
    # The stored forecast of the current period (docs/kpis.md, "Forecasts"); None at the native grain, or when
    # the stored one is of another period (a range that ends before the KPI's latest period).
    forecast: ForecastSummary | None = None

    @cached_property
    def per_period(self) -> bool:
        """Whether the comparison divides by the number of periods: a ``sum`` over time at month or quarter grain,
        where a quarter to date (10 weeks) or a month of five Mondays would otherwise be set against a bucket of
        a different length (docs/kpis.md, "Comparisons"). ``avg`` and ``last`` are compared as they are."""
        return self.grain != Grain.NATIVE and self.kpi.time_aggregation == TimeAggregation.SUM

    @property
    def period_noun(self) -> str:
        """“week”, “month”, “quarter”: the KPI's own period, the unit of a per-period comparison."""
        return FREQUENCY_NOUNS[self.kpi.frequency]

    @cached_property
    def _compared(self) -> tuple[float, float] | None:
        if self.previous is None:
            return None
        if self.per_period and self.current_periods and self.previous_periods:
            return self.current.value / self.current_periods, self.previous.value / self.previous_periods
        return self.current.value, self.previous.value

    @cached_property
    def trend(self) -> str:
        """The value's move since the previous period, like for like: up, down or flat; empty without one."""
        compared = self._compared
        if compared is None:
            return ""
        now, before = compared
        if now > before:
            return "up"
        return "down" if now < before else "flat"

    @cached_property
    def change(self) -> float | None:
        """The relative change from the previous period, like for like (0.05 is 5 % up); None without one, or
        from zero."""
        compared = self._compared
        if compared is None or compared[1] == 0:
            return None
        now, before = compared
        return (now - before) / abs(before)

    @cached_property
    def moved_worse(self) -> bool:
        """A move in the worse direction bigger than the KPI's tolerance, whatever the status did."""
        change = self.change
        return (
            self.verdict == "worse" and change is not None and abs(change) * 100 > float(self.kpi.tolerance)
        )

    @cached_property
    def verdict(self) -> str:
        """Whether that move is better or worse in the KPI's direction; empty when flat or without one."""
        if self.trend in ("", "flat"):
            return ""
        return "better" if (self.trend == "up") == (self.kpi.direction == Direction.HIGHER) else "worse"

    @cached_property
    def worsened(self) -> bool:
        """Whether the status got worse since the previous period (on target → at risk → off target)."""
        if self.previous is None:
            return False
        now = STATUS_SEVERITY.get(self.current.status)
        before = STATUS_SEVERITY.get(self.previous.status)
        return now is not None and before is not None and now > before

    @property
    def query_string(self) -> str:
        """The drill-down's query string (``/portfolio/rollups/cell/?…``)."""
        return f"kpi={self.kpi.pk}&{self.column.query}&grain={self.grain}&period={self.current.period.isoformat()}"


@dataclass(frozen=True)
class ScorecardRow:
    kpi: KPI
    period: dt.date | None  # the KPI's latest period in the range (its organisation rollup's)
    previous_period: dt.date | None
    in_progress: bool  # the period has not ended yet: sums over it are partial
    cells: list[ScorecardCell | None]  # one per column; None where the key has no rollup for the period
    current_periods: int = 1  # the KPI's own periods in the current bucket so far, and in the previous one
    previous_periods: int = 1
    grain: str = Grain.NATIVE

    @property
    def per_period(self) -> bool:
        """A ``sum`` over time at month or quarter grain: compared per period (``ScorecardCell.per_period``)."""
        return self.grain != Grain.NATIVE and self.kpi.time_aggregation == TimeAggregation.SUM


@dataclass(frozen=True)
class Scorecard:
    dimension: str
    grain: str
    columns: list[ScopeColumn]  # the organisation first, then the dimension's keys
    rows: list[ScorecardRow]
    total_keys: int  # keys of the dimension with rollups, before the column cap
    changes: list[ScorecardCell]  # worse status first (the biggest fall), then worse moves beyond tolerance

    @property
    def has_data(self) -> bool:
        return any(row.period for row in self.rows)

    @property
    def key_columns(self) -> list[ScopeColumn]:
        return self.columns[1:]

    @property
    def hidden_keys(self) -> int:
        return self.total_keys - len(self.key_columns)


def rollup_scorecard(
    *,
    kpis: Sequence[KPI],
    dimension: str,
    grain: str,
    keys: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    today: dt.date | None = None,
) -> Scorecard:
    """KPIs down; the organisation and the keys of ``dimension`` across (only ``keys`` when given). Each cell is
    the rollup of the KPI's latest period in the range (periods are keyed by their first day), with the period
    before it for the trend.

    A KPI's periods are those of its organisation rollups: every product contributes there, so every key's
    periods are among them. With more keys than ``SCORECARD_MAX_COLUMNS`` the keys with most KPIs off target
    are shown. Each cell carries the stored forecast of its period when there is one (one query, none at the
    native grain, which has no forecasts). A fixed number of queries, whatever the number of products,
    measurements or keys.
    """
    labels = labels or {}
    today = today or timezone.localdate()
    in_range = period_range_filter(period_from, period_to)
    periods: dict[int, list[dt.date]] = {}
    organisation_periods = (
        Rollup.objects.filter(in_range, scope=Scope.ORGANISATION, grain=grain, kpi__in=[k.pk for k in kpis])
        .annotate(recent=Window(RowNumber(), partition_by=F("kpi_id"), order_by=F("period").desc()))
        .filter(recent__lte=2)
        .order_by("kpi_id", "-period")
        .values_list("kpi_id", "period")
    )
    for kpi_id, period in organisation_periods:
        periods.setdefault(kpi_id, []).append(period)

    # The keys with a rollup in their KPI's latest period, with how many KPIs each has off target and at risk:
    # a few rows per key, so a dimension with hundreds of keys (owners) costs no more than the columns shown.
    counts: dict[str, tuple[int, int]] = {}
    if periods and not keys:
        ranked = (
            Rollup.objects.filter(
                period_pairs_filter(periods, latest_only=True), scope=dimension, grain=grain
            )
            .order_by()
            .values_list("scope_key")
            .annotate(
                off=Count("pk", filter=Q(status=Status.OFF_TARGET)),
                risk=Count("pk", filter=Q(status=Status.AT_RISK)),
            )
        )
        counts = {key: (off, risk) for key, off, risk in ranked}
    ordered = scope_keys_in_order(dimension, set(counts) | set(keys), labels)
    shown = ordered
    if len(ordered) > SCORECARD_MAX_COLUMNS:
        # The keys with most KPIs off target (then at risk) stay, in their natural order.
        kept = set(
            sorted(ordered, key=lambda key: (-counts[key][0], -counts[key][1]))[:SCORECARD_MAX_COLUMNS]
        )
        shown = [key for key in ordered if key in kept]

    points: dict[tuple[str, str, int, dt.date], RollupPoint] = {}
    if periods:
        # Plain AND conditions that the (scope, grain, kpi, period, key) index answers with range scans; the
        # few extra rows they admit (a KPI's period that is another's latest) are never looked up below. The
        # keys are checked on the rows found (an expression, not the column): as one more index condition,
        # PostgreSQL would descend the index once per combination of the lists (over a thousand times for
        # owners, ten times slower than scanning the few keys in each range).
        rows = Rollup.objects.alias(key_found=Concat("scope_key", Value(""))).filter(
            scope__in=[Scope.ORGANISATION, dimension],
            grain=grain,
            kpi_id__in=list(periods),
            period__in=sorted({period for kpi_periods in periods.values() for period in kpi_periods}),
            key_found__in=[ORGANISATION_KEY, *shown],
        )
        values = rows.order_by().values_list(
            "scope", "scope_key", "kpi_id", "period", "value", "target", "status", "products"
        )
        for scope, key, kpi_id, period, value, target, status, products in values:
            points[(scope, key, kpi_id, period)] = RollupPoint(period, value, target, status, products)
    columns = [ORGANISATION_COLUMN] + [
        ScopeColumn(dimension, key, scope_key_label(dimension, key, labels)) for key in shown
    ]
    recorded = native_periods_recorded(kpis, periods, grain=grain, dimension=dimension, keys=shown)
    forecasts = scorecard_forecasts(grain=grain, columns=columns, kpi_ids=list(periods))

    rows_out: list[ScorecardRow] = []
    changes: list[tuple[tuple, ScorecardCell]] = []
    for kpi_index, kpi in enumerate(kpis):
        latest = periods.get(kpi.pk, [])
        current = latest[0] if latest else None
        previous = latest[1] if len(latest) > 1 else None
        expected = {
            "current_periods": native_periods_in(current, grain, kpi.frequency, until=today)
            if current
            else 1,
            "previous_periods": native_periods_in(previous, grain, kpi.frequency) if previous else 1,
        }

        def counts(
            scope: str, key: str, kpi=kpi, current=current, previous=previous, expected=expected
        ) -> dict:
            """The KPI's own periods with data in each bucket for this key (the calendar's count without)."""
            return {
                "current_periods": recorded.get((kpi.pk, scope, key, current), expected["current_periods"]),
                "previous_periods": recorded.get(
                    (kpi.pk, scope, key, previous), expected["previous_periods"]
                ),
            }

        cells: list[ScorecardCell | None] = []
        for column_index, column in enumerate(columns):
            point = points.get((column.scope, column.key, kpi.pk, current)) if current else None
            if point is None:
                cells.append(None)
                continue
            before = points.get((column.scope, column.key, kpi.pk, previous)) if previous else None
            forecast = forecasts.get((column.scope, column.key, kpi.pk))
            cell = ScorecardCell(
                kpi=kpi,
                column=column,
                grain=grain,
                current=point,
                previous=before,
                forecast=forecast if forecast is not None and forecast.period == current else None,
                **counts(column.scope, column.key),
            )
            cells.append(cell)
            if cell.worsened:
                now, was = STATUS_SEVERITY[point.status], STATUS_SEVERITY[before.status]
                changes.append(((0, was - now, -now, kpi_index, column_index), cell))
            elif cell.moved_worse:
                changes.append(((1, -abs(cell.change), 0, kpi_index, column_index), cell))
        rows_out.append(
            ScorecardRow(
                kpi=kpi,
                period=current,
                previous_period=previous,
                in_progress=bool(current and period_end(current, grain, kpi.frequency) > today),
                cells=cells,
                grain=grain,
                **counts(Scope.ORGANISATION, ORGANISATION_KEY),
            )
        )
    return Scorecard(
        dimension=dimension,
        grain=grain,
        columns=columns,
        rows=rows_out,
        total_keys=len(ordered),
        changes=[cell for _, cell in sorted(changes, key=lambda change: change[0])],
    )


@dataclass(frozen=True)
class ScopeTrend:
    """One KPI over the periods of a range, one series per scope key."""

    kpi: KPI
    grain: str
    columns: list[ScopeColumn]
    periods: list[dt.date]
    points: dict[tuple[str, dt.date], RollupPoint]

    def series(self) -> list[tuple[ScopeColumn, list[RollupPoint]]]:
        """Each key's points in period order (keys without any point are left out)."""
        series = []
        for column in self.columns:
            line = [p for period in self.periods if (p := self.points.get((column.key, period))) is not None]
            if line:
                series.append((column, line))
        return series

    def table(self) -> list[tuple[dt.date, list[RollupPoint | None]]]:
        """Period rows, one cell per key: the chart as a table."""
        return [
            (period, [self.points.get((column.key, period)) for column in self.columns])
            for period in self.periods
        ]


def rollup_trend(
    *,
    kpi: KPI,
    columns: Sequence[ScopeColumn],
    grain: str,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> ScopeTrend:
    """The rollups of one KPI for some keys of one scope over the range, in one query."""
    columns = list(columns)
    points: dict[tuple[str, dt.date], RollupPoint] = {}
    if columns:
        rows = (
            Rollup.objects.filter(
                period_range_filter(period_from, period_to),
                scope=columns[0].scope,
                grain=grain,
                kpi=kpi,
                scope_key__in=[c.key for c in columns],
            )
            .order_by()
            .values_list("scope_key", "period", "value", "target", "status", "products")
        )
        for key, period, value, target, status, products in rows:
            points[(key, period)] = RollupPoint(period, value, target, status, products)
    return ScopeTrend(
        kpi=kpi, grain=grain, columns=columns, periods=sorted({p for _, p in points}), points=points
    )
