"""Writes of budget lines, and a product's money totals kept in step with its lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from portfolio.alerts.catalogue import BURN_ALERT, Event
from portfolio.alerts.services import events_notify
from portfolio.choices import EventKind
from portfolio.models import BudgetKind, BudgetLine, ProductYearMoney
from portfolio.periods import is_quarter_start, quarter_label, year_quarters
from portfolio.strategy.rules import ZERO, BudgetInvalid, currency_symbol
from portfolio.strategy.selectors.investment import money_row, product_money_rows
from portfolio.strategy.services.plan import plan_change
from products.models import Product, User

YEAR_MONEY_FIELDS = ("capex", "opex", "actual", "q1", "q2", "q3", "q4")

# ---------------------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def products_sync_money(*, product_ids: Iterable[int], by: User | None = None) -> None:
    """Set ``Product.planned_budget`` and ``actual_spend`` to the sums of the products' budget lines (all
    quarters; zero without lines): the one source of a product's money. A product whose totals move gets a
    history entry (who, old → new) and a new version, so that an edit form loaded before is a conflict.

    Rewrites the products' ``ProductYearMoney`` rows (the same lines summed per calendar year) in the same
    transaction, so every page that reads money reads the lines' figures."""
    ids = set(product_ids)
    if not ids:
        return
    totals: dict[int, list[Decimal]] = {}
    years: dict[tuple[int, int], ProductYearMoney] = {}
    lines = BudgetLine.objects.filter(product_id__in=ids).values_list(
        "product_id", "quarter", "kind", "planned", "actual"
    )
    for product_id, quarter, kind, planned, actual in lines.order_by():
        total = totals.setdefault(product_id, [ZERO, ZERO])
        total[0] += planned
        total[1] += actual
        year = years.get((product_id, quarter.year))
        if year is None:
            year = years[product_id, quarter.year] = ProductYearMoney(
                product_id=product_id, year=quarter.year, **dict.fromkeys(YEAR_MONEY_FIELDS, ZERO)
            )
        if kind == BudgetKind.CAPEX:
            year.capex += planned
        else:
            year.opex += planned
        year.actual += actual
        quarter_field = f"q{(quarter.month - 1) // 3 + 1}"
        setattr(year, quarter_field, getattr(year, quarter_field) + planned)
    ProductYearMoney.objects.filter(product_id__in=ids).delete()
    ProductYearMoney.objects.bulk_create(years.values(), batch_size=2000)
    now = timezone.now()
    moved = []
    for product in Product.objects.filter(pk__in=ids).only("pk", "planned_budget", "actual_spend", "version"):
        planned, actual = totals.get(product.pk, (ZERO, ZERO))
        if (product.planned_budget, product.actual_spend) != (planned, actual):
            product.planned_budget, product.actual_spend = planned, actual
            product.version += 1
            product.updated_at = now
            moved.append(product)
    if moved:
        bulk_update_with_history(
            moved,
            Product,
            ["planned_budget", "actual_spend", "version", "updated_at"],
            default_user=by,
            default_change_reason="Budget lines",
        )


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
        products_sync_money(product_ids=[product.pk], by=by)
    return line


@transaction.atomic
def budget_line_delete(*, line: BudgetLine, by: User | None) -> None:
    """Delete one budget line of the live plan; syncs the product's totals and records the change (with what
    the line held, so the plan's history can say what went)."""
    product = line.product
    summary = f"{product.name} {quarter_label(line.quarter)} {line.kind}: line deleted"
    details = [
        {
            "product": product.slug,
            "quarter": line.quarter.isoformat(),
            "kind": line.kind,
            "planned": [str(line.planned), None],
            "actual": [str(line.actual), None],
        }
    ]
    with plan_change(by=by, summary=summary, portfolio=product.portfolio, details=details):
        line.delete()
        products_sync_money(product_ids=[product.pk], by=by)


def budgets_burn_notify(*, today: dt.date | None = None) -> int:
    """The daily scan: each product whose spend this year is more than ``BURN_ALERT`` % off its plan to date
    (over or under) notifies the people who may see its budget, once per quarter and direction."""
    today = today or timezone.localdate()
    quarters = year_quarters(today.year)
    quarter = quarter_label(today)
    symbol = currency_symbol()
    events = []
    for values in product_money_rows(products=Product.objects.all(), quarters=quarters, today=today):
        money = money_row(values, quarters=quarters, today=today)
        if money.burn is None or abs(money.burn - 100) <= BURN_ALERT:
            continue
        over = money.burn > 100
        name, slug, product_id = values["product__name"], values["product__slug"], values["product_id"]
        events.append(
            Event(
                kind=EventKind.BUDGET_BURN,
                sentence=f"{name} has spent {money.burn} % of its plan to date for {today.year} "
                f"({symbol}{money.actual:,.0f} against {symbol}{money.plan_to_date:,.0f}): "
                f"{abs(money.burn - 100)} % {'over' if over else 'under'} plan.",
                url=reverse("portfolio:product-budget", args=[slug]),
                key=f"burn:{product_id}:{quarter.replace(' ', '')}:{'over' if over else 'under'}",
                product_id=product_id,
                name=name,
            )
        )
    return events_notify(events)
