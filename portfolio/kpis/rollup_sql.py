"""The SQL text of the rollup recompute, built from constants and enum values only (every user value
is a bound parameter). See docs/kpis.md for the rules the statements implement."""

from __future__ import annotations

from django.db import connection

from portfolio.choices import Grain, Scope

# --------------------------------------------------------------------------------------------------
# SQL pieces (SQLite and PostgreSQL give identical results)
# --------------------------------------------------------------------------------------------------

# Each scope's key, carried as a column of the per-product rows.
SCOPE_COLUMNS = {
    Scope.PORTFOLIO: ("portfolio_key", "pf.slug"),
    Scope.STAGE: ("stage_key", "p.stage"),
    Scope.MARKET: ("market_key", "p.market"),
    Scope.FOCUS: ("focus_key", "p.focus"),
    Scope.OWNER: ("owner_key", "u.username"),
}
KEY_COLUMNS = [column for column, _ in SCOPE_COLUMNS.values()]
KEYS_SELECT = ", ".join(f"{expression} AS {column}" for column, expression in SCOPE_COLUMNS.values())
PRODUCT_JOINS = """
    JOIN products_product p ON p.id = m.product_id
    JOIN portfolio_portfolio pf ON pf.id = p.portfolio_id
    JOIN products_user u ON u.id = p.owner_id
    JOIN portfolio_kpi k ON k.id = m.kpi_id
    LEFT JOIN portfolio_kpitarget t ON t.product_id = m.product_id AND t.kpi_id = m.kpi_id
"""
EFFECTIVE_TARGET = "COALESCE(t.target, k.default_target)"

# A recompute first writes each product's scope keys to a small temporary table (one row per product), so the
# big scans join one table rather than three. ``combo_id`` numbers each combination of portfolio, stage, market
# and focus: PostgreSQL's first grouping pass hashes that integer (and the owner's id) instead of five strings.
PRODUCTS_TABLE = "spm_rollup_products"
RECOMPUTE_JOINS = f"""
    JOIN {PRODUCTS_TABLE} kp ON kp.product_id = m.product_id
    JOIN portfolio_kpi k ON k.id = m.kpi_id
    LEFT JOIN portfolio_kpitarget t ON t.product_id = m.product_id AND t.kpi_id = m.kpi_id
"""
RECOMPUTE_KEYS = ", ".join(["kp.combo_id", "kp.owner_id", *(f"kp.{column}" for column in KEY_COLUMNS)])


def products_table_sql() -> str:
    combo = "DENSE_RANK() OVER (ORDER BY pf.slug, p.stage, p.market, p.focus)"
    return f"""
        CREATE TEMPORARY TABLE {PRODUCTS_TABLE} AS
        SELECT p.id AS product_id, {combo} AS combo_id, p.owner_id, {KEYS_SELECT}
        FROM products_product p
        JOIN portfolio_portfolio pf ON pf.id = p.portfolio_id
        JOIN products_user u ON u.id = p.owner_id
    """


def _month_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def _quarter_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"CAST(date_trunc('quarter', {column}) AS date)"
    return f"date({column}, '-' || ((CAST(strftime('%%m', {column}) AS integer) - 1) %% 3) || ' months')"


def _float_sql(column: str) -> str:
    return f"CAST({column} AS {'double precision' if connection.vendor == 'postgresql' else 'REAL'})"


def status_sql(value: str, target: str) -> str:
    tolerance = _float_sql("k.tolerance")
    return f"""CASE
        WHEN {target} IS NULL THEN 'no_target'
        WHEN k.direction = 'lower' AND {value} <= {target} THEN 'on_target'
        WHEN k.direction = 'lower' AND {value} <= {target} * (1 + {tolerance} / 100.0) THEN 'at_risk'
        WHEN k.direction = 'lower' THEN 'off_target'
        WHEN {value} >= {target} THEN 'on_target'
        WHEN {value} >= {target} * (1 - {tolerance} / 100.0) THEN 'at_risk'
        ELSE 'off_target' END"""


