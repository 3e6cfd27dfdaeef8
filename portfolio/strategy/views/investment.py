"""The investment page and a product's budget lines."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from portfolio.kpis.selectors.scopes import portfolios
from portfolio.models import BudgetLine
from portfolio.periods import quarter_label, quarter_start, year_quarters
from portfolio.strategy import charts, exports, forms
from portfolio.strategy import permissions as strategy_permissions
from portfolio.strategy.rules import ZERO, currency_symbol
from portfolio.strategy.selectors.investment import (
    DIMENSIONS,
    investment_rollup,
    line_years,
    money_row,
    product_money_rows,
    product_quarter_lines,
    products_with_lines,
    rollup_with_quarters,
)
from portfolio.strategy.selectors.money import current_fraction, totals_of
from portfolio.strategy.selectors.objective_funding import objective_overview
from portfolio.strategy.services.budgets import budget_line_delete, budget_line_set
from products.models import Product
from products.permissions import is_leadership, products_with_budget_access
from products.selectors import products_filtered
from spm.web.charts import figure_json
from spm.web.regions import is_htmx, region_requested, render_region

PRODUCTS_PER_PAGE = 25
LINES_PER_PAGE = 50


# ==========================================================================================================
# Investment
# ==========================================================================================================

INVESTMENT = "portfolio/strategy/investment.html"
INVESTMENT_REGIONS = ("investment-results", "investment-products")
PRODUCT_BUDGET = "portfolio/strategy/product_budget.html"


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def investment_overview(request: HttpRequest) -> HttpResponse:
    """Planned budget and actual spend per quarter, rolled up by portfolio, objective, stage, focus, market or
    quarter; burn against plan; the products furthest over plan. Money of products the user may see only."""
    today = timezone.localdate()
    form = forms.InvestmentFilterForm(
        request.GET, portfolios=portfolios(), years=line_years(), current_year=today.year
    )
    filters = form.cleaned_or_default()
    quarters = year_quarters(filters["year"])
    products = products_with_budget_access(
        request.user, products_filtered(Product.objects.all(), filters=filters)
    )
    dimension = filters["dimension"]
    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "products":
            values = product_money_rows(products=products, quarters=quarters, today=today)
            return exports.product_money_csv(values, quarters=quarters, today=today)
        rows = investment_rollup(products=products, quarters=quarters, dimension=dimension, today=today)
        return exports.money_csv(rows, dimension=dimension, quarters=quarters)
    region = region_requested(request, INVESTMENT_REGIONS)
    paginator = Paginator(
        product_money_rows(products=products, quarters=quarters, today=today), PRODUCTS_PER_PAGE
    )
    # A plain count of the grouped rows would aggregate every line a second time.
    paginator.count = products_with_lines(products=products, quarters=quarters)
    page = paginator.get_page(filters["page"])
    overview = None
    if region != "investment-products" and dimension == "objective":
        # The split, the quarter chart and this page of products from one pass over the lines.
        overview = objective_overview(
            products=products,
            quarters=quarters,
            offset=(page.number - 1) * PRODUCTS_PER_PAGE,
            limit=PRODUCTS_PER_PAGE,
            today=today,
        )
        page.object_list = overview.product_values
    product_rows = [money_row(values, quarters=quarters, today=today) for values in page.object_list]
    context = {"form": form, "page": page, "product_rows": product_rows, "quarters": quarters}
    if region != "investment-products":
        if overview is not None:
            rows, by_quarter = overview.rows, overview.by_quarter
        else:
            rows, by_quarter = rollup_with_quarters(
                products=products, quarters=quarters, dimension=dimension, today=today
            )
        totals = totals_of(rows, fraction=current_fraction(quarters, today))
        context.update(
            rows=rows,
            totals=totals,
            dimension_label=DIMENSIONS[dimension],
            allocation=figure_json(
                charts.allocation_donut(
                    rows=rows,
                    currency=currency_symbol().strip(),
                    title=f"Planned {filters['year']} by {dimension}",
                )
            )
            if totals.planned
            else "",
            burn=figure_json(charts.budget_vs_actual(rows=by_quarter, currency=currency_symbol().strip()))
            if by_quarter
            else "",
            restricted=not is_leadership(request.user),
        )
    return render_region(request, INVESTMENT, region, context)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def product_budget(request: HttpRequest, slug: str) -> HttpResponse:
    """One product's quarterly budget lines; leadership of its portfolio edits them (POST one line)."""
    action = "edit_budget" if request.method == "POST" else "see_budget"
    product = strategy_permissions.access_product_strategy(request.user, slug, action=action)
    can_edit = strategy_permissions.can_edit_budget(request.user, product)
    form = forms.BudgetLineForm(initial={"quarter": quarter_start(timezone.localdate()), "kind": "opex"})
    status = 200
    if request.method == "POST":
        form = forms.BudgetLineForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            line = budget_line_set(
                product=product,
                quarter=data["quarter"],
                kind=data["kind"],
                planned=data["planned"],
                actual=data["actual"] if data["actual"] is not None else ZERO,
                by=request.user,
            )
            messages.success(
                request, f"Saved {quarter_label(line.quarter)} {line.get_kind_display().lower()}."
            )
            if not is_htmx(request):
                return redirect("portfolio:product-budget", slug=product.slug)
            form = forms.BudgetLineForm(initial={"quarter": data["quarter"], "kind": data["kind"]})
        else:
            status = 400 if not is_htmx(request) else 200
    lines = product_quarter_lines(product=product)
    if request.method == "GET" and request.GET.get("format") == "csv":
        return exports.budget_lines_csv(product, lines)
    return _budget_page(request, product, lines=lines, form=form, can_edit=can_edit, status=status)


def _budget_page(
    request: HttpRequest, product: Product, *, lines, form, can_edit: bool, status=200, deleting=None
):
    """The product's lines (the ``budget-lines`` region alone for htmx); ``deleting``: the line whose row asks
    to confirm its deletion, with the totals it would leave."""
    totals = {
        "planned": sum((line.planned for line in lines), ZERO),
        "actual": sum((line.actual for line in lines), ZERO),
    }
    context = {
        "product": product,
        "lines": lines,
        "form": form,
        "can_edit": can_edit,
        "totals": totals,
        "deleting": deleting,
        "quarter_label": quarter_label,
    }
    if deleting is not None:
        context["after_delete"] = {
            "planned": totals["planned"] - deleting.planned,
            "actual": totals["actual"] - deleting.actual,
        }
    region = "budget-lines" if is_htmx(request) else None
    return render_region(request, PRODUCT_BUDGET, region, context, status=status)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def product_budget_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """Delete one budget line: GET asks first (its row names the line and the totals it leaves), the POST from
    that row's button deletes. Leadership of the product's portfolio only, as for editing a line."""
    product = strategy_permissions.access_product_strategy(request.user, slug, action="edit_budget")
    line = get_object_or_404(BudgetLine, pk=pk, product=product)
    new_line_form = forms.BudgetLineForm(initial={"quarter": line.quarter, "kind": line.kind})
    if request.method == "POST":
        budget_line_delete(line=line, by=request.user)
        messages.success(
            request, f"Deleted the {quarter_label(line.quarter)} {line.get_kind_display().lower()} line."
        )
        if not is_htmx(request):
            return redirect("portfolio:product-budget", slug=product.slug)
        lines = product_quarter_lines(product=product)
        return _budget_page(request, product, lines=lines, form=new_line_form, can_edit=True)
    lines = product_quarter_lines(product=product)
    return _budget_page(request, product, lines=lines, form=new_line_form, can_edit=True, deleting=line)
