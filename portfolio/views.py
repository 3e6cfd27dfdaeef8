"""The portfolio dashboard: one URL serves the page and, for htmx, the region a control targets."""

import json
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from portfolio import charts, exports, forms, selectors
from portfolio.charts import stage_funnel
from portfolio.selectors import (
    budget_scope,
    dashboard_summary,
    kpi_rollup_scope,
    kpi_status_counts,
    portfolios,
    product_table,
)
from products import selectors as product_selectors
from products.forms import ProductFilterForm
from products.models import Health, Stage
from products.selectors import owners, product_filter

DASHBOARD = "portfolio/dashboard.html"
# Regions an htmx request may ask for, by the id of its target (HX-Target), smallest first: a sort or a
# page swaps the table, a filter swaps the results (tiles, charts, table), a drill-down link or "clear
# filters" swaps the form with the results.
DASHBOARD_REGIONS = ("product-table", "dashboard-results", "dashboard-body", "rollup-freshness")


def region_requested(request: HttpRequest, regions: tuple[str, ...]) -> str | None:
    """The region an htmx request targets, or None for a whole page (also on a history restore)."""
    htmx: HtmxDetails = request.htmx
    if not htmx or htmx.history_restore_request:
        return None
    return htmx.target if htmx.target in regions else None


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def dashboard(request: HttpRequest) -> HttpResponse:
    if request.GET.get("format") == "csv":
        # The dashboard's table is the product list's: one export, with the same filters.
        return redirect(f"{reverse('products:list')}?{request.GET.urlencode()}")
    form = ProductFilterForm(request.GET, portfolios=portfolios(), owners=owners())
    filters = form.cleaned_or_default()
    region = region_requested(request, DASHBOARD_REGIONS)
    if region == FRESHNESS_REGION:
        return _render(request, DASHBOARD, region, {"freshness": selectors.rollup_freshness()})
    context = {
        "form": form,
        "regions": {"table": "product-table", "results": "dashboard-results", "body": "dashboard-body"},
    }
    if region == "product-table":
        context["table"] = product_table(filters=filters, user=request.user)
    else:
        summary = dashboard_summary(
            products=product_filter(filters={**filters, "sort": "name"}),
            budget_visible=budget_scope(request.user),
        )
        rollup_scope = kpi_rollup_scope(filters)
        context.update(
            table=product_table(filters=filters, user=request.user, count=summary.products),
            summary=summary,
            kpis=kpi_status_counts(scope=rollup_scope[0], key=rollup_scope[1]) if rollup_scope else None,
            kpi_scope_label=kpi_scope_label(form, rollup_scope),
            stage_rows=[(stage, summary.stages[stage.value]) for stage in Stage],
            health_rows=[(health, summary.health[health.value]) for health in Health],
            # JSON text in a hidden element, not a json_script: htmx drops <script> from swapped content.
            funnel=json.dumps(stage_funnel(summary.stages), cls=DjangoJSONEncoder),
            freshness=selectors.rollup_freshness(),
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


# ==================================================================================================
# Director view: the rollup scorecard, a cell's products, KPI definitions and measurements. Each page
# serves its regions to htmx (chosen by HX-Target) and streams its CSV with ?format=csv.
# ==================================================================================================

ROLLUPS = "portfolio/rollups.html"
ROLLUP_CELL = "portfolio/rollup_cell.html"
KPIS = "portfolio/kpis.html"
MEASUREMENTS = "portfolio/measurements.html"
FRESHNESS_REGION = "rollup-freshness"
# Sent with the answer to a poll that finds the rollups fresh again: the regions that show rollups reload.
ROLLUPS_FRESH_EVENT = "rollups-fresh"
ROLLUP_REGIONS = (FRESHNESS_REGION, "rollups-body", "rollups-results", "rollup-trend")
ROLLUP_CELL_REGIONS = (FRESHNESS_REGION, "rollup-cell")
KPI_REGIONS = (FRESHNESS_REGION, "kpi-table")
MEASUREMENT_REGIONS = ("measurements-body", "measurement-table")
# A drill-down lists this many products until asked for all of them (an organisation cell has every product).
DRILLDOWN_ROWS = 50


def _render(request, template: str, region: str | None, context: dict, *, status: int = 200) -> HttpResponse:
    response = render(request, f"{template}#{region}" if region else template, context, status=status)
    if region == FRESHNESS_REGION and not context["freshness"].pending:
        # Only a pending region polls: it comes back without its trigger (polling stops) and the page reloads
        # what it shows from the rollups.
        response["HX-Trigger"] = ROLLUPS_FRESH_EVENT
    return response


def _csv_requested(request) -> bool:
    return request.GET.get("format") == "csv"


def _bad_filters(problems: list[str]) -> HttpResponse:
    text = "Invalid filters:\n" + "".join(f"- {problem}\n" for problem in problems)
    return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def rollups(request) -> HttpResponse:
    """The director view: scorecard, what changed, trend chart; ``?format=csv`` streams the rollup rows."""
    kpis = selectors.director_kpis()
    filter_choices = {
        "kpis": kpis,
        "portfolios": selectors.portfolios(),
        "owners": product_selectors.owners(),
    }
    if _csv_requested(request):
        export = forms.RollupExportForm(request.GET, **filter_choices)
        if not export.is_valid():
            return _bad_filters(export.problems())
        rows = selectors.rollup_export_rows(**export.export_filters())
        names = {kpi.pk: kpi.name for kpi in kpis}
        return exports.csv_response(
            exports.ROLLUP_COLUMNS,
            exports.rollup_csv_rows(rows, kpi_names=names),
            filename=exports.csv_filename("rollups"),
        )
    freshness = selectors.rollup_freshness()
    region = region_requested(request, ROLLUP_REGIONS)
    if region == FRESHNESS_REGION:
        return _render(request, ROLLUPS, region, {"freshness": freshness})
    form = forms.RollupViewForm(request.GET, **filter_choices)
    filters = form.cleaned_or_default()
    dimension, grain = filters["dimension"], filters["grain"]
    period_range = {"period_from": filters.get("period_from"), "period_to": filters.get("period_to")}
    scorecard = selectors.rollup_scorecard(
        kpis=kpis,
        dimension=dimension,
        grain=grain,
        keys=[form.key] if form.key else (),
        labels=form.key_labels(dimension),
        **period_range,
    )
    chart_kpi = filters["chart"]
    trend = None
    if chart_kpi is not None:
        trend = selectors.rollup_trend(
            kpi=chart_kpi,
            columns=scorecard.key_columns[: selectors.TREND_MAX_LINES],
            grain=grain,
            **period_range,
        )
    csv_query = {"format": "csv", "scope": dimension, "scope_key": form.key, "grain": grain, **period_range}
    context = {
        "form": form,
        "kpis": kpis,
        "freshness": freshness,
        "scorecard": scorecard,
        "trend": trend,
        "chart_kpi": chart_kpi,
        "trend_figure": _trend_figure(trend),
        "dimension_label": forms.DIMENSION_PLURALS[dimension],
        "csv_url": f"{request.path}?{urlencode({k: v for k, v in csv_query.items() if v})}",
    }
    return _render(request, ROLLUPS, region, context)


def _trend_figure(trend: selectors.ScopeTrend | None) -> str:
    """The trend chart as JSON text for a hidden element (htmx drops <script> from swapped regions)."""
    if trend is None or not trend.points:
        return ""
    series = [
        (column.label, [p.period for p in points], [p.value for p in points], [p.target for p in points])
        for column, points in trend.series()
    ]
    figure = charts.scope_trend(unit=trend.kpi.unit, series=series, quarterly=trend.grain == "quarter")
    return json.dumps(figure, cls=DjangoJSONEncoder)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def rollup_cell(request) -> HttpResponse:
    """The products behind one scorecard cell, worst first: a region of the director view, or a page."""
    kpis = selectors.director_kpis()
    freshness = selectors.rollup_freshness()
    region = region_requested(request, ROLLUP_CELL_REGIONS)
    if region == FRESHNESS_REGION:
        return _render(request, ROLLUP_CELL, region, {"freshness": freshness})
    form = forms.RollupCellForm(request.GET, kpis=kpis)
    if not form.is_valid():
        context = {"form": form, "freshness": freshness, "drilldown": None}
        return _render(request, ROLLUP_CELL, region, context, status=400)
    data = form.cleaned_data
    drilldown = selectors.rollup_cell_products(
        kpi=data["kpi"],
        column=selectors.scope_column(scope=data["scope"], key=data["key"]),
        grain=data["grain"],
        period=data["period"],
    )
    back = {"grain": data["grain"], "chart": data["kpi"].pk}
    if not drilldown.column.is_organisation:
        back.update({"dimension": data["scope"], data["scope"]: data["key"]})
    context = {
        "form": form,
        "freshness": freshness,
        "drilldown": drilldown,
        "rows": drilldown.products if data["all"] else drilldown.products[:DRILLDOWN_ROWS],
        "all_url": f"{request.path}?{urlencode({**request.GET.dict(), 'all': 1})}",
        "back_query": urlencode(back),
    }
    return _render(request, ROLLUP_CELL, region, context)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def kpis(request) -> HttpResponse:
    """The KPI definitions with each KPI's latest organisation-wide status; ``?format=csv`` streams them."""
    if _csv_requested(request):
        definitions = sorted(selectors.director_kpis(), key=lambda kpi: kpi.name)
        return exports.csv_response(
            exports.KPI_COLUMNS, exports.kpi_csv_rows(definitions), filename=exports.csv_filename("kpis")
        )
    freshness = selectors.rollup_freshness()
    region = region_requested(request, KPI_REGIONS)
    if region == FRESHNESS_REGION:
        return _render(request, KPIS, region, {"freshness": freshness})
    return _render(request, KPIS, region, {"freshness": freshness, "overview": selectors.kpi_overview()})


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def measurements(request) -> HttpResponse:
    """Every measurement, filtered and paged (100 a page); ``?format=csv`` streams all that match."""
    kpis = selectors.director_kpis()
    form = forms.MeasurementFilterForm(request.GET, kpis=kpis)
    if _csv_requested(request):
        if not form.is_valid():
            return _bad_filters(form.problems())
        filters = form.list_filters()
        rows = exports.measurement_csv_rows(
            selectors.measurement_list(**filters),
            kpis=kpis,
            own_targets=selectors.own_kpi_targets(product=filters["product"], kpi=filters["kpi"]),
        )
        return exports.csv_response(
            exports.MEASUREMENT_COLUMNS, rows, filename=exports.csv_filename("measurements")
        )
    page, rows = selectors.measurement_page(
        selectors.measurement_list(**form.list_filters()), page=form.cleaned_or_default()["page"]
    )
    context = {"form": form, "kpis": kpis, "page": page, "rows": rows}
    return _render(request, MEASUREMENTS, region_requested(request, MEASUREMENT_REGIONS), context)
