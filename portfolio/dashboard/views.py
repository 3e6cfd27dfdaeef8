"""The portfolio dashboard: one URL serves the page and, for htmx, the region a control targets."""

import json
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from portfolio.choices import Grain, Scope
from portfolio.dashboard.charts import stage_funnel
from portfolio.dashboard.selectors import (
    budget_scope,
    dashboard_summary,
    kpi_forecast_misses,
    kpi_rollup_scope,
    kpi_status_counts,
    product_table,
)
from portfolio.kpis.selectors.scopes import portfolios, rollup_freshness
from portfolio.kpis.views import FRESHNESS_REGION, render_with_freshness
from products.choices import Health, Stage
from products.forms import ProductFilterForm
from products.selectors import people_on_products, product_filter
from spm.web.regions import region_requested

DASHBOARD = "portfolio/dashboard.html"
# Regions an htmx request may ask for, by the id of its target (HX-Target), smallest first: a sort or a
# page swaps the table, a filter swaps the results (tiles, charts, table), a drill-down link or "clear
# filters" swaps the form with the results.
DASHBOARD_REGIONS = ("product-table", "dashboard-results", "dashboard-body", "rollup-freshness")


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.GET.get("format") == "csv":
        # The dashboard's table is the product list's: one export, with the same filters.
        return redirect(f"{reverse('products:list')}?{request.GET.urlencode()}")
    form = ProductFilterForm(
        request.GET, portfolios=portfolios(), people=people_on_products(), user=request.user
    )
    filters = form.cleaned_or_default()
    region = region_requested(request, DASHBOARD_REGIONS)
    if region == FRESHNESS_REGION:
        return render_with_freshness(request, DASHBOARD, region, {"freshness": rollup_freshness()})
    context = {
        "form": form,
        "regions": {"table": "product-table", "results": "dashboard-results", "body": "dashboard-body"},
    }
    if region == "product-table":
        context["table"] = product_table(filters=filters, user=request.user)
    else:
        summary = dashboard_summary(
            products=product_filter(filters={**filters, "sort": "name"}),
            user=request.user,
            budget_visible=budget_scope(request.user),
        )
        rollup_scope = kpi_rollup_scope(filters)
        context.update(
            table=product_table(filters=filters, user=request.user, count=summary.products),
            summary=summary,
            kpis=kpi_status_counts(scope=rollup_scope[0], key=rollup_scope[1]) if rollup_scope else None,
            forecast_misses=(
                kpi_forecast_misses(scope=rollup_scope[0], key=rollup_scope[1]) if rollup_scope else None
            ),
            forecast_url=quarter_scorecard_url(rollup_scope),
            kpi_scope_label=kpi_scope_label(form, rollup_scope),
            stage_rows=[(stage, summary.stages[stage.value]) for stage in Stage],
            health_rows=[(health, summary.health[health.value]) for health in Health],
            # JSON text in a hidden element, not a json_script: htmx drops <script> from swapped content.
            funnel=json.dumps(stage_funnel(summary.stages), cls=DjangoJSONEncoder),
            freshness=rollup_freshness(),
        )
    template = f"{DASHBOARD}#{region}" if region else DASHBOARD
    return render(request, template, context)


def kpi_scope_label(form: ProductFilterForm, rollup_scope: tuple[str, str] | None) -> str:
    """Words for what the KPI tiles count: "organisation-wide", "stage MVP", "Payments portfolio"."""
    if rollup_scope is None:
        return ""
    scope, key = rollup_scope
    if scope == "organisation":
        return "organisation-wide"
    label = dict(form.fields[scope].choices).get(key, key)
    return f"{form.fields[scope].label.lower()} {label}" if scope != "portfolio" else f"{label} portfolio"


def quarter_scorecard_url(rollup_scope: tuple[str, str] | None) -> str:
    """The director view at quarter grain, narrowed to the dashboard's scope (its filter names are the scopes)."""
    query = {"grain": Grain.QUARTER.value}
    if rollup_scope is not None and rollup_scope[0] != Scope.ORGANISATION:
        query[rollup_scope[0]] = rollup_scope[1]
    return f"{reverse('portfolio:rollups')}?{urlencode(query)}"
