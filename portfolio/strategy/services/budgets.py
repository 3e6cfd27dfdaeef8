"""Writes of budget lines, and a product's money totals kept in step with its lines."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    F,
    OuterRef,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from portfolio.models import BudgetKind, BudgetLine
from portfolio.periods import is_quarter_start, quarter_label
from portfolio.strategy.rules import ZERO, BudgetInvalid
from portfolio.strategy.services.plan import plan_change
from products.models import Product, User

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
