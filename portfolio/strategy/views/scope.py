"""Strategy pages: objectives and coverage, investment, priorities, roadmap, scenarios (docs/strategy.md).

Thin: parse the query string or form, ask ``portfolio.permissions``, call a selector or service, render the
page or (for htmx, chosen by HX-Target) one of its regions. ``?format=csv`` streams a page's tables.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from portfolio.dashboard.selectors import budget_scope
from portfolio.templatetags.strategy_display import currency_symbol
from products.models import Product


def _render(request, template: str, region: str | None, context: dict, *, status: int = 200) -> HttpResponse:
    return render(request, f"{template}#{region}" if region else template, context, status=status)


def _htmx(request) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _filtered_products(filters: dict):
    products = Product.objects.all()
    for name, lookup in (
        ("portfolio", "portfolio__slug"),
        ("stage", "stage"),
        ("market", "market"),
        ("focus", "focus"),
    ):
        if filters.get(name):
            products = products.filter(**{lookup: filters[name]})
    return products


def _money_products(user, products):
    """Of ``products``, those whose money the user may see (lazy)."""
    visible = budget_scope(user)
    return products if visible is None else products.filter(pk__in=visible.values("pk"))


def _currency() -> str:
    return currency_symbol().strip()
