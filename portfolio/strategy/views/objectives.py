"""The objectives page and its alignment edits."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from portfolio.kpis.selectors.scopes import portfolios
from portfolio.models import Alignment, Objective
from portfolio.periods import year_quarters
from portfolio.strategy import exports, forms
from portfolio.strategy import permissions as strategy_permissions
from portfolio.strategy.rules import AlignmentInvalid
from portfolio.strategy.selectors.objective_funding import objective_funding
from portfolio.strategy.selectors.objectives import (
    KEY_RESULT_STATUS_PHRASES,
    coverage,
    objective_groups,
    objectives_with_status,
)
from portfolio.strategy.services.alignments import alignment_remove, alignment_set
from portfolio.strategy.views.investment import PRODUCTS_PER_PAGE
from products.models import Product
from products.permissions import (
    PM_LEVEL,
    is_leadership,
    product_ids_user_may_edit,
    products_with_budget_access,
)
from products.selectors import products_filtered
from spm.web.regions import is_htmx, region_requested, render_region

# ==========================================================================================================
# Objectives and coverage
# ==========================================================================================================

OBJECTIVES = "portfolio/strategy/objectives.html"
OBJECTIVE_REGIONS = ("objectives-results",)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def objective_list(request: HttpRequest) -> HttpResponse:
    """Objectives grouped by portfolio, each with a summary of its key results (the key results and aligned
    products open below it), and the gaps: objectives without a product behind them, products that serve no
    objective. ``status`` keeps the objectives with a key result in that status. ``?format=csv`` (the objectives
    shown; ``table=unaligned`` for the products)."""
    all_portfolios = list(portfolios())
    form = forms.ObjectiveFilterForm(request.GET, portfolios=all_portfolios)
    filters = form.cleaned_or_default()
    portfolio = next((p for p in all_portfolios if p.slug == filters.get("portfolio")), None)
    products = products_filtered(Product.objects.all(), filters=filters)
    quarters = year_quarters(timezone.localdate().year)
    money_products = products_with_budget_access(request.user, products)
    funding, funding_total = objective_funding(products=money_products, quarters=quarters)
    view = coverage(portfolio=portfolio, products=products, funding=funding)
    shown = objectives_with_status(view.objectives, filters.get("status"))
    if request.GET.get("format") == "csv":
        if request.GET.get("table") == "unaligned":
            return exports.unaligned_csv(view.unaligned_products)
        return exports.objectives_csv(shown)
    paginator = Paginator(
        view.unaligned_products.select_related("portfolio").only("slug", "name", "stage", "portfolio__name"),
        PRODUCTS_PER_PAGE,
    )
    paginator.count = view.unaligned_count  # counted with the products in view already
    page = paginator.get_page(filters["page"])
    shown_products = [aligned[4] for item in shown for aligned in item.aligned]
    context = {
        "form": form,
        "coverage": view,
        "groups": objective_groups(shown),
        "shown_count": len(shown),
        "shown_ids": {item.objective.pk for item in shown},  # the gap list links only to objectives shown
        "status_phrase": KEY_RESULT_STATUS_PHRASES.get(filters.get("status") or ""),
        "unaligned_page": page,
        "editable_ids": product_ids_user_may_edit(request.user, shown_products),
        "funding_year": quarters[0].year,
        "funding_total": funding_total,
        "shows_money": money_products is products or money_products.exists(),
        # Anyone who may edit some product sees the form; the POST checks this product and objective.
        "can_align_any": is_leadership(request.user) or request.user.role in PM_LEVEL,
    }
    return render_region(request, OBJECTIVES, region_requested(request, OBJECTIVE_REGIONS), context)


def _align_target(request, objective: Objective) -> tuple[Product, int]:
    form = forms.AlignmentForm(request.POST)
    if not form.is_valid():
        raise AlignmentInvalid(" ".join(e for errors in form.errors.values() for e in errors))
    text = form.cleaned_data["product"].strip()
    product = (
        Product.objects.select_related("portfolio")
        .filter(Q(slug=text) | Q(name__iexact=text))
        .order_by("pk")
        .first()
    )
    if product is None:
        raise AlignmentInvalid(f"No product called “{text}”.")
    return product, form.cleaned_data["weight"]


def _alignment_answer(request, objective: Objective, *, level: str, text: str) -> HttpResponse:
    """After an alignment write: for htmx, the objective's card again (with a note); otherwise back to the page
    with a message."""
    if not is_htmx(request):
        getattr(messages, level)(request, text)
        return redirect(f"{reverse('portfolio:objectives')}#objective-{objective.pk}")
    products = Product.objects.all()
    quarters = year_quarters(timezone.localdate().year)
    money_products = products_with_budget_access(request.user, products)
    funding, _ = objective_funding(products=money_products, quarters=quarters)
    view = coverage(portfolio=objective.portfolio, products=products, funding=funding)
    card = next(item for item in view.objectives if item.objective.pk == objective.pk)
    shown = [aligned[4] for aligned in card.aligned]
    context = {
        "view": card,
        "editable_ids": product_ids_user_may_edit(request.user, shown),
        "funding_year": quarters[0].year,
        "shows_money": money_products is products or money_products.exists(),
        "can_align_any": True,
        "card_note": {"level": "success" if level == "success" else "error", "text": text},
    }
    return render(request, f"{OBJECTIVES}#objective-card", context)


@require_POST
@vary_on_headers("HX-Request")
def alignment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Align a product to this objective (or change its weight). Editors of the product only."""
    objective = get_object_or_404(Objective.objects.select_related("portfolio"), pk=pk)
    try:
        product, weight = _align_target(request, objective)
    except AlignmentInvalid as error:
        return _alignment_answer(request, objective, level="error", text=str(error))
    if not strategy_permissions.can_align(request.user, product, objective):
        raise PermissionDenied("You may not align this product to that objective.")
    try:
        alignment_set(product=product, objective=objective, weight=weight, by=request.user)
    except AlignmentInvalid as error:
        return _alignment_answer(request, objective, level="error", text=str(error))
    return _alignment_answer(
        request,
        objective,
        level="success",
        text=f"{product.name} now serves “{objective.title}” at {weight}%.",
    )


@require_POST
@vary_on_headers("HX-Request")
def alignment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alignment = get_object_or_404(Alignment.objects.select_related("product__portfolio", "objective"), pk=pk)
    if not strategy_permissions.can_align(request.user, alignment.product, alignment.objective):
        raise PermissionDenied("You may not change this product's alignment.")
    alignment_remove(alignment=alignment, by=request.user)
    objective = Objective.objects.select_related("portfolio").get(pk=alignment.objective_id)
    text = f"{alignment.product.name} no longer serves “{objective.title}”."
    return _alignment_answer(request, objective, level="success", text=text)