def _grouped_sql(source: str, scopes: tuple[str, ...]) -> str:
    """Rule 2 for the given scopes over per-product rows ``source`` (kpi_id, bucket, value, target, keys)."""
    keyed = {scope: column for scope, (column, _) in SCOPE_COLUMNS.items() if scope in scopes}
    aggregates = (
        "SUM(b.value) AS v_sum, MIN(b.value) AS v_min, MAX(b.value) AS v_max, "
        "SUM(b.target) AS t_sum, MIN(b.target) AS t_min, MAX(b.target) AS t_max, "
        "COUNT(*) AS products, COUNT(b.target) AS targeted"
    )
    if connection.vendor == "postgresql" and set(scopes) == set(Scope):
        return _grouped_two_level_sql(source, aggregates)
    if connection.vendor == "postgresql" and keyed:
        sets = [f"(b.kpi_id, b.bucket, b.{column})" for column in keyed.values()]
        if Scope.ORGANISATION in scopes:
            sets.insert(0, "(b.kpi_id, b.bucket)")
        scope = " ".join(f"WHEN GROUPING(b.{column}) = 0 THEN '{s}'" for s, column in keyed.items())
        key = ", ".join(f"b.{column}" for column in keyed.values())
        return f"""
            SELECT b.kpi_id, b.bucket, CASE {scope} ELSE 'organisation' END AS scope,
                   COALESCE({key}, 'all') AS scope_key, {aggregates}
            FROM {source} b GROUP BY GROUPING SETS ({", ".join(sets)})
        """
    selects = []
    if Scope.ORGANISATION in scopes:
        selects.append(
            f"SELECT b.kpi_id, b.bucket, 'organisation' AS scope, 'all' AS scope_key, {aggregates} "
            f"FROM {source} b GROUP BY b.kpi_id, b.bucket"
        )
    selects += [
        f"SELECT b.kpi_id, b.bucket, '{scope}' AS scope, b.{column} AS scope_key, {aggregates} "
        f"FROM {source} b GROUP BY b.kpi_id, b.bucket, b.{column}"
        for scope, column in keyed.items()
    ]
    return " UNION ALL ".join(selects)


def _grouped_two_level_sql(source: str, aggregates: str) -> str:
    """Every scope in two passes on PostgreSQL: the per-product rows are grouped once by the combination of
    portfolio, stage, market and focus (and once by owner), then those few partial sums, minima, maxima and
    counts are grouped per scope. Sums of partial sums equal the sums, up to float rounding."""
    combo = ["portfolio_key", "stage_key", "market_key", "focus_key"]
    partial = f"""
        SELECT b.kpi_id, b.bucket, b.combo_id, b.owner_id, GROUPING(b.owner_id) AS by_combo, {aggregates}
        FROM {source} b
        GROUP BY GROUPING SETS ((b.kpi_id, b.bucket, b.combo_id), (b.kpi_id, b.bucket, b.owner_id))
    """
    merged = (
        "SUM(c.v_sum) AS v_sum, MIN(c.v_min) AS v_min, MAX(c.v_max) AS v_max, "
        "SUM(c.t_sum) AS t_sum, MIN(c.t_min) AS t_min, MAX(c.t_max) AS t_max, "
        "CAST(SUM(c.products) AS bigint) AS products, CAST(SUM(c.targeted) AS bigint) AS targeted"
    )
    sets = ", ".join(["(c.kpi_id, c.bucket)", *[f"(c.kpi_id, c.bucket, ck.{column})" for column in combo]])
    scope = " ".join(
        f"WHEN GROUPING(ck.{column}) = 0 THEN '{s}'"
        for s, (column, _) in SCOPE_COLUMNS.items()
        if column in combo
    )
    return f"""
        WITH partial AS MATERIALIZED ({partial}),
        combos AS (SELECT DISTINCT combo_id, {", ".join(combo)} FROM {PRODUCTS_TABLE}),
        owners AS (SELECT DISTINCT owner_id, owner_key FROM {PRODUCTS_TABLE})
        SELECT c.kpi_id, c.bucket, CASE {scope} ELSE 'organisation' END AS scope,
               COALESCE({", ".join(f"ck.{column}" for column in combo)}, 'all') AS scope_key, {merged}
        FROM partial c JOIN combos ck ON ck.combo_id = c.combo_id WHERE c.by_combo = 1
        GROUP BY GROUPING SETS ({sets})
        UNION ALL
        SELECT c.kpi_id, c.bucket, 'owner', o.owner_key, c.v_sum, c.v_min, c.v_max, c.t_sum, c.t_min, c.t_max,
               c.products, c.targeted
        FROM partial c JOIN owners o ON o.owner_id = c.owner_id WHERE c.by_combo = 0
    """


ROLLUP_COLUMNS = "scope, scope_key, kpi_id, grain, period, value, target, status, products, computed_at"


