"""Investment by objective: each product's money split over the objectives it serves by alignment weight
(percent), in one query; weights that add up to less than 100 leave the rest "not aligned", above 100 they are
scaled down to 100. Exact in Decimal: the parts add up to the product's money."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    QuerySet,
)
from django.utils import timezone

from portfolio.models import Alignment, BudgetKind, BudgetLine, Objective, Portfolio
from portfolio.periods import quarter_label, quarter_start
from portfolio.strategy.rules import CENT, ZERO, elapsed_fraction
from portfolio.strategy.selectors.money import NOT_ALIGNED, MoneyRow, cents, current_fraction
from products.models import Product


def product_shares(alignments: Iterable[tuple[int, int, int]]) -> dict[int, list[tuple[int, Decimal]]]:
    """{product id: [(objective id, share)]} from (product id, objective id, weight percent) rows; a product's
    shares add up to at most 1 (weights over 100 in total are scaled down)."""
    by_product: dict[int, list[tuple[int, int]]] = {}
    for product_id, objective_id, weight in alignments:
        by_product.setdefault(product_id, []).append((objective_id, weight))
    shares = {}
    for product_id, weights in by_product.items():
        total = Decimal(max(100, sum(weight for _, weight in weights)))
        shares[product_id] = [(objective_id, Decimal(weight) / total) for objective_id, weight in weights]
    return shares


def _objective_parts(
    *, products: QuerySet[Product], quarters: Sequence[dt.date], today: dt.date, planned_only: bool = False
) -> dict[tuple[int | None, int], list]:
    """Each product's money over ``quarters`` times its alignment weights, summed in SQL: one query.

    {(objective id, or None for the part no objective takes, divisor): [products, capex, opex, actual, ended,
    current]}, the money parts being sums of money x weight; divided by the divisor (``max(100, the product's
    weights in total)``) they are the objective's share. Grouping by the divisor keeps the arithmetic exact: a
    product's parts add up to its money (weights under 100 leave the rest to None)."""
    line, alignment = BudgetLine._meta.db_table, Alignment._meta.db_table
    quote = connection.ops.quote_name
    where, params = [f"{quote('quarter')} IN ({', '.join(['%s'] * len(quarters))})"], list(quarters)
    if products.query.where:
        subquery, subparams = products.order_by().values("pk").query.sql_with_params()
        where.append(f"{quote('product_id')} IN ({subquery})")
        params.extend(subparams)
    current = quarter_start(today)
    if planned_only:  # the planned money alone, as "capex"
        columns, column_params = (
            "SUM(planned) AS capex, 0 AS opex, 0 AS actual, 0 AS ended, 0 AS current_q",
            [],
        )
    else:
        # FILTER: PostgreSQL and SQLite (3.30 on; Django 6 needs 3.31).
        columns = """SUM(planned) FILTER (WHERE kind = %s) AS capex,
                   SUM(planned) FILTER (WHERE kind = %s) AS opex,
                   SUM(actual) AS actual,
                   SUM(planned) FILTER (WHERE quarter < %s) AS ended,
                   SUM(planned) FILTER (WHERE quarter = %s) AS current_q"""
        column_params = [BudgetKind.CAPEX, BudgetKind.OPEX, current, current]
    # Table names from the models; every value is a parameter.
    sql = f"""
        WITH money AS (
            SELECT product_id, {columns}
            FROM {quote(line)} WHERE {" AND ".join(where)} GROUP BY product_id
        ),
        weights AS (SELECT product_id, SUM(weight) AS total FROM {quote(alignment)} GROUP BY product_id),
        shares AS (
            SELECT product_id, objective_id, weight FROM {quote(alignment)}
            UNION ALL
            SELECT m.product_id, NULL, 100 - COALESCE(w.total, 0)
            FROM money m LEFT JOIN weights w ON w.product_id = m.product_id WHERE COALESCE(w.total, 0) < 100
        )
        SELECT s.objective_id, COALESCE(w.total, 0), COUNT(*), SUM(m.capex * s.weight), SUM(m.opex * s.weight),
               SUM(m.actual * s.weight), SUM(m.ended * s.weight), SUM(m.current_q * s.weight)
        FROM money m JOIN shares s ON s.product_id = m.product_id LEFT JOIN weights w ON w.product_id = m.product_id
        GROUP BY s.objective_id, COALESCE(w.total, 0)
    """  # noqa: S608
    parts: dict[tuple[int | None, int], list] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*column_params, *params])
        for objective_id, total, count, *sums in cursor.fetchall():
            key = (objective_id, max(100, int(total)))
            bucket = parts.setdefault(key, [0, ZERO, ZERO, ZERO, ZERO, ZERO])
            bucket[0] += count
            for index, amount in enumerate(sums, start=1):
                bucket[index] += _exact(amount)
    return parts


