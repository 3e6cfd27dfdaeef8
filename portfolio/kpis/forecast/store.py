"""Stored forecasts: every product's series of every KPI forecast for the KPI's current period at each grain and
for the next quarter, and every rollup scope's forecast combined from its products' (docs/kpis.md, "Forecasts").

The current period of a KPI is the bucket (its own period, month or quarter) holding the KPI's latest measured
period: the period the scorecard shows. A product's forecast projects the rest of that bucket from its own
native history (``batch.forecast_batch``: all of a KPI's series in one vectorised pass); the next period (horizon
1) is projected past the rest of the current one, by a method backtested on that same question. A scope's forecast
combines its products' forecasts by the KPI's aggregation, as rollup rule 2 combines values: the point forecasts
add up (``sum``), average (``avg``) or give the smallest or largest (``min``/``max``), so a drill-down adds up to
its cell; the spread of a ``sum`` or ``avg`` is that of independent normal errors, ``min`` and ``max`` are
simulated (``SIMULATIONS`` draws from a fixed seed: the same inputs give the same figures). A scope's target
combines its products' targets the same way (none when one of them has none).

Written by ``rollups_recompute`` in its transaction (readers see the old forecasts or the new, never a mix), as
columns of numbers rather than model instances: at a million measurements there are 66,000 product forecasts.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from portfolio.choices import (
    Aggregation,
    Direction,
    Frequency,
    Grain,
    Horizon,
    Scope,
    Status,
    TimeAggregation,
)
from portfolio.kpis.forecast.accuracy import SEASONS
from portfolio.kpis.forecast.batch import forecast_batch
from portfolio.kpis.forecast.projection import Z_80, Z_95, Forecast, forecast_period
from portfolio.models import KPI, KPITarget, Measurement, ProductForecast, ScopeForecast
from portfolio.periods import bucket_end, grain_bucket, native_periods_in, period_start
from products.models import Product

#: How far back a forecast looks, in the KPI's own periods: two years of weeks, three of months, four of quarters.
HISTORY_PERIODS = {Frequency.WEEKLY: 104, Frequency.MONTHLY: 36, Frequency.QUARTERLY: 16}
SIMULATIONS = 500
#: The native grain's current period is one period, recorded or not: nothing to project within it.
FORECAST_GRAINS = (Grain.MONTH, Grain.QUARTER)
CURRENT, NEXT = Horizon.CURRENT, Horizon.NEXT
#: The periods forecast at each grain: the next month is read nowhere, and would cost the full recompute a
#: sixth more (docs/kpis.md, "The next period").
HORIZONS = {Grain.MONTH: (CURRENT,), Grain.QUARTER: (CURRENT, NEXT)}
FORECASTS = [(grain, horizon) for grain in FORECAST_GRAINS for horizon in HORIZONS[grain]]
COMBINED = "combined"
NUMBERS = ("value", "low_80", "high_80", "low_95", "high_95", "target", "p_on_target", "p_within_tolerance")
NUMBERS += ("needed_per_period", "backtest_error")
COUNTS = ("reached_after", "done", "remaining", "history_used", "origins")
TEXTS = ("status", "method", "reason")


# --------------------------------------------------------------------------------------------------
# Periods as integers: a KPI's periods are consecutive numbers, so gaps and counts are subtraction
# --------------------------------------------------------------------------------------------------


def period_index(day: dt.date, frequency: str) -> int:
    if frequency == Frequency.MONTHLY:
        return day.year * 12 + day.month - 1
    if frequency == Frequency.QUARTERLY:
        return day.year * 4 + (day.month - 1) // 3
    return (day.toordinal() - 1) // 7  # 1 January of year 1 was a Monday


def period_of_index(index: int, frequency: str) -> dt.date:
    if frequency == Frequency.MONTHLY:
        return dt.date(index // 12, index % 12 + 1, 1)
    if frequency == Frequency.QUARTERLY:
        return dt.date(index // 4, index % 4 * 3 + 1, 1)
    return dt.date.fromordinal(index * 7 + 1)


def bucket_indices(bucket: dt.date, grain: str, frequency: str) -> tuple[int, int]:
    """The index of the bucket's first native period and how many native periods it holds (a period belongs to
    the bucket that holds its first day)."""
    first = period_start(bucket, frequency)
    start = period_index(first, frequency) + (1 if first < bucket else 0)
    return start, native_periods_in(bucket, grain, frequency)


# --------------------------------------------------------------------------------------------------
# Columns: the forecasts of one KPI at one grain, one entry per product (or per scope key)
# --------------------------------------------------------------------------------------------------


@dataclass
class Columns:
    kpi: KPI
    grain: str
    period: dt.date
    owners: list  # product ids, or (scope, key) pairs
    numbers: dict[str, np.ndarray] = field(default_factory=dict)  # NaN: none
    counts: dict[str, np.ndarray] = field(default_factory=dict)  # -1: none
    texts: dict[str, list[str]] = field(default_factory=dict)
    products: np.ndarray | None = None
    horizon: int = CURRENT

    @classmethod
    def empty(cls, kpi: KPI, grain: str, period: dt.date, owners: list, horizon: int = CURRENT) -> Columns:
        size = len(owners)
        return cls(
            kpi,
            grain,
            period,
            owners,
            {name: np.full(size, np.nan) for name in NUMBERS},
            {name: np.full(size, -1 if name == "reached_after" else 0, dtype=np.int64) for name in COUNTS},
            {name: [""] * size for name in TEXTS},
            horizon=horizon,
        )

    @property
    def ok(self) -> np.ndarray:
        return ~np.isnan(self.numbers["value"])

    def put(self, index: int, result, *, done: int, remaining: int) -> None:
        """One ``forecast_period`` result."""
        self.counts["done"][index], self.counts["remaining"][index] = done, remaining
        if not isinstance(result, Forecast):
            self.texts["reason"][index] = result.reason
            return
        for name in NUMBERS:
            if name != "target":
                self.numbers[name][index] = _number(getattr(result, name))
        self.counts["reached_after"][index] = -1 if result.reached_after is None else result.reached_after
        self.counts["history_used"][index] = result.history_used
        self.counts["origins"][index] = result.origins
        self.texts["status"][index] = result.status
        self.texts["method"][index] = result.method

    def put_batch(self, indices: list[int], result, *, done: int, remaining: int) -> None:
        rows = np.array(indices, dtype=np.int64)
        for name in NUMBERS:
            if name != "target":
                self.numbers[name][rows] = getattr(result, name)
        for name in ("reached_after", "history_used", "origins"):
            self.counts[name][rows] = getattr(result, name)
        self.counts["done"][rows], self.counts["remaining"][rows] = done, remaining
        for position, index in enumerate(indices):
            for name in TEXTS:
                self.texts[name][index] = getattr(result, name)[position]
        # A row without a forecast keeps no numbers but its target.
        self.numbers["backtest_error"][rows[~result.ok]] = np.nan

    def rows(self, now: dt.datetime) -> Iterable[tuple]:
        """The table's rows, in ``PRODUCT_COLUMNS`` or ``SCOPE_COLUMNS`` order."""
        size = len(self.owners)
        columns = [
            repeat(self.kpi.pk, size),
            repeat(self.grain, size),
            repeat(self.period, size),
            repeat(self.horizon, size),
        ]
        for name in NUMBERS:
            column = self.numbers[name]
            column = np.where(np.isfinite(column), column, np.nan).astype(object)
            column[np.isnan(column.astype(float))] = None
            columns.append(column.tolist())
        reached = self.counts["reached_after"].astype(object)
        reached[self.counts["reached_after"] < 0] = None
        columns.append(reached.tolist())
        columns += [self.counts[name].tolist() for name in COUNTS[1:]]
        columns += [self.texts[name] for name in TEXTS]
        columns.append(repeat(now, size))
        if self.products is None:
            columns.append(self.owners)
        else:
            columns += [
                [scope for scope, _ in self.owners],
                [key for _, key in self.owners],
                self.products.tolist(),
            ]
        return zip(*columns, strict=True)


