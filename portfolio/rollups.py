"""KPI rollups: SQL aggregation for the numbers, pure functions for status.

The rules (see docs/kpis.md):
1. per product, values within a grain bucket combine by the KPI's time aggregation (sum, avg, last);
2. across the products of a scope that have a value, by the KPI's aggregation (sum, avg, min, max);
3. targets combine exactly like values; a rollup has no target when any contributing product has none;
4. status compares value with target within the KPI's tolerance, in the KPI's direction.

Every number is computed by the database with ``INSERT … SELECT``: no Python loop over measurements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from portfolio.models import Grain, Measurement, Rollup, Scope, Status
from products.models import Health, Product

# --------------------------------------------------------------------------------------------------
# Pure rules
# --------------------------------------------------------------------------------------------------


def rollup_status(*, value: float, target: float | None, direction: str, tolerance: float) -> str:
    """On target, at risk (within tolerance % of the target) or off target; no target without one."""
    if target is None:
        return Status.NO_TARGET
    if direction == "lower":
        if value <= target:
            return Status.ON_TARGET
        if value <= target * (1 + tolerance / 100):
            return Status.AT_RISK
        return Status.OFF_TARGET
    if value >= target:
        return Status.ON_TARGET
    if value >= target * (1 - tolerance / 100):
        return Status.AT_RISK
    return Status.OFF_TARGET


STATUS_SEVERITY = {Status.NO_TARGET: 0, Status.ON_TARGET: 1, Status.AT_RISK: 2, Status.OFF_TARGET: 3}
HEALTH_BY_SEVERITY = {0: Health.NO_DATA, 1: Health.ON_TARGET, 2: Health.AT_RISK, 3: Health.OFF_TARGET}


def grain_bucket(period: dt.date, grain: str) -> dt.date:
    """The first day of the bucket (native period, month, quarter) that contains ``period``."""
    if grain == Grain.MONTH:
        return period.replace(day=1)
    if grain == Grain.QUARTER:
        return dt.date(period.year, 3 * ((period.month - 1) // 3) + 1, 1)
    return period


# --------------------------------------------------------------------------------------------------
# SQL pieces (SQLite and PostgreSQL give identical results)
# --------------------------------------------------------------------------------------------------


def _bucket_sql(grain: str) -> str:
    if grain == Grain.NATIVE:
        return "m.period"
    if connection.vendor == "postgresql":
        unit = "month" if grain == Grain.MONTH else "quarter"
        return f"CAST(date_trunc('{unit}', m.period) AS date)"
    if grain == Grain.MONTH:
        return "date(m.period, 'start of month')"
    return (
        "date(m.period, 'start of month', "
        "'-' || ((CAST(strftime('%%m', m.period) AS integer) - 1) %% 3) || ' months')"
    )


SCOPE_COLUMNS = {
    Scope.ORGANISATION: "",
    Scope.PORTFOLIO: "portfolio_key",
    Scope.STAGE: "stage_key",
    Scope.MARKET: "market_key",
    Scope.FOCUS: "focus_key",
    Scope.OWNER: "owner_key",
}
ATTRIBUTE_COLUMNS = [column for column in SCOPE_COLUMNS.values() if column]

SCOPE_KEY_SQL = {
    Scope.ORGANISATION: "'all'",
    Scope.PORTFOLIO: "pf.slug",
    Scope.STAGE: "p.stage",
    Scope.MARKET: "p.market",
    Scope.FOCUS: "p.focus",
    Scope.OWNER: "u.username",
}


def _float_sql(column: str) -> str:
    return f"CAST({column} AS {'double precision' if connection.vendor == 'postgresql' else 'REAL'})"


def _status_sql(value: str, target: str) -> str:
    tolerance = _float_sql("k.tolerance")
    return f"""CASE
        WHEN {target} IS NULL THEN 'no_target'
        WHEN k.direction = 'lower' AND {value} <= {target} THEN 'on_target'
        WHEN k.direction = 'lower' AND {value} <= {target} * (1 + {tolerance} / 100.0) THEN 'at_risk'
        WHEN k.direction = 'lower' THEN 'off_target'
        WHEN {value} >= {target} THEN 'on_target'
        WHEN {value} >= {target} * (1 - {tolerance} / 100.0) THEN 'at_risk'
        ELSE 'off_target' END"""


AGGREGATES = ("sum", "avg", "min", "max")


def _pick_sql(prefix: str) -> str:
    """The KPI's cross-product aggregation, chosen among the four that the grouped rows carry."""
    return f"""CASE k.aggregation WHEN 'sum' THEN g.{prefix}_sum WHEN 'avg' THEN g.{prefix}_avg
        WHEN 'min' THEN g.{prefix}_min ELSE g.{prefix}_max END"""


def _aggregates_sql() -> str:
    columns = [f"{fn.upper()}(b.value) AS v_{fn}" for fn in AGGREGATES]
    columns += [f"{fn.upper()}(b.target) AS t_{fn}" for fn in AGGREGATES]
    columns += ["COUNT(*) AS products", "COUNT(b.target) AS targeted"]
    return ", ".join(columns)


