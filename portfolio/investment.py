"""Investment: quarterly budget lines (the live plan), their rollups and burn against plan.

Rollups are computed on read with SQL aggregation (``GROUP BY`` with ``SUM(…) FILTER (WHERE …)``; the split by
objective in one query, ``_objective_parts``), a fixed number of queries whatever the number of products; no
rollup table to keep fresh (docs/strategy.md has the figures).

Rules (docs/strategy.md):
- planned = capex + opex planned over the chosen quarters; actual = spend recorded in them.
- plan to date = the planned money of the quarters that have ended, plus the current quarter's planned money
  prorated by the days elapsed in it. variance = actual - plan to date.
- status from actual / plan to date: above 110 % over plan, above 105 % at risk, below 80 % under plan, else
  on plan; no plan to date and no spend is "no plan", spend without a plan is over plan.
- by objective: a product's money splits across the objectives it serves by alignment weight (percent); weights
  that add up to less than 100 leave the rest "not aligned", above 100 they are scaled down to 100.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection, transaction
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from portfolio.models import Alignment, BudgetKind, BudgetLine, Objective, Portfolio
from portfolio.plan import plan_change
from products.models import Focus, Market, Product, Stage, User

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MONEY_FIELD = DecimalField(max_digits=16, decimal_places=2)
OVER_PLAN = Decimal("1.10")
AT_RISK = Decimal("1.05")
UNDER_PLAN = Decimal("0.80")
DIMENSIONS = {
    "portfolio": "Portfolio",
    "objective": "Objective",
    "stage": "Stage",
    "focus": "Focus",
    "market": "Market",
    "quarter": "Quarter",
}
DIMENSION_FIELDS = {
    "portfolio": "product__portfolio__slug",
    "stage": "product__stage",
    "focus": "product__focus",
    "market": "product__market",
    "quarter": "quarter",
}
CHOICE_LABELS = {"stage": dict(Stage.choices), "focus": dict(Focus.choices), "market": dict(Market.choices)}
NOT_ALIGNED = "not aligned"


class BudgetInvalid(ValueError):
    pass


# ---------------------------------------------------------------------------------------------------------
# Quarters
# ---------------------------------------------------------------------------------------------------------


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def add_quarters(quarter: dt.date, count: int) -> dt.date:
    months = quarter.year * 12 + quarter.month - 1 + 3 * count
    return dt.date(months // 12, months % 12 + 1, 1)


def quarters_from(start: dt.date, count: int = 4) -> list[dt.date]:
    return [add_quarters(quarter_start(start), n) for n in range(count)]


def year_quarters(year: int) -> list[dt.date]:
    return quarters_from(dt.date(year, 1, 1), 4)


def quarter_label(quarter: dt.date) -> str:
    return f"{quarter.year} Q{(quarter.month - 1) // 3 + 1}"


def is_quarter_start(day: dt.date) -> bool:
    return day.day == 1 and day.month in (1, 4, 7, 10)


# ---------------------------------------------------------------------------------------------------------
# Burn against plan (pure)
# ---------------------------------------------------------------------------------------------------------


def elapsed_fraction(quarter: dt.date, today: dt.date) -> Decimal:
    """How much of ``quarter`` has passed on ``today``: 0 before it, 1 after it, the share of days within."""
    end = add_quarters(quarter, 1)
    if today < quarter:
        return Decimal(0)
    if today >= end:
        return Decimal(1)
    return Decimal((today - quarter).days) / Decimal((end - quarter).days)


def plan_to_date(*, ended: Decimal, current: Decimal, fraction: Decimal) -> Decimal:
    return (ended + current * fraction).quantize(CENT, rounding=ROUND_HALF_UP)


def burn_status(*, plan_to_date: Decimal, actual: Decimal) -> str:
    """on_plan, at_risk, over_plan, under_plan or no_plan (thresholds in the module docstring)."""
    if plan_to_date <= 0:
        return "over_plan" if actual > 0 else "no_plan"
    ratio = actual / plan_to_date
    if ratio > OVER_PLAN:
        return "over_plan"
    if ratio > AT_RISK:
        return "at_risk"
    if ratio < UNDER_PLAN:
        return "under_plan"
    return "on_plan"


BURN_LABELS = {
    "on_plan": "On plan",
    "at_risk": "Over by 5-10%",
    "over_plan": "Over plan",
    "under_plan": "Under plan",
    "no_plan": "No plan",
}
# Colours of the shared status badges (status_badge.html / spm.css) for each burn status.
BURN_BADGE = {
    "on_plan": "on_target",
    "at_risk": "at_risk",
    "over_plan": "off_target",
    "under_plan": "no_target",
    "no_plan": "no_data",
}


@dataclass
class MoneyRow:
    """Money of one group (a portfolio, objective, stage, …, or one product) over some quarters."""

    key: str
    label: str
    capex: Decimal = ZERO
    opex: Decimal = ZERO
    actual: Decimal = ZERO
    ended: Decimal = ZERO  # planned in quarters that have ended
    current: Decimal = ZERO  # planned in the quarter under way
    fraction: Decimal = Decimal(0)
    products: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def planned(self) -> Decimal:
        return self.capex + self.opex

    @property
    def plan_to_date(self) -> Decimal:
        return plan_to_date(ended=self.ended, current=self.current, fraction=self.fraction)

    @property
    def variance(self) -> Decimal:
        return self.actual - self.plan_to_date

    @property
    def burn(self) -> Decimal | None:
        """Actual as a percentage of plan to date."""
        if self.plan_to_date <= 0:
            return None
        return (self.actual * 100 / self.plan_to_date).quantize(Decimal("1"), rounding=ROUND_HALF_UP)

    @property
    def status(self) -> str:
        return burn_status(plan_to_date=self.plan_to_date, actual=self.actual)

    @property
    def status_label(self) -> str:
        return BURN_LABELS[self.status]

    @property
    def badge(self) -> str:
        return BURN_BADGE[self.status]

    def add(self, other: MoneyRow, share: Decimal = Decimal(1)) -> None:
        self.capex += other.capex * share
        self.opex += other.opex * share
        self.actual += other.actual * share
        self.ended += other.ended * share
        self.current += other.current * share

    def rounded(self) -> MoneyRow:
        for name in ("capex", "opex", "actual", "ended", "current"):
            setattr(self, name, getattr(self, name).quantize(CENT, rounding=ROUND_HALF_UP))
        return self


def _money_annotations(today: dt.date) -> dict:
    current = quarter_start(today)

    def planned_when(condition: Q) -> Sum:
        # SUM(...) FILTER (WHERE ...) on PostgreSQL and SQLite: a third of the time of SUM(CASE ... ELSE 0).
        return Coalesce(Sum("planned", filter=condition), Value(ZERO), output_field=MONEY_FIELD)

    return {
        "capex": planned_when(Q(kind=BudgetKind.CAPEX)),
        "opex": planned_when(Q(kind=BudgetKind.OPEX)),
        "actual_sum": Coalesce(Sum("actual"), Value(ZERO), output_field=MONEY_FIELD),
        "ended": planned_when(Q(quarter__lt=current)),
        "current_q": planned_when(Q(quarter=current)),
    }


def budget_lines(*, products: QuerySet[Product], quarters: Sequence[dt.date]) -> QuerySet[BudgetLine]:
    """The lines of ``products`` in ``quarters``. Every product (no filter on the queryset): no semi-join."""
    lines = BudgetLine.objects.filter(quarter__in=list(quarters))
    if products.query.where:
        lines = lines.filter(product__in=products.order_by().values("pk"))
    return lines


def products_with_lines(*, products: QuerySet[Product], quarters: Sequence[dt.date]) -> int:
    """How many of ``products`` have lines in ``quarters``: the product table's row count, from the index alone."""
    return budget_lines(products=products, quarters=quarters).values("product_id").distinct().count()