def _number(value) -> float:
    if value is None:
        return np.nan
    value = float(value)
    return value if math.isfinite(value) else np.nan


_COLUMNS = ["kpi_id", "grain", "period", "horizon", *NUMBERS, *COUNTS, *TEXTS, "computed_at"]
PRODUCT_COLUMNS = [*_COLUMNS, "product_id"]
#: Binary COPY (a third of the time of text) needs each column's PostgreSQL type; the rest are float8.
_COPY_TYPES = {
    "kpi_id": "int8",
    "product_id": "int8",
    "grain": "varchar",
    "period": "date",
    "horizon": "int2",
    "reached_after": "int2",
    "done": "int2",
    "remaining": "int2",
    "history_used": "int4",
    "origins": "int4",
    "status": "varchar",
    "method": "varchar",
    "reason": "varchar",
    "computed_at": "timestamptz",
    "scope": "varchar",
    "scope_key": "varchar",
    "products": "int4",
}
SCOPE_COLUMNS = [*_COLUMNS, "scope", "scope_key", "products"]


# --------------------------------------------------------------------------------------------------
# Product series
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    product_id: int
    first: int  # period index of its first value
    last: int
    values: list[float | None]  # one per period index from first to last; None where a period has no value
    gaps: bool = False


def _load_series(kpi: KPI, latest: dt.date, *, product_ids: Sequence[int] = ()) -> list[Series]:
    """The KPI's product series (all, or some products') over its history window: one query, answered from the
    ``measurement_kpi_series`` index alone; a second for the rare series with gaps."""
    frequency = kpi.frequency
    start = period_of_index(period_index(latest, frequency) - HISTORY_PERIODS[frequency] + 1, frequency)
    some = f" AND product_id IN ({', '.join(['%s'] * len(product_ids))})" if product_ids else ""
    params = [kpi.pk, start, *product_ids]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT product_id, MIN(period), MAX(period), COUNT(*), array_agg(value ORDER BY period) "
                f"FROM portfolio_measurement WHERE kpi_id = %s AND period >= %s{some} GROUP BY product_id "
                "ORDER BY product_id",
                params,
            )
            grouped = cursor.fetchall()
        else:
            cursor.execute(
                "SELECT product_id, period, value FROM portfolio_measurement WHERE kpi_id = %s AND period >= %s"
                f"{some} ORDER BY product_id, period",
                params,
            )
            by_product: dict[int, list] = defaultdict(list)
            for product_id, period, value in cursor.fetchall():
                by_product[product_id].append((_as_date(period), value))
            grouped = [
                (pk, rows[0][0], rows[-1][0], len(rows), [value for _, value in rows])
                for pk, rows in by_product.items()
            ]
    series, gapped = [], []
    for product_id, first, last, count, values in grouped:
        first_index = period_index(_as_date(first), frequency)
        last_index = period_index(_as_date(last), frequency)
        if count == last_index - first_index + 1:
            series.append(Series(product_id, first_index, last_index, list(values)))
        else:
            gapped.append(product_id)
    if gapped:
        rows = Measurement.objects.filter(kpi=kpi, product_id__in=gapped, period__gte=start).values_list(
            "product_id", "period", "value"
        )
        by_product: dict[int, dict[int, float]] = defaultdict(dict)
        for product_id, period, value in rows:
            by_product[product_id][period_index(period, frequency)] = value
        for product_id, values in by_product.items():
            first_index, last_index = min(values), max(values)
            history = [values.get(index) for index in range(first_index, last_index + 1)]
            series.append(Series(product_id, first_index, last_index, history, gaps=True))
    return series