@dataclass(frozen=True)
class RollupSelection:
    """Which rollups to recompute: some KPIs (all when empty) and some buckets (all when empty)."""

    kpi_ids: tuple[int, ...] = ()
    periods: tuple[dt.date, ...] = ()  # native periods whose native, month and quarter buckets change


def _measurement_filter(selection: RollupSelection, grain: str) -> tuple[str, list]:
    clauses, params = [], []
    if selection.kpi_ids:
        clauses.append(f"m.kpi_id IN ({', '.join(['%s'] * len(selection.kpi_ids))})")
        params.extend(selection.kpi_ids)
    if selection.periods:
        ranges = []
        for period in sorted(set(selection.periods)):
            start = grain_bucket(period, grain)
            end = _bucket_end(start, grain)
            ranges.append("(m.period >= %s AND m.period < %s)")
            params.extend([start, end])
        clauses.append("(" + " OR ".join(ranges) + ")")
    return (" AND ".join(clauses) or "1=1"), params


def _bucket_end(start: dt.date, grain: str) -> dt.date:
    if grain == Grain.NATIVE:
        return start + dt.timedelta(days=1)
    months = 1 if grain == Grain.MONTH else 3
    month = start.month - 1 + months
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def _grouped_sql() -> str:
    """Rule 2 for every scope in one pass: GROUPING SETS on PostgreSQL, a UNION ALL on SQLite."""
    aggregates = _aggregates_sql()
    if connection.vendor == "postgresql":
        keys = [column for scope, column in SCOPE_COLUMNS.items() if scope != Scope.ORGANISATION]
        sets = ", ".join(["(b.kpi_id, b.bucket)", *[f"(b.kpi_id, b.bucket, b.{key})" for key in keys]])
        scope_case = " ".join(
            f"WHEN GROUPING(b.{column}) = 0 THEN '{scope}'"
            for scope, column in SCOPE_COLUMNS.items()
            if scope != Scope.ORGANISATION
        )
        key_coalesce = ", ".join(f"b.{column}" for column in keys)
        return f"""
            SELECT b.kpi_id, b.bucket, CASE {scope_case} ELSE 'organisation' END AS scope,
                   COALESCE({key_coalesce}, 'all') AS scope_key, {aggregates}
            FROM bucketed b GROUP BY GROUPING SETS ({sets})
        """
    selects = []
    for scope, column in SCOPE_COLUMNS.items():
        key = "'all'" if scope == Scope.ORGANISATION else f"b.{column}"
        group = "b.kpi_id, b.bucket" + ("" if scope == Scope.ORGANISATION else f", b.{column}")
        selects.append(
            f"SELECT b.kpi_id, b.bucket, '{scope}' AS scope, {key} AS scope_key, {aggregates} "
            f"FROM bucketed b GROUP BY {group}"
        )
    return " UNION ALL ".join(selects)


def _insert_sql(grain: str, where: str) -> str:
    """One statement per grain: per-product bucket values (rule 1), every scope's rollups (rules 2 to 4)."""
    bucket = _bucket_sql(grain)
    attributes = ", ".join(
        f"{SCOPE_KEY_SQL[scope]} AS {column}"
        for scope, column in SCOPE_COLUMNS.items()
        if scope != Scope.ORGANISATION
    )
    joins = """
        JOIN products_product p ON p.id = m.product_id
        JOIN portfolio_portfolio pf ON pf.id = p.portfolio_id
        JOIN products_user u ON u.id = p.owner_id
        JOIN portfolio_kpi k ON k.id = m.kpi_id
        LEFT JOIN portfolio_kpitarget t ON t.product_id = m.product_id AND t.kpi_id = m.kpi_id
    """
    target = "COALESCE(t.target, k.default_target)"
    if grain == Grain.NATIVE:
        bucketed = f"""
            SELECT m.kpi_id, m.period AS bucket, m.value, {target} AS target, {attributes}
            FROM portfolio_measurement m {joins} WHERE {where}
        """
    else:
        # The latest value in the bucket, for time aggregation "last"; only those KPIs pay for the ranking.
        bucketed = f"""
            SELECT r.kpi_id, r.bucket, {", ".join(f"r.{c}" for c in ATTRIBUTE_COLUMNS)},
                   CASE r.time_aggregation WHEN 'sum' THEN SUM(r.value) WHEN 'avg' THEN AVG(r.value)
                        ELSE MAX(CASE WHEN r.latest = 1 THEN r.value END) END AS value,
                   CASE r.time_aggregation WHEN 'sum' THEN SUM(r.target) WHEN 'avg' THEN AVG(r.target)
                        ELSE MAX(CASE WHEN r.latest = 1 THEN r.target END) END AS target
            FROM (
                SELECT m.kpi_id, m.product_id, {bucket} AS bucket, m.value, {target} AS target,
                       k.time_aggregation, {attributes},
                       CASE WHEN k.time_aggregation = 'last' THEN ROW_NUMBER() OVER (
                           PARTITION BY m.kpi_id, m.product_id, {bucket} ORDER BY m.period DESC) END AS latest
                FROM portfolio_measurement m {joins} WHERE {where}
            ) r
            GROUP BY r.kpi_id, r.product_id, r.bucket, r.time_aggregation, {", ".join(f"r.{c}" for c in ATTRIBUTE_COLUMNS)}
        """
    value = _pick_sql("v")
    target_value = f"CASE WHEN g.targeted < g.products THEN NULL ELSE {_pick_sql('t')} END"
    return f"""
        WITH bucketed AS ({bucketed}),
        grouped AS ({_grouped_sql()}),
        picked AS (
            SELECT g.kpi_id, g.scope, g.scope_key, g.bucket, g.products, k.direction, k.tolerance,
                   {value} AS value, {target_value} AS target
            FROM grouped g JOIN portfolio_kpi k ON k.id = g.kpi_id
        )
        INSERT INTO portfolio_rollup
            (scope, scope_key, kpi_id, grain, period, value, target, status, products, computed_at)
        SELECT k.scope, k.scope_key, k.kpi_id, '{grain}', k.bucket, k.value, k.target,
               {_status_sql("k.value", "k.target")}, k.products, %s
        FROM picked k
    """


