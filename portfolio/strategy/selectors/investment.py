"""Reads for the investment page: quarterly budget lines (the live plan) rolled up by a dimension, per product
and per quarter, with burn against plan (``portfolio.strategy.rules``).

Rollups are computed on read with SQL aggregation (``GROUP BY`` with ``SUM(…) FILTER (WHERE …)``), a fixed
number of queries whatever the number of products; no rollup table to keep fresh (docs/strategy.md has the
figures). planned = capex + opex planned over the chosen quarters; actual = spend recorded in them. The split by
objective is ``portfolio.strategy.selectors.objective_funding``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.db.models import (
    ExpressionWrapper,
    F,
    QuerySet,
    Sum,
    Value,
)
from django.utils import timezone

from portfolio.models import BudgetLine, Portfolio, ProductYearMoney
from portfolio.periods import quarter_label, year_quarters
from portfolio.strategy.rules import (
    ZERO,
    elapsed_fraction,
)
from portfolio.strategy.selectors.money import (
    MONEY_FIELD,
    MoneyRow,
    cents,
    current_fraction,
    money_annotations,
    row_from_sums,
)
from portfolio.strategy.selectors.objective_funding import rollup_by_objective
from products.choices import Focus, Market, Stage
from products.models import Product

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


def budget_lines(*, products: QuerySet[Product], quarters: Sequence[dt.date]) -> QuerySet[BudgetLine]:
    """The lines of ``products`` in ``quarters``. Every product (no filter on the queryset): no semi-join."""
    lines = BudgetLine.objects.filter(quarter__in=list(quarters))
    if products.query.where:
        lines = lines.filter(product__in=products.order_by().values("pk"))
    return lines


def products_with_lines(*, products: QuerySet[Product], quarters: Sequence[dt.date]) -> int:
    """How many of ``products`` have lines in ``quarters``: the product table's row count, from the index alone."""
    return budget_lines(products=products, quarters=quarters).values("product_id").distinct().count()


YEAR_MONEY_COLUMNS = ("capex", "opex", "actual", "q1", "q2", "q3", "q4")


def year_money_sums(prefix: str = "") -> dict[str, Sum]:
    """``Sum`` of each ``ProductYearMoney`` column (through ``prefix``, a relation's name and ``__``), named as
    the column: to aggregate or annotate, then ``year_money_row``."""
    return {name: Sum(f"{prefix}{name}") for name in YEAR_MONEY_COLUMNS}


def year_money_row(sums: dict, *, year: int, today: dt.date) -> MoneyRow:
    """The money of calendar ``year`` from the sums of its ``ProductYearMoney`` columns (None: no rows), as
    ``investment_totals`` over the year's four quarters gives it: the quarters before today's have ended, today's
    is under way."""
    quarters = [cents(sums.get(f"q{n}")) for n in range(1, 5)]
    if year < today.year:
        ended, current = sum(quarters, ZERO), ZERO
    elif year > today.year:
        ended, current = ZERO, ZERO
    else:
        index = (today.month - 1) // 3
        ended, current = sum(quarters[:index], ZERO), quarters[index]
    values = {
        "capex": sums.get("capex"),
        "opex": sums.get("opex"),
        "actual_sum": sums.get("actual"),
        "ended": ended,
        "current_q": current,
    }
    return row_from_sums("total", "Total", values, current_fraction(year_quarters(year), today))


def year_money_totals(*, products: QuerySet[Product], year: int, today: dt.date | None = None) -> MoneyRow:
    """The money of ``products`` in calendar ``year`` from their ``ProductYearMoney`` rows: one aggregate over a
    row per product, not over every line."""
    rows = ProductYearMoney.objects.filter(year=year)
    if products.query.where:
        rows = rows.filter(product__in=products.order_by().values("pk"))
    return year_money_row(rows.aggregate(**year_money_sums()), year=year, today=today or timezone.localdate())


def investment_totals(
    *, products: QuerySet[Product], quarters: Sequence[dt.date], today: dt.date | None = None
) -> MoneyRow:
    """The money of ``products`` over ``quarters``: one aggregate query."""
    today = today or timezone.localdate()
    values = budget_lines(products=products, quarters=quarters).aggregate(**money_annotations(today))
    return row_from_sums("total", "Total", values, current_fraction(quarters, today))


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
        return rollup_by_objective(products=products, quarters=quarters, fraction=fraction, today=today)
    from django.db.models import Count

    field_name = DIMENSION_FIELDS[dimension]
    money = money_annotations(today)
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
            row = row_from_sums(key.isoformat(), quarter_label(key), values, Decimal(0))
            # One quarter: ended (all of it due), under way (prorated) or ahead (nothing due yet).
            if row_fraction == 1:
                row.ended, row.current, row.fraction = row.planned, ZERO, Decimal(0)
            elif row_fraction > 0:
                row.ended, row.current, row.fraction = ZERO, row.planned, row_fraction
            else:
                row.ended, row.current, row.fraction = ZERO, ZERO, Decimal(0)
        else:
            label = labels.get(key, CHOICE_LABELS.get(dimension, {}).get(key, key))
            row = row_from_sums(key, str(label), values, fraction)
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
        for name, value in money_annotations(today).items()
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
        capex, opex, actual = cents(capex), cents(opex), cents(actual)
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
        .annotate(**money_annotations(today))
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
    row = row_from_sums(
        values["product__slug"], values["product__name"], values, current_fraction(quarters, today)
    )
    row.extra = {"portfolio": values["product__portfolio__name"]}
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
    return {product_id: cents(total) for product_id, total in rows}