def _as_date(value) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _product_columns(
    kpi: KPI, grain: str, bucket: dt.date, series: Sequence[Series], targets, horizon: int = CURRENT
) -> Columns:
    """Every product's forecast of the KPI's current bucket at ``grain`` (``bucket``), or of the next one."""
    frequency = kpi.frequency
    current_start, _ = bucket_indices(bucket, grain, frequency)
    if horizon == NEXT:
        bucket = bucket_end(bucket, grain)
    start, count = bucket_indices(bucket, grain, frequency)
    end = start + count - 1
    columns = Columns.empty(kpi, grain, bucket, [one.product_id for one in series], horizon)
    season = SEASONS.get(frequency, 0)
    tolerance = float(kpi.tolerance)
    groups: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    bucket_targets = []
    for index, one in enumerate(series):
        target = targets.get(one.product_id, kpi.default_target)
        if target is not None and kpi.time_aggregation == TimeAggregation.SUM:
            target *= count  # the whole period's target: the native target over each of its periods
        bucket_targets.append(target)
        columns.numbers["target"][index] = np.nan if target is None else target
        if one.last < current_start - 1:
            stopped = period_of_index(one.last, frequency)
            columns.texts["reason"][index] = f"No value since {stopped:%d %b %Y}: the series has stopped."
            continue
        in_bucket = one.values[max(0, start - one.first) :] if one.last >= start else []
        done = sum(1 for value in in_bucket if value is not None)
        remaining = end - max(one.last, start - 1)
        ahead = max(0, start - 1 - one.last)
        if one.gaps:
            result = forecast_period(
                history=one.values,
                done=done,
                remaining=remaining,
                time_aggregation=kpi.time_aggregation,
                target=target,
                direction=kpi.direction,
                tolerance=tolerance,
                season=season,
                ahead=ahead,
            )
            columns.put(index, result, done=done, remaining=remaining)
        else:
            groups[(done, remaining, ahead)].append(index)
    for (done, remaining, ahead), indices in groups.items():
        result = forecast_batch(
            histories=[series[index].values for index in indices],
            done=done,
            remaining=remaining,
            time_aggregation=kpi.time_aggregation,
            targets=[bucket_targets[index] for index in indices],
            direction=kpi.direction,
            tolerance=tolerance,
            season=season,
            ahead=ahead,
        )
        columns.put_batch(indices, result, done=done, remaining=remaining)
    return columns


