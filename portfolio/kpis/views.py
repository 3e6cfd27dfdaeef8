"""The portfolio dashboard: one URL serves the page and, for htmx, the region a control targets."""

import json
from urllib.parse import urlencode

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from portfolio.alerts.selectors import follow_modes_of_kpis
from portfolio.kpis.charts import scope_trend
from portfolio.kpis.exports import (
    KPI_COLUMNS,
    MEASUREMENT_COLUMNS,
    ROLLUP_COLUMNS,
    kpi_csv_rows,
    measurement_csv_rows,
    rollup_csv_rows,
)
from portfolio.kpis.forms import (
    DIMENSION_PLURALS,
    MeasurementFilterForm,
    RollupCellForm,
    RollupExportForm,
    RollupViewForm,
)
from portfolio.kpis.selectors.cards import kpi_overview
from portfolio.kpis.selectors.drilldown import rollup_cell_products
from portfolio.kpis.selectors.forecasts import forecast_export_figures
from portfolio.kpis.selectors.measurements import measurement_list, measurement_page, own_kpi_targets
from portfolio.kpis.selectors.scopes import (
    director_kpis,
    portfolios,
    rollup_export_rows,
    rollup_freshness,
    scope_column,
)
from portfolio.kpis.selectors.scorecard import TREND_MAX_LINES, ScopeTrend, rollup_scorecard, rollup_trend
from products import selectors as product_selectors
from spm.csvfiles.writer import csv_filename, csv_response
from spm.web.regions import region_requested, render_region

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


def render_with_freshness(
    request, template: str, region: str | None, context: dict, *, status: int = 200
) -> HttpResponse:
    """``render_region``; the freshness region, once its recompute is done, also tells the page to reload the
    numbers it shows (the ``rollups-fresh`` event)."""
    response = render_region(request, template, region, context, status=status)
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
    kpis = director_kpis()
    filter_choices = {
        "kpis": kpis,
        "portfolios": portfolios(),
        "owners": product_selectors.owners(),
    }
    if _csv_requested(request):
        export = RollupExportForm(request.GET, **filter_choices)
        if not export.is_valid():
            return _bad_filters(export.problems())
        filters = export.export_filters()
        rows = rollup_export_rows(filters)
        names = {kpi.pk: kpi.name for kpi in kpis}
        frequencies = {kpi.pk: kpi.frequency for kpi in kpis}
        forecasts = forecast_export_figures(filters)
        return csv_response(
            ROLLUP_COLUMNS,
            rollup_csv_rows(rows, kpi_names=names, kpi_frequencies=frequencies, forecasts=forecasts),
            filename=csv_filename("rollups"),
        )
    freshness = rollup_freshness()
    region = region_requested(request, ROLLUP_REGIONS)
    if region == FRESHNESS_REGION:
        return render_with_freshness(request, ROLLUPS, region, {"freshness": freshness})
    form = RollupViewForm(request.GET, **filter_choices)
    filters = form.cleaned_or_default()
    dimension, grain = filters["dimension"], filters["grain"]
    period_range = {"period_from": filters.get("period_from"), "period_to": filters.get("period_to")}
    scorecard = rollup_scorecard(
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
        trend = rollup_trend(
            kpi=chart_kpi,
            columns=scorecard.key_columns[:TREND_MAX_LINES],
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
        "dimension_label": DIMENSION_PLURALS[dimension],
        "csv_url": f"{request.path}?{urlencode({k: v for k, v in csv_query.items() if v})}",
    }
    return render_with_freshness(request, ROLLUPS, region, context)


def _trend_figure(trend: ScopeTrend | None) -> str:
    """The trend chart as JSON text for a hidden element (htmx drops <script> from swapped regions)."""
    if trend is None or not trend.points:
        return ""
    series = [
        (column.label, [p.period for p in points], [p.value for p in points], [p.target for p in points])
        for column, points in trend.series()
    ]
    figure = scope_trend(unit=trend.kpi.unit, series=series, quarterly=trend.grain == "quarter")
    return json.dumps(figure, cls=DjangoJSONEncoder)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def rollup_cell(request) -> HttpResponse:
    """The products behind one scorecard cell, worst first: a region of the director view, or a page."""
    kpis = director_kpis()
    freshness = rollup_freshness()
    region = region_requested(request, ROLLUP_CELL_REGIONS)
    if region == FRESHNESS_REGION:
        return render_with_freshness(request, ROLLUP_CELL, region, {"freshness": freshness})
    form = RollupCellForm(request.GET, kpis=kpis)
    if not form.is_valid():
        context = {"form": form, "freshness": freshness, "drilldown": None}
        return render_with_freshness(request, ROLLUP_CELL, region, context, status=400)
    data = form.cleaned_data
    drilldown = rollup_cell_products(
        kpi=data["kpi"],
        column=scope_column(scope=data["scope"], key=data["key"]),
        grain=data["grain"],
        period=data["period"],
        sort=data["sort"] or "gap",
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
        "sort": data["sort"] or "gap",
        "sort_urls": {
            order: f"{request.path}?{urlencode({**request.GET.dict(), 'sort': order})}"
            for order in ("gap", "change", "forecast")
        },
        "back_query": urlencode(back),
    }
    return render_with_freshness(request, ROLLUP_CELL, region, context)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def kpis(request) -> HttpResponse:
    """The KPI definitions with each KPI's latest organisation-wide status; ``?format=csv`` streams them."""
    if _csv_requested(request):
        definitions = sorted(director_kpis(), key=lambda kpi: kpi.name)
        return csv_response(KPI_COLUMNS, kpi_csv_rows(definitions), filename=csv_filename("kpis"))
    freshness = rollup_freshness()
    region = region_requested(request, KPI_REGIONS)
    if region == FRESHNESS_REGION:
        return render_with_freshness(request, KPIS, region, {"freshness": freshness})
    context = {
        "freshness": freshness,
        "overview": kpi_overview(),
        "follows": follow_modes_of_kpis(request.user),
    }
    return render_with_freshness(request, KPIS, region, context)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def measurements(request) -> HttpResponse:
    """Every measurement, filtered and paged (100 a page); ``?format=csv`` streams all that match."""
    kpis = director_kpis()
    form = MeasurementFilterForm(request.GET, kpis=kpis)
    if _csv_requested(request):
        if not form.is_valid():
            return _bad_filters(form.problems())
        filters = form.list_filters()
        rows = measurement_csv_rows(
            measurement_list(**filters),
            kpis=kpis,
            own_targets=own_kpi_targets(product=filters["product"], kpi=filters["kpi"]),
        )
        return csv_response(MEASUREMENT_COLUMNS, rows, filename=csv_filename("measurements"))
    page, rows = measurement_page(
        measurement_list(**form.list_filters()), page=form.cleaned_or_default()["page"]
    )
    context = {"form": form, "kpis": kpis, "page": page, "rows": rows}
    return render_with_freshness(
        request, MEASUREMENTS, region_requested(request, MEASUREMENT_REGIONS), context
    )