def _row(key: str, label: str, values: dict, fraction: Decimal) -> MoneyRow:
    return MoneyRow(
        key=key,
        label=label,
        capex=_cents(values["capex"]),
        opex=_cents(values["opex"]),
        actual=_cents(values["actual_sum"]),
        ended=_cents(values["ended"]),
        current=_cents(values["current_q"]),
        fraction=fraction,
        products=values.get("n", 0),
    )


def _cents(value) -> Decimal:
    """A sum as money: SQLite hands back Decimals without their places (``Decimal('120000')``)."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def current_fraction(quarters: Sequence[dt.date], today: dt.date) -> Decimal:
    current = quarter_start(today)
    return elapsed_fraction(current, today) if current in quarters else Decimal(0)


def totals_of(rows: Sequence[MoneyRow], *, fraction: Decimal) -> MoneyRow:
    """The total of rollup rows that partition the money (every dimension does, objectives included: their
    shares of a product add up to its money, with the rest “not aligned”), without another query."""
    total = MoneyRow(key="total", label="Total", fraction=fraction)
    for row in rows:
        total.add(row)
        total.products += row.products
    return total.rounded()


def investment_totals(
    *, products: QuerySet[Product], quarters: Sequence[dt.date], today: dt.date | None = None
) -> MoneyRow:
    """The money of ``products`` over ``quarters``: one aggregate query."""
    today = today or timezone.localdate()
    values = budget_lines(products=products, quarters=quarters).aggregate(**_money_annotations(today))
    return _row("total", "Total", values, current_fraction(quarters, today))


def investment_rollup(
    *,
    products: QuerySet[Product],
    quarters: Sequence[dt.date],
    dimension: str,
    today: dt.date | None = None,
    count_products: bool = True,
) -> list[MoneyRow]:
    """Money of ``products`` over ``quarters`` grouped by ``dimension`` (``DIMENSIONS``), largest plan first
    (quarters in order). Two queries (three by objective), whatever the number of products. Without
    ``count_products`` the rows' ``products`` stay 0 (a chart's rows: the distinct count costs a sort)."""
    today = today or timezone.localdate()
    fraction = current_fraction(quarters, today)
    lines = budget_lines(products=products, quarters=quarters)
    if dimension == "objective":
        return _by_objective(products=products, quarters=quarters, fraction=fraction, today=today)
    from django.db.models import Count

    field_name = DIMENSION_FIELDS[dimension]
    money = _money_annotations(today)
    if (
        dimension == "quarter"
    ):  # a quarter is wholly ended, under way or ahead: derived from its planned money
        money["ended"] = money["current_q"] = Value(ZERO, output_field=MONEY_FIELD)
    if count_products:
        money["n"] = Count("product", distinct=True)
    groups = lines.order_by().values(key=F(field_name)).annotate(**money)
    labels: dict = {}
    if dimension == "portfolio":
        labels = dict(Portfolio.objects.values_list("slug", "name"))
    rows = []
    for values in groups:
        key = values["key"]
        if dimension == "quarter":
            row_fraction = elapsed_fraction(key, today)
            row = _row(key.isoformat(), quarter_label(key), values, Decimal(0))
            # One quarter: ended (all of it due), under way (prorated) or ahead (nothing due yet).
            if row_fraction == 1:
                row.ended, row.current, row.fraction = row.planned, ZERO, Decimal(0)
            elif row_fraction > 0:
                row.ended, row.current, row.fraction = ZERO, row.planned, row_fraction
            else:
                row.ended, row.current, row.fraction = ZERO, ZERO, Decimal(0)
        else:
            label = labels.get(key, CHOICE_LABELS.get(dimension, {}).get(key, key))
            row = _row(key, str(label), values, fraction)
        rows.append(row)
    if dimension == "quarter":
        return sorted(rows, key=lambda row: row.key)
    if dimension in CHOICE_LABELS:
        order = list(CHOICE_LABELS[dimension])
        return sorted(rows, key=lambda row: order.index(row.key) if row.key in order else len(order))
    return sorted(rows, key=lambda row: (-row.planned, row.label))


def rollup_with_quarters(
    *, products: QuerySet[Product], quarters: Sequence[dt.date], dimension: str, today: dt.date | None = None
) -> tuple[list[MoneyRow], list[MoneyRow]]:
    """``investment_rollup`` by ``dimension`` and by quarter (the budget-vs-actual chart). For portfolio, stage,
    focus and market both come from one ``GROUP BY`` (key, quarter): one pass over the lines instead of two."""
    today = today or timezone.localdate()
    if dimension not in ("portfolio", "stage", "focus", "market"):
        rows = investment_rollup(products=products, quarters=quarters, dimension=dimension, today=today)
        by_quarter = (
            rows
            if dimension == "quarter"
            else investment_rollup(
                products=products, quarters=quarters, dimension="quarter", today=today, count_products=False
            )
        )
        return rows, by_quarter
    money = {
        name: value
        for name, value in _money_annotations(today).items()
        if name in ("capex", "opex", "actual_sum")
    }
    groups = (
        budget_lines(products=products, quarters=quarters)
        .order_by()
        .values_list(DIMENSION_FIELDS[dimension], "quarter")
        .annotate(**money)
    )
    fraction = current_fraction(quarters, today)
    labels = dict(Portfolio.objects.values_list("slug", "name")) if dimension == "portfolio" else {}
    by_key: dict[str, MoneyRow] = {}
    by_quarter: dict[dt.date, MoneyRow] = {}
    for key, quarter, capex, opex, actual in groups:
        capex, opex, actual = _cents(capex), _cents(opex), _cents(actual)
        elapsed = elapsed_fraction(quarter, today)
        row = by_key.get(key)
        if row is None:
            label = labels.get(key, CHOICE_LABELS.get(dimension, {}).get(key, key))
            row = by_key[key] = MoneyRow(key=key, label=str(label), fraction=fraction)
        column = by_quarter.get(quarter)
        if column is None:
            column = by_quarter[quarter] = MoneyRow(
                key=quarter.isoformat(),
                label=quarter_label(quarter),
                fraction=elapsed if 0 < elapsed < 1 else Decimal(0),
            )
        for target in (row, column):
            target.capex += capex
            target.opex += opex
            target.actual += actual
            if elapsed == 1:
                target.ended += capex + opex
            elif elapsed > 0:
                target.current += capex + opex
    rows = list(by_key.values())
    if dimension in CHOICE_LABELS:
        order = list(CHOICE_LABELS[dimension])
        rows.sort(key=lambda row: order.index(row.key) if row.key in order else len(order))
    else:
        rows.sort(key=lambda row: (-row.planned, row.label))
    return rows, [by_quarter[quarter] for quarter in sorted(by_quarter)]


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
    return {key: _cents(amount) for key, amount in funding.items()}, _cents(total)


MONEY_PARTS = ("capex", "opex", "actual_sum", "ended", "current_q")


def _by_objective(
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


def product_money_rows(
    *, products: QuerySet[Product], quarters: Sequence[dt.date], today: dt.date | None = None
) -> QuerySet:
    """Per product money over ``quarters`` as a values queryset (slug, name, portfolio, capex, opex, actual, …),
    largest overspend first; page it, then wrap rows with ``money_row``."""
    today = today or timezone.localdate()
    lines = budget_lines(products=products, quarters=quarters)
    return (
        lines.order_by()
        .values("product_id", "product__slug", "product__name", "product__portfolio__name")
        .annotate(**_money_annotations(today))
        # The variance (actual - plan to date), to sort by.
        .annotate(
            over=ExpressionWrapper(
                F("actual_sum") - F("ended") - F("current_q") * Value(current_fraction(quarters, today)),
                output_field=MONEY_FIELD,
            )
        )
        .order_by("-over", "product__name", "product_id")
    )


def money_row(values: dict, *, quarters: Sequence[dt.date], today: dt.date | None = None) -> MoneyRow:
    today = today or timezone.localdate()
    row = _row(values["product__slug"], values["product__name"], values, current_fraction(quarters, today))
    row.extra = {"portfolio": values["product__portfolio__name"]}
    return row


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
    capex, opex, actual = (_cents(_exact(amount)) for amount in sums[:3])
    row = MoneyRow(
        key=quarter.isoformat(), label=quarter_label(quarter), capex=capex, opex=opex, actual=actual
    )
    elapsed = elapsed_fraction(quarter, today)
    if elapsed == 1:
        row.ended = row.planned
    elif elapsed > 0:
        row.current, row.fraction = row.planned, elapsed
    return row


def line_years() -> list[int]:
    """The years from the first to the last budget line, newest first (this year when there are none). Two
    one-row reads of the quarter index's ends (SQLite optimises a lone MIN or MAX, not both in one query)."""
    quarters = BudgetLine.objects.order_by("quarter").values_list("quarter", flat=True)
    first, last = quarters.first(), quarters.last()
    if first is None:
        return [timezone.localdate().year]
    return list(range(last.year, first.year - 1, -1))