# --------------------------------------------------------------------------------------------------
# Scopes
# --------------------------------------------------------------------------------------------------


def product_scope_keys() -> dict[int, dict[str, str]]:
    """Each product's key in every scope, as the rollups key them."""
    rows = Product.objects.values_list("pk", "portfolio__slug", "stage", "market", "focus", "owner__username")
    return {
        pk: {
            Scope.ORGANISATION: "all",
            Scope.PORTFOLIO: portfolio,
            Scope.STAGE: stage,
            Scope.MARKET: market,
            Scope.FOCUS: focus,
            Scope.OWNER: owner,
        }
        for pk, portfolio, stage, market, focus, owner in rows
    }


_erf = np.frompyfunc(math.erf, 1, 1)


def _p_good(threshold: np.ndarray, centre: np.ndarray, spread: np.ndarray, direction: str) -> np.ndarray:
    """P(a normal value, ``centre`` ± ``spread``, ends on the good side of ``threshold``); NaN without one."""
    result = np.full(len(centre), np.nan)
    valid = ~np.isnan(threshold) & ~np.isnan(centre)
    wide = valid & (spread > 0)
    below = 0.5 * (1 + _erf((threshold[wide] - centre[wide]) / (spread[wide] * math.sqrt(2))).astype(float))
    point = valid & ~(spread > 0)
    if direction == Direction.LOWER:
        result[wide] = below
        result[point] = centre[point] <= threshold[point]
    else:
        result[wide] = 1 - below
        result[point] = centre[point] >= threshold[point]
    return result


def statuses_of(value: np.ndarray, target: np.ndarray, direction: str, tolerance: float) -> np.ndarray:
    """``rules.rollup_status`` of each value against its target (NaN: no target), the same arithmetic."""
    with np.errstate(invalid="ignore"):
        if direction == Direction.LOWER:
            on, risk = value <= target, value <= target * (1 + tolerance / 100)
        else:
            on, risk = value >= target, value >= target * (1 - tolerance / 100)
    status = np.where(on, Status.ON_TARGET, np.where(risk, Status.AT_RISK, Status.OFF_TARGET))
    return np.where(np.isnan(target), Status.NO_TARGET, status)


def _edge(target: np.ndarray, kpi: KPI) -> np.ndarray:
    tolerance = float(kpi.tolerance) / 100
    return target * (1 + tolerance) if kpi.direction == Direction.LOWER else target * (1 - tolerance)


ScopeCodes = dict[str, tuple[np.ndarray, list[str]]]


def scope_codes(
    product_ids: Sequence[int], keys: dict[int, dict[str, str]], scopes: Sequence[str] = tuple(Scope)
) -> ScopeCodes:
    """Per scope, each product's key as a number (-1: none) and the keys in order: what ``combine`` groups by."""
    codes: ScopeCodes = {}
    for scope in scopes:
        labels = [keys.get(pk, {}).get(scope) for pk in product_ids]
        names = sorted({label for label in labels if label is not None})
        code_of = {name: code for code, name in enumerate(names)}
        codes[scope] = (np.array([code_of.get(label, -1) for label in labels], dtype=np.int64), names)
    return codes


