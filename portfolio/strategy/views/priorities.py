"""The priorities page and its inline scoring."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from portfolio.kpis.selectors.scopes import portfolios
from portfolio.models import PriorityScore
from portfolio.strategy import charts, exports, forms
from portfolio.strategy import permissions as strategy_permissions
from portfolio.strategy.rules import IMPACT_CHOICES, SCORE_FIELDS
from portfolio.strategy.selectors.priorities import RankedRow, ranked_scores
from portfolio.strategy.services.priorities import priority_score_set
from products.models import Product
from products.permissions import product_ids_user_may_edit
from products.selectors import products_filtered
from spm.web.charts import figure_json
from spm.web.regions import is_htmx, region_requested, render_region

RANKED_PER_PAGE = 50
BUBBLES = 300


# ==========================================================================================================
# Priorities
# ==========================================================================================================

PRIORITIES = "portfolio/strategy/priorities.html"
PRIORITY_REGIONS = ("priorities-results", "priority-table")


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def priority_list(request: HttpRequest) -> HttpResponse:
    """Products ranked by RICE or WSJF with the scoring shown, a value-vs-effort bubble chart, inline edits."""
    form = forms.PriorityFilterForm(request.GET, portfolios=portfolios())
    filters = form.cleaned_or_default()
    rank = filters["rank"]
    products = products_filtered(Product.objects.all(), filters=filters)
    ranked = ranked_scores(products=products, by=rank)
    if request.GET.get("format") == "csv":
        return exports.priorities_csv(ranked, rank=rank)
    page = Paginator(ranked, RANKED_PER_PAGE).get_page(filters["page"])
    start = page.start_index() if page.paginator.count else 1
    rows = [RankedRow(rank=start + i, score=score) for i, score in enumerate(page.object_list)]
    editable = product_ids_user_may_edit(request.user, [row.score.product_id for row in rows])
    region = region_requested(request, PRIORITY_REGIONS)
    context = {"form": form, "page": page, "rows": rows, "rank": rank, "editable_ids": editable}
    if region != "priority-table":
        # Plain values for the chart: a few hundred model instances would cost more than the query.
        top = list(ranked.values_list("product__name", "effort", "rice", "wsjf", "reach")[:BUBBLES])
        unscored = products.filter(priority__isnull=True).order_by("name", "pk")
        unscored_first = list(unscored.only("slug", "name")[:10])
        context.update(
            bubbles=figure_json(charts.value_effort_bubbles(rows=top, rank=rank)) if top else "",
            bubble_count=len(top),
            unscored=unscored_first,
            unscored_count=unscored.count() if unscored_first else 0,
            unscored_editable=product_ids_user_may_edit(request.user, [p.pk for p in unscored_first]),
        )
    return render_region(request, PRIORITIES, region, context)


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def priority_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """A product's RICE and WSJF inputs: the inline row form (GET), saving it (POST). Product editors only."""
    product = strategy_permissions.access_product_strategy(request.user, slug, action="edit_priority")
    score = PriorityScore.objects.filter(product=product).first()
    htmx = is_htmx(request)
    if request.method == "GET":
        initial = {}
        if score is not None:
            initial = {name: getattr(score, name) for name in SCORE_FIELDS}
            initial["impact"] = next((f"{c}" for c in IMPACT_CHOICES if c == score.impact), "1")
        form = forms.PriorityScoreForm(initial=initial or {"confidence": 80, "impact": "1"})
        context = {
            "product": product,
            "score": score,
            "score_form": form,
            "rank_no": request.GET.get("rank_no"),
        }
        return render_region(
            request, "portfolio/strategy/priority_edit.html", "priority-form" if htmx else None, context
        )
    form = forms.PriorityScoreForm(request.POST)
    if not form.is_valid():
        context = {
            "product": product,
            "score": score,
            "score_form": form,
            "rank_no": request.POST.get("rank_no"),
        }
        return render_region(
            request,
            "portfolio/strategy/priority_edit.html",
            "priority-form" if htmx else None,
            context,
            status=200 if htmx else 400,
        )
    values = {name: form.cleaned_data[name] for name in SCORE_FIELDS}
    score = priority_score_set(product=product, values=values, by=request.user)
    if htmx:
        row = RankedRow(rank=request.POST.get("rank_no") or "\u2013", score=score)
        response = render(
            request,
            "portfolio/strategy/priorities.html#priority-row",
            {"row": row, "editable_ids": {product.pk}, "rank": request.POST.get("rank") or "rice"},
        )
        return response
    messages.success(request, f"Saved the scores of {product.name}: RICE {score.rice}, WSJF {score.wsjf}.")
    return redirect(f"{reverse('portfolio:priorities')}")