def product_quarter_lines(*, product: Product) -> list[BudgetLine]:
    return list(BudgetLine.objects.filter(product=product).order_by("quarter", "kind"))


def horizon_planned(*, products: QuerySet[Product], quarters: Sequence[dt.date]) -> dict[int, Decimal]:
    """{product id: planned money over ``quarters``} for products with lines there: one grouped query."""
    rows = (
        budget_lines(products=products, quarters=quarters)
        .order_by()
        .values_list("product_id")
        .annotate(total=Sum("planned"))
    )
    return {product_id: _cents(total) for product_id, total in rows}


# ---------------------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------------------


def products_sync_money(*, product_ids: Iterable[int]) -> None:
    """Set ``Product.planned_budget`` and ``actual_spend`` to the sums of the products' budget lines (all
    quarters), bumping their version so that an edit form loaded before is a conflict, not an overwrite."""
    ids = list(set(product_ids))
    if not ids:
        return
    lines = BudgetLine.objects.filter(product=OuterRef("pk")).order_by().values("product")
    with_lines = BudgetLine.objects.filter(product_id__in=ids).values("product_id")
    Product.objects.filter(pk__in=with_lines).update(
        planned_budget=Coalesce(Subquery(lines.annotate(s=Sum("planned")).values("s")[:1]), Value(ZERO)),
        actual_spend=Coalesce(Subquery(lines.annotate(s=Sum("actual")).values("s")[:1]), Value(ZERO)),
        version=F("version") + 1,
        updated_at=timezone.now(),
    )