def combine(products: Columns, codes_by_scope: ScopeCodes) -> Columns:
    """Every scope key's forecast of one KPI at one grain from its products' (``products``; ``codes_by_scope``
    from ``scope_codes`` of the same products in the same order)."""
    kpi = products.kpi
    aggregation = kpi.aggregation
    ok = products.ok
    value = products.numbers["value"]
    spread = np.where(ok, np.maximum(0.0, (products.numbers["high_95"] - value) / Z_95), 0.0)
    target = products.numbers["target"]
    draws = None
    if aggregation in (Aggregation.MIN, Aggregation.MAX) and ok.any():
        rng = np.random.default_rng(kpi.pk)
        draws = value[ok, None] + spread[ok, None] * rng.standard_normal((int(ok.sum()), SIMULATIONS))
    owners, parts = [], []
    for scope, (codes, names) in codes_by_scope.items():
        if not names:
            continue
        owners += [(scope, name) for name in names]
        parts.append(_combine_scope(kpi, codes, len(names), ok, value, spread, target, draws, products))
    combined = Columns.empty(kpi, products.grain, products.period, owners, products.horizon)
    combined.products = (
        np.concatenate([part["products"] for part in parts]) if parts else np.zeros(0, np.int64)
    )
    offset = 0
    for part in parts:
        size = len(part["products"])
        window = slice(offset, offset + size)
        for name, column in part["numbers"].items():
            combined.numbers[name][window] = column
        for name, column in part["counts"].items():
            combined.counts[name][window] = column
        for name, column in part["texts"].items():
            combined.texts[name][offset : offset + size] = column
        offset += size
    return combined


def _combine_scope(kpi, codes, size, ok, value, spread, target, draws, products: Columns) -> dict:
    member = codes >= 0
    use = member & ok
    code = codes[use]
    count = np.bincount(code, minlength=size)
    has = count > 0
    aggregation = kpi.aggregation
    untargeted = np.bincount(code, weights=np.isnan(target[use]), minlength=size)
    safe_target = np.nan_to_num(target[use])
    with np.errstate(invalid="ignore", divide="ignore"):
        if aggregation in (Aggregation.SUM, Aggregation.AVG):
            total = np.bincount(code, weights=value[use], minlength=size)
            variance = np.bincount(code, weights=spread[use] ** 2, minlength=size)
            target_total = np.bincount(code, weights=safe_target, minlength=size)
            if aggregation == Aggregation.AVG:
                centre, sigma, scope_target = total / count, np.sqrt(variance) / count, target_total / count
            else:
                centre, sigma, scope_target = total, np.sqrt(variance), target_total
            scope_target = np.where(untargeted > 0, np.nan, scope_target)
            low_80, high_80 = centre - Z_80 * sigma, centre + Z_80 * sigma
            low_95, high_95 = centre - Z_95 * sigma, centre + Z_95 * sigma
            p_on = _p_good(scope_target, centre, sigma, kpi.direction)
            p_within = _p_good(_edge(scope_target, kpi), centre, sigma, kpi.direction)
        else:
            pick = np.minimum if aggregation == Aggregation.MIN else np.maximum
            start = np.inf if aggregation == Aggregation.MIN else -np.inf
            centre = np.full(size, start)
            pick.at(centre, code, value[use])
            scope_target = np.full(size, start)
            pick.at(scope_target, code, safe_target)
            scope_target = np.where(untargeted > 0, np.nan, scope_target)
            order = np.argsort(code, kind="stable")
            samples = np.full((size, SIMULATIONS), np.nan)
            present = np.flatnonzero(has)
            if len(present):
                starts = np.searchsorted(code[order], present)
                reduced = pick.reduceat(draws[order], starts, axis=0)  # draws: the rows of ``ok`` = ``use``
                samples[present] = reduced
            quantiles = np.full((4, size), np.nan)
            if len(present):
                quantiles[:, present] = np.quantile(samples[present], [0.1, 0.9, 0.025, 0.975], axis=1)
            low_80, high_80, low_95, high_95 = quantiles
            edge = _edge(scope_target, kpi)
            if kpi.direction == Direction.LOWER:
                p_on = (samples <= scope_target[:, None]).mean(axis=1)
                p_within = (samples <= edge[:, None]).mean(axis=1)
            else:
                p_on = (samples >= scope_target[:, None]).mean(axis=1)
                p_within = (samples >= edge[:, None]).mean(axis=1)
            p_on = np.where(np.isnan(scope_target), np.nan, p_on)
            p_within = np.where(np.isnan(scope_target), np.nan, p_within)
        errors = products.numbers["backtest_error"][use]
        finite = ~np.isnan(errors)
        error = np.bincount(code[finite], weights=errors[finite], minlength=size) / np.bincount(
            code[finite], minlength=size
        )
    numbers = {
        "value": centre,
        "low_80": low_80,
        "high_80": high_80,
        "low_95": low_95,
        "high_95": high_95,
        "target": scope_target,
        "p_on_target": p_on,
        "p_within_tolerance": p_within,
        "backtest_error": error,
    }
    numbers = {name: np.where(has, column, np.nan) for name, column in numbers.items()}
    numbers["target"] = np.where(has, scope_target, np.nan)
    counts = {}
    for name, pick_count in (("done", np.maximum), ("remaining", np.maximum), ("history_used", np.maximum)):
        column = np.zeros(size, dtype=np.int64)
        pick_count.at(column, code, products.counts[name][use])
        counts[name] = column
    origins = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(origins, code, products.counts["origins"][use])
    counts["origins"] = np.where(has, origins, 0)
    tolerance = float(kpi.tolerance)
    statuses = np.where(has, statuses_of(centre, scope_target, kpi.direction, tolerance), "").tolist()
    methods = np.where(has, COMBINED, "").tolist()
    reasons = [""] * size
    product_reasons: dict[int, set[str]] = defaultdict(set)
    for index in np.flatnonzero(member & ~ok):
        product_reasons[int(codes[index])].add(products.texts["reason"][index])
    for key in np.flatnonzero(~has):
        found = product_reasons.get(int(key), set())
        reasons[key] = found.pop() if len(found) == 1 else "No product here has a forecast."
    return {
        "numbers": numbers,
        "counts": counts,
        "texts": {"status": statuses, "method": methods, "reason": reasons},
        "products": count,
    }