# --------------------------------------------------------------------------------------------------
# Recompute
# --------------------------------------------------------------------------------------------------


def _delete_rollups(selection: RollupSelection, grain: str) -> None:
    rollups = Rollup.objects.filter(grain=grain)
    if selection.kpi_ids:
        rollups = rollups.filter(kpi_id__in=selection.kpi_ids)
    if selection.periods:
        rollups = rollups.filter(period__in={grain_bucket(p, grain) for p in selection.periods})
    rollups._raw_delete(rollups.db)


RECOMPUTE_STEPS = len(Grain) + 1


def rollups_recompute(
    *,
    kpi_ids: Iterable[int] = (),
    periods: Iterable[dt.date] = (),
    grains: Sequence[str] = tuple(Grain),
    progress: Callable[[str], None] | None = None,
) -> None:
    """Replace the rollups of the given KPIs and periods (everything when both are empty) in one transaction.

    Readers see either the old rows or the new ones.
    """
    selection = RollupSelection(kpi_ids=tuple(sorted(set(kpi_ids))), periods=tuple(sorted(set(periods))))
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Room for the hash aggregates and the "last" ranking to stay in memory; this transaction only.
            cursor.execute("SET LOCAL work_mem = '256MB'")
        for grain in grains:
            _delete_rollups(selection, grain)
            where, params = _measurement_filter(selection, grain)
            cursor.execute(_insert_sql(grain, where), [*params, now])
            if progress:
                progress(f"{grain} grain")
        products_refresh_health()
        if progress:
            progress("product health")


def products_refresh_health() -> None:
    """Store each product's health: the worst status among its KPIs' latest values (no data: none)."""
    latest = """
        SELECT m.product_id, m.value, COALESCE(t.target, k.default_target) AS target, k.direction, k.tolerance,
               ROW_NUMBER() OVER (PARTITION BY m.product_id, m.kpi_id ORDER BY m.period DESC) AS latest
        FROM portfolio_measurement m
        JOIN portfolio_kpi k ON k.id = m.kpi_id
        LEFT JOIN portfolio_kpitarget t ON t.product_id = m.product_id AND t.kpi_id = m.kpi_id
    """
    status = _status_sql("k.value", "k.target")
    severity = (
        f"CASE {status} WHEN 'off_target' THEN 3 WHEN 'at_risk' THEN 2 WHEN 'on_target' THEN 1 ELSE 0 END"
    )
    sql = f"""
        SELECT k.product_id, MAX({severity}) FROM ({latest}) k WHERE k.latest = 1 GROUP BY k.product_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql)
        severities = dict(cursor.fetchall())
    products = list(Product.objects.only("pk", "health"))
    changed = []
    for product in products:
        health = HEALTH_BY_SEVERITY[severities.get(product.pk, 0)]
        if product.health != health:
            product.health = health
            changed.append(product)
    Product.objects.bulk_update(changed, ["health"], batch_size=500)


def rollups_recompute_for_measurements(*, measurements: Iterable[Measurement]) -> None:
    """Recompute exactly the buckets that some written measurements fall in."""
    rows = [(m.kpi_id, m.period) for m in measurements]
    if rows:
        rollups_recompute(kpi_ids={k for k, _ in rows}, periods={p for _, p in rows})


def rollups_recompute_all(*, progress: Callable[[str], None] | None = None) -> None:
    """Recompute every rollup of every KPI, dropping rollups of KPIs that no longer have measurements."""
    with transaction.atomic():
        Rollup.objects.all()._raw_delete(Rollup.objects.db)
        rollups_recompute(progress=progress)