def parse_money(raw: object, *, label: str) -> Decimal:
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except (ArithmeticError, ValueError):
        raise BudgetInvalid(f"{label} must be an amount of money, e.g. 125000 or 125000.50.") from None
    if not value.is_finite() or value < 0:
        raise BudgetInvalid(f"{label} must be zero or more.")
    if value >= Decimal("1e12"):
        raise BudgetInvalid(f"{label} must be less than a trillion.")
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def budget_line_set(
    *, product: Product, quarter: dt.date, kind: str, planned: Decimal, actual: Decimal, by: User | None
) -> BudgetLine:
    """Create or replace one budget line of the live plan; syncs the product's totals and records the change."""
    if not is_quarter_start(quarter):
        raise BudgetInvalid("A budget line's quarter starts on 1 January, April, July or October.")
    if kind not in BudgetKind.values:
        raise BudgetInvalid("A budget line is capex or opex.")
    if planned < 0 or actual < 0:
        raise BudgetInvalid("Planned budget and actual spend are zero or more.")
    before = BudgetLine.objects.filter(product=product, quarter=quarter, kind=kind).first()
    summary = f"{product.name} {quarter_label(quarter)} {kind}: planned {planned}, actual {actual}"
    details = [
        {
            "product": product.slug,
            "quarter": quarter.isoformat(),
            "kind": kind,
            "planned": [str(before.planned) if before else None, str(planned)],
            "actual": [str(before.actual) if before else None, str(actual)],
        }
    ]
    with plan_change(by=by, summary=summary, portfolio=product.portfolio, details=details):
        line, _ = BudgetLine.objects.update_or_create(
            product=product, quarter=quarter, kind=kind, defaults={"planned": planned, "actual": actual}
        )
        products_sync_money(product_ids=[product.pk])
    return line