# --------------------------------------------------------------------------------------------------
# Recompute
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComputedForecasts:
    """Every forecast of some KPIs (all when ``kpi_ids`` is empty), computed and not yet written."""

    kpi_ids: tuple[int, ...]
    products: list[Columns]
    scopes: list[Columns]


def forecasts_recompute(
    *,
    kpi_ids: Iterable[int] = (),
    product_ids: Iterable[int] = (),
    now: dt.datetime | None = None,
    computed: ComputedForecasts | None = None,
) -> int:
    """Replace the stored forecasts of the given KPIs (every KPI when empty): every product series at every
    grain, then every scope. With one KPI and ``product_ids`` (the products whose measurements changed), only
    those products' forecasts are redone and the scopes recombined from the stored rest, unless the KPI's current
    period has moved on. ``computed``: every forecast computed beforehand (``forecasts_compute``, during a staged
    full recompute), only written here. Call inside the rollups' transaction. Returns the product forecasts
    written."""
    now = now or timezone.now()
    if computed is None:
        kpi_ids = sorted(set(kpi_ids))
        product_ids = sorted(set(product_ids))
        if product_ids and len(kpi_ids) == 1:
            kpi = KPI.objects.filter(pk=kpi_ids[0]).first()
            latest = _latest_periods([kpi]) if kpi else {}
            if kpi and kpi.pk in latest:
                written = _update_products(kpi, latest[kpi.pk], product_ids, now)
                if written is not None:
                    return written
        computed = forecasts_compute(kpi_ids=kpi_ids)
    if computed.kpi_ids:
        _delete(ProductForecast.objects.filter(kpi_id__in=computed.kpi_ids))
        _delete(ScopeForecast.objects.filter(kpi_id__in=computed.kpi_ids))
    elif connection.vendor == "postgresql":
        # Every row is replaced: emptying the tables spares the inserts the index entries of 55,000 deleted
        # rows (a third of the time), as the rollups' full recompute does. Readers wait for the commit.
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {ProductForecast._meta.db_table}, {ScopeForecast._meta.db_table}")
    else:
        _delete(ProductForecast.objects.all())
        _delete(ScopeForecast.objects.all())
    _insert(
        ProductForecast, PRODUCT_COLUMNS, (row for columns in computed.products for row in columns.rows(now))
    )
    _insert(ScopeForecast, SCOPE_COLUMNS, (row for columns in computed.scopes for row in columns.rows(now)))
    return sum(len(columns.owners) for columns in computed.products)