def _insert_sql(
    grain: str, source_cte: str, source: str, scopes: tuple[str, ...], table: str = "portfolio_rollup"
) -> str:
    """Rules 2 to 4: group per scope, pick the KPI's aggregation, judge the status, insert."""

    def pick(prefix: str) -> str:
        return f"""CASE k.aggregation WHEN 'sum' THEN g.{prefix}_sum WHEN 'avg' THEN g.{prefix}_sum / g.products
            WHEN 'min' THEN g.{prefix}_min ELSE g.{prefix}_max END"""

    return f"""
        WITH {source_cte}grouped AS ({_grouped_sql(source, scopes)}),
        picked AS (
            SELECT g.kpi_id, g.scope, g.scope_key, g.bucket, g.products, k.direction, k.tolerance,
                   {pick("v")} AS value,
                   CASE WHEN g.targeted < g.products THEN NULL ELSE {pick("t")} END AS target
            FROM grouped g JOIN portfolio_kpi k ON k.id = g.kpi_id
        )
        INSERT INTO {table} ({ROLLUP_COLUMNS})
        SELECT k.scope, k.scope_key, k.kpi_id, '{grain}', k.bucket, k.value, k.target,
               {status_sql("k.value", "k.target")}, k.products, %s
        FROM picked k
    """


def native_sql(where: str, scopes: tuple[str, ...] = tuple(Scope), table: str = "portfolio_rollup") -> str:
    source = f"""native AS (
        SELECT m.kpi_id, m.period AS bucket, m.value, {EFFECTIVE_TARGET} AS target, {RECOMPUTE_KEYS}
        FROM portfolio_measurement m {RECOMPUTE_JOINS} WHERE {where}
    ), """
    return _insert_sql(Grain.NATIVE, source, "native", scopes, table)


MONTHS_TABLE = "spm_rollup_months"


def months_table_sql(where: str) -> str:
    """Per product and month: sum and count of values, latest period, effective target (rule 1's inputs).
    The scope keys are joined later, per product: grouping by them here would only cost time."""
    month = _month_sql("m.period")
    return f"""
        CREATE TEMPORARY TABLE {MONTHS_TABLE} AS
        SELECT m.kpi_id, m.product_id, {month} AS month, k.time_aggregation,
               SUM(m.value) AS v_sum, COUNT(*) AS v_count, MAX(m.period) AS last_period,
               MAX({EFFECTIVE_TARGET}) AS target
        FROM portfolio_measurement m {RECOMPUTE_JOINS}
        WHERE {where}
        GROUP BY m.kpi_id, m.product_id, {month}, k.time_aggregation
    """


def calendar_sql(grain: str, scopes: tuple[str, ...] = tuple(Scope), table: str = "portfolio_rollup") -> str:
    """Rule 1 for months or quarters, from the months table: one value and target per product and bucket."""
    bucket = "mo.month" if grain == Grain.MONTH else _quarter_sql("mo.month")
    if grain == Grain.MONTH:  # the months table already holds one row per product and month
        per_product = f"""
            SELECT mo.kpi_id, mo.product_id, mo.month AS bucket, mo.time_aggregation,
                   mo.v_sum, mo.v_count, mo.last_period, mo.target
            FROM {MONTHS_TABLE} mo
        """
    else:
        per_product = f"""
            SELECT mo.kpi_id, mo.product_id, {bucket} AS bucket, mo.time_aggregation,
                   SUM(mo.v_sum) AS v_sum, SUM(mo.v_count) AS v_count, MAX(mo.last_period) AS last_period,
                   MAX(mo.target) AS target
            FROM {MONTHS_TABLE} mo
            GROUP BY mo.kpi_id, mo.product_id, {bucket}, mo.time_aggregation
        """
    source = f"""per_product AS ({per_product}),
        calendar AS (
            SELECT c.kpi_id, c.bucket, {RECOMPUTE_KEYS},
                   CASE c.time_aggregation WHEN 'sum' THEN c.v_sum WHEN 'avg' THEN c.v_sum / c.v_count
                        ELSE (SELECT lm.value FROM portfolio_measurement lm WHERE lm.product_id = c.product_id
                              AND lm.kpi_id = c.kpi_id AND lm.period = c.last_period) END AS value,
                   CASE c.time_aggregation WHEN 'sum' THEN c.target * c.v_count ELSE c.target END AS target
            FROM per_product c JOIN {PRODUCTS_TABLE} kp ON kp.product_id = c.product_id
        ), """
    return _insert_sql(grain, source, "calendar", scopes, table)
