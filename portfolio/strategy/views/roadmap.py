"""The roadmap page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from portfolio.kpis.selectors.scopes import portfolios
from portfolio.strategy import charts, exports, forms
from portfolio.strategy.selectors import roadmap
from products.models import Product
from products.selectors import products_filtered
from spm.web.charts import figure_json
from spm.web.regions import region_requested, render_region

# ==========================================================================================================
# Roadmap
# ==========================================================================================================

ROADMAP = "portfolio/strategy/roadmap.html"
ROADMAP_REGIONS = ("roadmap-results",)
ROADMAP_ROWS_PER_PAGE = 50


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def roadmap_view(request: HttpRequest) -> HttpResponse:
    """Roadmap items, releases and milestones across products on one timeline, filtered like the dashboard,
    with today's line and late entries in red; the same entries as a table and ``?format=csv``."""
    day = timezone.localdate()
    form = forms.RoadmapFilterForm(request.GET, portfolios=portfolios())
    filters = form.cleaned_or_default()
    rows = roadmap.roadmap_rows(
        products=products_filtered(Product.objects.all(), filters=filters),
        kind=filters.get("kind") or "",
        late_only=bool(filters.get("late")),
        today=day,
    )
    if request.GET.get("format") == "csv":
        return exports.roadmap_csv(rows)
    shown, lanes = roadmap.chart_rows(rows)
    page = Paginator(rows, ROADMAP_ROWS_PER_PAGE).get_page(filters["page"])
    context = {
        "form": form,
        "page": page,
        "total": len(rows),
        "late_count": sum(row.late for row in rows),
        "lanes": lanes,
        "chart_lanes": min(lanes, roadmap.CHART_LANES),
        "timeline": figure_json(charts.roadmap_timeline(rows=shown, today=day)) if shown else "",
        "today": day,
    }
    return render_region(request, ROADMAP, region_requested(request, ROADMAP_REGIONS), context)