def forecasts_compute(*, kpi_ids: Iterable[int] = ()) -> ComputedForecasts:
    """Every product's and every scope's forecast of the given KPIs (all when empty), without writing them: reads
    only measurements, targets and products, so a full recompute runs it on its own connection while the
    rollups are staged (``portfolio.kpis.engine.rollups_staged``)."""
    kpi_ids = tuple(sorted(set(kpi_ids)))
    kpis = list(KPI.objects.filter(pk__in=kpi_ids) if kpi_ids else KPI.objects.all())
    latest = _latest_periods(kpis)
    own_targets = _own_targets(kpis)
    keys = product_scope_keys()
    product_columns, scope_columns = [], []
    for kpi in kpis:
        if kpi.pk not in latest:
            continue
        series = _load_series(kpi, latest[kpi.pk])
        codes = scope_codes([one.product_id for one in series], keys)
        for grain, horizon in FORECASTS:
            columns = _product_columns(
                kpi, grain, grain_bucket(latest[kpi.pk], grain), series, own_targets[kpi.pk], horizon
            )
            product_columns.append(columns)
            scope_columns.append(combine(columns, codes))
    return ComputedForecasts(kpi_ids, product_columns, scope_columns)


def _latest_periods(kpis: Sequence[KPI]) -> dict[int, dt.date]:
    """Each KPI's latest measured period: its current buckets are the ones holding it."""
    return dict(
        Measurement.objects.filter(kpi__in=[kpi.pk for kpi in kpis])
        .order_by()
        .values("kpi_id")
        .annotate(latest=Max("period"))
        .values_list("kpi_id", "latest")
    )


def _own_targets(kpis: Sequence[KPI], product_ids: Sequence[int] = ()) -> dict[int, dict[int, float]]:
    """Products' own targets per KPI (the KPI's default applies to the others)."""
    targets: dict[int, dict[int, float]] = defaultdict(dict)
    rows = KPITarget.objects.filter(kpi__in=kpis)
    if product_ids:
        rows = rows.filter(product_id__in=product_ids)
    for kpi_id, product_id, target in rows.values_list("kpi_id", "product_id", "target"):
        targets[kpi_id][product_id] = target
    return targets


def _update_products(kpi: KPI, latest: dt.date, product_ids: Sequence[int], now: dt.datetime) -> int | None:
    """Redo some products' forecasts of one KPI and recombine every scope from the stored others; None (nothing
    written) when the stored forecasts are not of the KPI's current periods, so that all must be redone."""
    stored = _stored_columns(ProductForecast.objects.filter(kpi=kpi), {kpi.pk: kpi})
    buckets = {grain: grain_bucket(latest, grain) for grain in FORECAST_GRAINS}
    if any(
        (kpi.pk, grain, horizon) not in stored
        or stored[(kpi.pk, grain, horizon)].period
        != (bucket if horizon == CURRENT else bucket_end(bucket, grain))
        for grain, bucket in buckets.items()
        for horizon in HORIZONS[grain]
    ):
        return None
    series = _load_series(kpi, latest, product_ids=product_ids)
    targets = _own_targets([kpi], product_ids)[kpi.pk]
    keys = product_scope_keys()
    changed = set(product_ids)
    fresh_columns, scope_columns, codes = [], [], {}
    for grain, horizon in FORECASTS:
        bucket = buckets[grain]
        fresh = _product_columns(kpi, grain, bucket, series, targets, horizon)
        fresh_columns.append(fresh)
        merged = _merge(stored[(kpi.pk, grain, horizon)], fresh, changed)
        owners = tuple(
            merged.owners
        )  # the same products at both grains, as a rule: their keys looked up once
        if owners not in codes:
            codes[owners] = scope_codes(merged.owners, keys)
        scope_columns.append(combine(merged, codes[owners]))
    _delete(ProductForecast.objects.filter(kpi=kpi, product_id__in=product_ids))
    _delete(ScopeForecast.objects.filter(kpi=kpi))
    _insert(ProductForecast, PRODUCT_COLUMNS, (row for columns in fresh_columns for row in columns.rows(now)))
    _insert(ScopeForecast, SCOPE_COLUMNS, (row for columns in scope_columns for row in columns.rows(now)))
    return sum(len(columns.owners) for columns in fresh_columns)


