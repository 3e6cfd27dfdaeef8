"""Reads for a scorecard cell's drill-down: the products behind one rollup."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from portfolio.kpis.rollup_sql import EFFECTIVE_TARGET, PRODUCT_JOINS, SCOPE_COLUMNS
from portfolio.kpis.rules import product_gap, rollup_status
from portfolio.kpis.selectors.forecasts import ForecastSummary, cell_forecast, product_forecasts
from portfolio.kpis.selectors.scopes import ScopeColumn
from portfolio.kpis.selectors.scorecard import RollupPoint
from portfolio.models import KPI, Rollup, ScopeForecast
from portfolio.periods import bucket_end, grain_bucket, period_end, period_start


@dataclass(frozen=True)
class ProductContribution:
    """One product's value in one rollup bucket, against its own (effective) target."""

    product_id: int
    slug: str
    name: str
    value: float
    target: float | None
    periods: int  # native periods measured inside the bucket
    status: str
    gap: float | None  # how far the product is off target in the KPI's direction; negative: ahead of it
    previous: float | None = None  # its value in the previous bucket (None: no value there)
    # Its share of the cell's change since the previous bucket, in the KPI's units (docs/kpis.md, "Drill-down"):
    # its delta for a sum (per period for a sum over time), its delta / n for an average, the whole change for
    # the product that sets a min or max (0 for the others). None without a previous value.
    contribution: float | None = None
    sets_value: bool = False  # the product whose value is the cell's min or max
    # Its stored forecast of the period (docs/kpis.md, "Forecasts"); None when it has none (the native grain, a
    # period other than the KPI's current one).
    forecast: ForecastSummary | None = None


@dataclass(frozen=True)
class CellDrilldown:
    kpi: KPI
    column: ScopeColumn
    grain: str
    period: dt.date
    rollup: RollupPoint | None
    products: list[ProductContribution]
    previous_period: dt.date | None = None
    # The cell's stored forecast, or why there is none (``value`` None and a ``reason``).
    forecast: ScopeForecast | ForecastSummary | None = None

    @property
    def top_movers(self) -> list[ProductContribution]:
        """Up to three products that moved the cell the worse way the most (the KPI's direction)."""
        sign = -1 if self.kpi.direction == "higher" else 1
        worse = [p for p in self.products if p.contribution is not None and p.contribution * sign > 0]
        return sorted(worse, key=lambda p: -p.contribution * sign)[:3]

    @property
    def combined_value(self) -> float | None:
        """The products' values combined by the KPI's aggregation: the rollup's value when it is fresh."""
        values = [p.value for p in self.products]
        if not values:
            return None
        combine = {"sum": sum, "min": min, "max": max}.get(self.kpi.aggregation)
        return combine(values) if combine else sum(values) / len(values)

    @property
    def unlisted_forecasts(self) -> int:
        """Products the cell's forecast combines that are not listed: a forecast but no value in the period yet
        (the period has just begun for them). Zero when every product of the forecast is in the list."""
        combined = getattr(self.forecast, "products", 0) if self.forecast is not None else 0
        listed = sum(1 for p in self.products if p.forecast is not None and p.forecast.value is not None)
        return max(0, combined - listed)

    def status_count(self, status: str) -> int:
        return sum(1 for p in self.products if p.status == status)


# Rule 1 per product, from the bucket's per-product sum, count and latest value (docs/kpis.md).
DRILLDOWN_VALUE_SQL = {"sum": "c.v_sum", "avg": "c.v_sum / c.v_count", "last": "lm.value"}