def _exact(amount) -> Decimal:
    """A SQL sum of money x weight as a Decimal (SQLite sums such numbers as floats: back to cents)."""
    if amount is None:
        return ZERO
    if isinstance(amount, float):
        return Decimal(repr(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    return Decimal(amount)


def objective_funding(
    *, products: QuerySet[Product], quarters: Sequence[dt.date], today: dt.date | None = None
) -> tuple[dict[int, Decimal], Decimal]:
    """Planned money per objective id (split by alignment weight as in ``investment_rollup``) and the planned
    total of ``products`` over ``quarters``: the objectives page's figures, from one grouped query."""
    parts = _objective_parts(
        products=products, quarters=quarters, today=today or timezone.localdate(), planned_only=True
    )
    funding: dict[int, Decimal] = {}
    by_divisor: dict[int, Decimal] = {}
    for (objective_id, divisor), (_count, capex, opex, *_rest) in parts.items():
        by_divisor[divisor] = by_divisor.get(divisor, ZERO) + capex + opex
        if objective_id is not None:
            funding[objective_id] = funding.get(objective_id, ZERO) + (capex + opex) / divisor
    # Every product's parts add up to its money times the divisor: the total is exact.
    total = sum((amount / divisor for divisor, amount in by_divisor.items()), ZERO)
    return {key: cents(amount) for key, amount in funding.items()}, cents(total)


MONEY_PARTS = ("capex", "opex", "actual_sum", "ended", "current_q")


def rollup_by_objective(
    *, products: QuerySet[Product], quarters: Sequence[dt.date], fraction: Decimal, today: dt.date
) -> list[MoneyRow]:
    """Money per objective: each product's sums times its alignment weights, grouped in SQL
    (``_objective_parts``), each (objective, divisor) group divided once, in Decimal."""
    parts = _objective_parts(products=products, quarters=quarters, today=today)
    return _objective_rows(parts, fraction=fraction)


def _objective_rows(parts: dict[tuple[int | None, int], list], *, fraction: Decimal) -> list[MoneyRow]:
    """The rows by objective from ``_objective_parts`` sums: each (objective, divisor) group divided once, in
    Decimal; largest plan first, “not aligned” last. One query (the objectives' titles)."""
    objectives = {
        objective.pk: objective
        for objective in Objective.objects.select_related("portfolio")
        .filter(pk__in={key for key, _ in parts if key is not None})
        .order_by()
    }
    rows: dict[int | None, MoneyRow] = {}
    for (objective_id, divisor), (count, *sums) in parts.items():
        row = rows.get(objective_id)
        if row is None:
            if objective_id is None:
                row = MoneyRow(key=NOT_ALIGNED, label="Not aligned to any objective", fraction=fraction)
            else:
                objective = objectives[objective_id]
                scope = objective.portfolio.name if objective.portfolio else "Organisation"
                row = MoneyRow(key=str(objective_id), label=f"{objective.title} ({scope})", fraction=fraction)
            rows[objective_id] = row
        row.products += count
        for name, amount in zip(("capex", "opex", "actual", "ended", "current"), sums, strict=True):
            setattr(row, name, getattr(row, name) + amount / divisor)
    unaligned = rows.pop(None, None)
    ordered = sorted((row.rounded() for row in rows.values()), key=lambda row: (-row.planned, row.label))
    if unaligned is not None:
        ordered.append(unaligned.rounded())
    return ordered


@dataclass
class ObjectiveOverview:
    """The investment page by objective, from one statement (``objective_overview``)."""

    rows: list[MoneyRow]
    by_quarter: list[MoneyRow]
    product_values: list[dict]


def objective_overview(
    *,
    products: QuerySet[Product],
    quarters: Sequence[dt.date],
    offset: int,
    limit: int,
    today: dt.date | None = None,
) -> ObjectiveOverview:
    """The split by objective, the quarter chart and a page of the products furthest over plan (the rows of
    ``product_money_rows``, same order) in one statement. The year's lines are summed once per product in a
    CTE that the split and the ranking both read (two aggregations by product before), and by quarter for the
    chart (four groups: cheap; a (product, quarter) CTE the three read costs more in PostgreSQL, whose numeric
    sums cost per group)."""
    today = today or timezone.localdate()
    fraction = current_fraction(quarters, today)
    current = quarter_start(today)
    line, alignment = BudgetLine._meta.db_table, Alignment._meta.db_table
    product_table, portfolio_table = Product._meta.db_table, Portfolio._meta.db_table
    quote = connection.ops.quote_name
    where, params = [f"{quote('quarter')} IN ({', '.join(['%s'] * len(quarters))})"], list(quarters)
    if products.query.where:
        subquery, subparams = products.order_by().values("pk").query.sql_with_params()
        where.append(f"{quote('product_id')} IN ({subquery})")
        params.extend(subparams)
    money = "CAST(NULL AS NUMERIC(16, 2))"
    lines_where = " AND ".join(where)
    # Table names from the models; every value is a parameter.
    sql = f"""
        WITH money AS (
            SELECT product_id,
                   COALESCE(SUM(planned) FILTER (WHERE kind = %s), 0) AS capex,
                   COALESCE(SUM(planned) FILTER (WHERE kind = %s), 0) AS opex,
                   COALESCE(SUM(actual), 0) AS actual,
                   COALESCE(SUM(planned) FILTER (WHERE quarter < %s), 0) AS ended,
                   COALESCE(SUM(planned) FILTER (WHERE quarter = %s), 0) AS current_q
            FROM {quote(line)} WHERE {lines_where} GROUP BY product_id
        ),
        weights AS (SELECT product_id, SUM(weight) AS total FROM {quote(alignment)} GROUP BY product_id),
        shares AS (
            SELECT product_id, objective_id, weight, SUM(weight) OVER (PARTITION BY product_id) AS total
            FROM {quote(alignment)}
            UNION ALL
            SELECT m.product_id, NULL, 100 - COALESCE(w.total, 0), COALESCE(w.total, 0)
            FROM money m LEFT JOIN weights w ON w.product_id = m.product_id WHERE COALESCE(w.total, 0) < 100
        ),
        ranked AS (
            SELECT m.*, m.actual - m.ended - m.current_q * %s AS over,
                   ROW_NUMBER() OVER (ORDER BY m.actual - m.ended - m.current_q * %s DESC, p.name, m.product_id)
                       AS position
            FROM money m JOIN {quote(product_table)} p ON p.id = m.product_id
        )
        SELECT 'o', s.objective_id, s.total, CAST(NULL AS DATE), COUNT(*),
               SUM(m.capex * s.weight), SUM(m.opex * s.weight), SUM(m.actual * s.weight),
               SUM(m.ended * s.weight), SUM(m.current_q * s.weight), NULL, NULL, NULL
        FROM money m JOIN shares s ON s.product_id = m.product_id
        GROUP BY s.objective_id, s.total
        UNION ALL
        SELECT 'q', NULL, NULL, quarter, 0, SUM(planned) FILTER (WHERE kind = %s),
               SUM(planned) FILTER (WHERE kind = %s), SUM(actual), {money}, {money}, NULL, NULL, NULL
        FROM {quote(line)} WHERE {lines_where} GROUP BY quarter
        UNION ALL
        SELECT 'p', r.product_id, r.position, CAST(NULL AS DATE), 0, r.capex, r.opex, r.actual, r.ended,
               r.current_q, p.slug, p.name, f.name
        FROM ranked r JOIN {quote(product_table)} p ON p.id = r.product_id
        JOIN {quote(portfolio_table)} f ON f.id = p.portfolio_id
        WHERE r.position > %s AND r.position <= %s
    """  # noqa: S608
    kinds = [BudgetKind.CAPEX, BudgetKind.OPEX]
    all_params = [
        *kinds,
        current,
        current,
        *params,
        fraction,
        fraction,
        *kinds,
        *params,
        offset,
        offset + limit,
    ]
    parts: dict[tuple[int | None, int], list] = {}
    quarter_rows: list[MoneyRow] = []
    product_values: list[tuple[int, dict]] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        for kind, ref, number, quarter, count, *sums, slug, name, portfolio_name in cursor.fetchall():
            if kind == "o":
                bucket = parts.setdefault((ref, max(100, int(number))), [0, ZERO, ZERO, ZERO, ZERO, ZERO])
                bucket[0] += count
                for index, amount in enumerate(sums, start=1):
                    bucket[index] += _exact(amount)
            elif kind == "q":
                quarter = dt.date.fromisoformat(quarter) if isinstance(quarter, str) else quarter
                quarter_rows.append(_quarter_row(quarter, sums, today))
            else:
                values = dict(zip(MONEY_PARTS, (_exact(amount) for amount in sums), strict=True))
                values.update(product_id=ref, product__slug=slug, product__name=name)
                values["product__portfolio__name"] = portfolio_name
                product_values.append((int(number), values))
    return ObjectiveOverview(
        rows=_objective_rows(parts, fraction=fraction),
        by_quarter=sorted(quarter_rows, key=lambda row: row.key),
        product_values=[values for _, values in sorted(product_values, key=lambda item: item[0])],
    )


def _quarter_row(quarter: dt.date, sums: Sequence, today: dt.date) -> MoneyRow:
    """One quarter's row of the budget-vs-actual chart, as ``investment_rollup`` by quarter makes it."""
    capex, opex, actual = (cents(_exact(amount)) for amount in sums[:3])
    row = MoneyRow(
        key=quarter.isoformat(), label=quarter_label(quarter), capex=capex, opex=opex, actual=actual
    )
    elapsed = elapsed_fraction(quarter, today)
    if elapsed == 1:
        row.ended = row.planned
    elif elapsed > 0:
        row.current, row.fraction = row.planned, elapsed
    return row