STORED_FIELDS = ["kpi_id", "grain", "horizon", "period", "product_id", *NUMBERS, *COUNTS, *TEXTS]


def _stored_columns(queryset, kpis: dict[int, KPI]) -> dict[tuple[int, str, int], Columns]:
    """Stored product forecasts as columns, per KPI, grain and horizon (in product order)."""
    groups: dict[tuple[int, str, int], list[tuple]] = defaultdict(list)
    for row in queryset.order_by("kpi_id", "grain", "horizon", "product_id").values_list(*STORED_FIELDS):
        groups[row[:3]].append(row[3:])
    result = {}
    for (kpi_id, grain, horizon), rows in groups.items():
        if kpi_id not in kpis:
            continue
        columns = Columns.empty(kpis[kpi_id], grain, rows[0][0], [row[1] for row in rows], horizon)
        for position, name in enumerate(NUMBERS, start=2):
            columns.numbers[name][:] = [np.nan if row[position] is None else row[position] for row in rows]
        for position, name in enumerate(COUNTS, start=2 + len(NUMBERS)):
            missing = -1 if name == "reached_after" else 0
            columns.counts[name][:] = [missing if row[position] is None else row[position] for row in rows]
        for position, name in enumerate(TEXTS, start=2 + len(NUMBERS) + len(COUNTS)):
            columns.texts[name] = [row[position] for row in rows]
        result[(kpi_id, grain, horizon)] = columns
    return result


def _merge(stored: Columns, fresh: Columns, changed: set[int]) -> Columns:
    """The stored columns with the ``changed`` products' rows replaced by ``fresh`` (their new forecasts), in
    product order, as a full recompute orders them (the simulated draws of ``min``/``max`` follow that order)."""
    keep = [index for index, owner in enumerate(stored.owners) if owner not in changed]
    owners = [stored.owners[index] for index in keep] + list(fresh.owners)
    order = np.argsort(np.array(owners, dtype=np.int64), kind="stable")
    merged = Columns(
        stored.kpi, stored.grain, stored.period, [owners[index] for index in order], horizon=stored.horizon
    )
    for part in ("numbers", "counts"):
        for name, column in getattr(stored, part).items():
            joined = np.concatenate([column[keep], getattr(fresh, part)[name]])
            getattr(merged, part)[name] = joined[order]
    for name, column in stored.texts.items():
        joined = [column[index] for index in keep] + list(fresh.texts[name])
        merged.texts[name] = [joined[index] for index in order]
    return merged


def forecasts_recombine(*, scope: str, scope_keys: Sequence[str], now: dt.datetime | None = None) -> None:
    """Rebuild one scope's forecasts for some keys (every key when empty) from the stored product forecasts
    (a product moved from one key to another: its own forecasts stand)."""
    now = now or timezone.now()
    keys = {pk: {scope: product[scope]} for pk, product in product_scope_keys().items()}
    wanted = set(scope_keys) or {product[scope] for product in keys.values()}
    members = [pk for pk, product in keys.items() if product[scope] in wanted]
    kpis = {kpi.pk: kpi for kpi in KPI.objects.all()}
    stored = _stored_columns(ProductForecast.objects.filter(product_id__in=members), kpis)
    rows = []
    for columns in stored.values():
        result = combine(columns, scope_codes(columns.owners, keys, [scope]))
        rows += [row for (_, key), row in zip(result.owners, result.rows(now), strict=True) if key in wanted]
    old = ScopeForecast.objects.filter(scope=scope)
    _delete(old.filter(scope_key__in=sorted(wanted)) if scope_keys else old)
    _insert(ScopeForecast, SCOPE_COLUMNS, rows)


def _delete(queryset) -> None:
    queryset._raw_delete(queryset.db)


def _insert(model, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Rows of plain values into the model's table: COPY on PostgreSQL (66,000 rows in a fraction of a second),
    one prepared statement for all on SQLite."""
    table = model._meta.db_table
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([_COPY_TYPES.get(name, "float8") for name in columns])
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            # The table and column names are the model's own, never a user's value; the values are parameters.
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", list(rows))