def _bucket_values(*, kpi: KPI, column: ScopeColumn, start: dt.date, end: dt.date) -> list[tuple]:
    """(product id, slug, name, value, target, periods) per product of ``column`` with values in [start, end)."""
    where = ["m.kpi_id = %s", "m.period >= %s", "m.period < %s"]
    params: list[object] = [kpi.pk, start, end]
    if not column.is_organisation:
        where.append(f"{SCOPE_COLUMNS[column.scope][1]} = %s")
        params.append(column.key)
    target_sql = "c.target * c.v_count" if kpi.time_aggregation == "sum" else "c.target"
    # Built from constants and validated choices only; every value from the request is a bound parameter.
    sql = f"""
        WITH per_product AS (
            SELECT m.product_id, SUM(m.value) AS v_sum, COUNT(*) AS v_count, MAX(m.period) AS last_period,
                   MAX({EFFECTIVE_TARGET}) AS target
            FROM portfolio_measurement m {PRODUCT_JOINS}
            WHERE {" AND ".join(where)}
            GROUP BY m.product_id
        )
        SELECT c.product_id, p.slug, p.name, {DRILLDOWN_VALUE_SQL[kpi.time_aggregation]}, {target_sql}, c.v_count
        FROM per_product c
        JOIN products_product p ON p.id = c.product_id
        JOIN portfolio_measurement lm
          ON lm.product_id = c.product_id AND lm.kpi_id = %s AND lm.period = c.last_period
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, kpi.pk])
        return cursor.fetchall()


def previous_bucket(start: dt.date, grain: str, frequency: str) -> dt.date:
    """The bucket before the one that starts on ``start``: the previous month or quarter, or native period."""
    day_before = start - dt.timedelta(days=1)
    return period_start(day_before, frequency) if grain == "native" else grain_bucket(day_before, grain)


def _contributions(
    kpi: KPI, grain: str, current: list[tuple], previous: dict[int, tuple]
) -> dict[int, tuple]:
    """Each product's (contribution, sets_value) to the cell's change, by the KPI's aggregation (docs/kpis.md)."""
    if not current:
        return {}
    per_period = grain != "native" and kpi.time_aggregation == "sum"
    now_periods = max(row[5] for row in current) if per_period else 1
    before_periods = max((row[5] for row in previous.values()), default=1) if per_period else 1
    out: dict[int, tuple] = {}
    if kpi.aggregation in ("min", "max"):
        pick = min if kpi.aggregation == "min" else max
        setter = pick(current, key=lambda row: row[3])
        before = [row[3] for row in previous.values()]
        change = setter[3] - pick(before) if before else None
        for row in current:
            sets = row[0] == setter[0]
            out[row[0]] = (change if sets else (0.0 if change is not None else None), sets)
        return out
    divisor = len(current) if kpi.aggregation == "avg" else 1
    for row in current:
        earlier = previous.get(row[0])
        if earlier is None:
            out[row[0]] = (None, False)
            continue
        delta = row[3] / now_periods - earlier[3] / before_periods
        out[row[0]] = (delta / divisor, False)
    return out


def rollup_cell_products(
    *, kpi: KPI, column: ScopeColumn, grain: str, period: dt.date, sort: str = "gap"
) -> CellDrilldown:
    """The products behind one rollup cell with their bucket values, targets, status, gap and forecast, worst
    first (or, ``sort="change"``, the biggest worse contribution to the change since the previous bucket first;
    ``sort="forecast"``, the lowest chance of ending the period on target first, products without one last).

    The database combines each product's measurements inside the bucket exactly as the rollup does (rule 1;
    with ``sum`` over time the target is summed over the measured periods too). Five queries: this bucket's
    products, the previous bucket's, their forecasts, the rollup row and the cell's forecast (three at the
    native grain, which has no forecasts).
    """
    start = grain_bucket(period, grain)
    end = bucket_end(start, grain) if grain != "native" else period_end(start, grain, kpi.frequency)
    rows = _bucket_values(kpi=kpi, column=column, start=start, end=end)
    before_start = previous_bucket(start, grain, kpi.frequency)
    previous = {row[0]: row for row in _bucket_values(kpi=kpi, column=column, start=before_start, end=start)}
    contributions = _contributions(kpi, grain, rows, previous)
    forecasts = product_forecasts(kpi=kpi, grain=grain, period=start, product_ids=[row[0] for row in rows])
    tolerance = float(kpi.tolerance)
    products = [
        ProductContribution(
            product_id=product_id,
            slug=slug,
            name=name,
            value=value,
            target=target,
            periods=count,
            status=rollup_status(value=value, target=target, direction=kpi.direction, tolerance=tolerance),
            gap=product_gap(value=value, target=target, direction=kpi.direction),
            previous=previous[product_id][3] if product_id in previous else None,
            contribution=contributions[product_id][0],
            sets_value=contributions[product_id][1],
            forecast=forecasts.get(product_id),
        )
        for product_id, slug, name, value, target, count in rows
    ]
    if sort == "forecast":
        # Most likely to miss first; then those with a forecast but no target, then those without a forecast.
        products.sort(key=_forecast_order)
    elif sort == "change":
        sign = -1 if kpi.direction == "higher" else 1  # worse first: a fall for higher-is-better
        products.sort(
            key=lambda p: (p.contribution is None, -(p.contribution or 0.0) * sign, p.name.casefold())
        )
    else:
        # Worst first: the biggest shortfall in the KPI's direction; products without a target last.
        products.sort(key=lambda p: (p.gap is None, -(p.gap or 0.0), p.name.casefold()))
    rollup = (
        Rollup.objects.filter(scope=column.scope, scope_key=column.key, grain=grain, kpi=kpi, period=start)
        .order_by()
        .values_list("period", "value", "target", "status", "products")
        .first()
    )
    return CellDrilldown(
        kpi=kpi,
        column=column,
        grain=grain,
        period=start,
        rollup=RollupPoint(*rollup) if rollup else None,
        products=products,
        previous_period=before_start if previous else None,
        forecast=cell_forecast(kpi=kpi, column=column, grain=grain, period=start),
    )


def _forecast_order(product: ProductContribution) -> tuple:
    forecast = product.forecast
    if forecast is None or forecast.value is None:
        return (2, 0.0, product.name.casefold())
    if forecast.p_on_target is None:
        return (1, 0.0, product.name.casefold())
    return (0, forecast.p_on_target, product.name.casefold())
