"""Reads for a scorecard cell's drill-down: the products behind one rollup."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection

from portfolio.kpis.rollup_sql import EFFECTIVE_TARGET, PRODUCT_JOINS, SCOPE_COLUMNS
from portfolio.kpis.rules import product_gap, rollup_status
from portfolio.kpis.selectors.scopes import ScopeColumn
from portfolio.kpis.selectors.scorecard import RollupPoint
from portfolio.models import KPI, Rollup
from portfolio.periods import bucket_end, grain_bucket


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


@dataclass(frozen=True)
class CellDrilldown:
    kpi: KPI
    column: ScopeColumn
    grain: str
    period: dt.date
    rollup: RollupPoint | None
    products: list[ProductContribution]

    @property
    def combined_value(self) -> float | None:
        """The products' values combined by the KPI's aggregation: the rollup's value when it is fresh."""
        values = [p.value for p in self.products]
        if not values:
            return None
        combine = {"sum": sum, "min": min, "max": max}.get(self.kpi.aggregation)
        return combine(values) if combine else sum(values) / len(values)

    def status_count(self, status: str) -> int:
        return sum(1 for p in self.products if p.status == status)


# Rule 1 per product, from the bucket's per-product sum, count and latest value (docs/kpis.md).
DRILLDOWN_VALUE_SQL = {"sum": "c.v_sum", "avg": "c.v_sum / c.v_count", "last": "lm.value"}


def rollup_cell_products(*, kpi: KPI, column: ScopeColumn, grain: str, period: dt.date) -> CellDrilldown:
    """The products behind one rollup cell with their bucket values, targets, status and gap, worst first.

    The database combines each product's measurements inside the bucket exactly as the rollup does (rule 1;
    with ``sum`` over time the target is summed over the measured periods too). Two queries: the rollup row
    and the products.
    """
    start = grain_bucket(period, grain)
    where = ["m.kpi_id = %s", "m.period >= %s", "m.period < %s"]
    params: list[object] = [kpi.pk, start, bucket_end(start, grain)]
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
        rows = cursor.fetchall()
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
        )
        for product_id, slug, name, value, target, count in rows
    ]
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
    )
