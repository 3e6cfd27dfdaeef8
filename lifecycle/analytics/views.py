"""The lifecycle analytics page."""

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from lifecycle.analytics.charts import cumulative_flow, funnel
from lifecycle.analytics.exports import analytics_csv_response
from lifecycle.analytics.forms import AnalyticsFilterForm
from lifecycle.analytics.selectors import lifecycle_analytics
from portfolio.kpis.selectors.scopes import portfolios
from spm.web.charts import figure_json
from spm.web.regions import region_requested, render_region

# ------------------------------------------------------------------------------------------------------------
# Lifecycle analytics: one URL for the page and its results region (a filter change swaps the results).
# ------------------------------------------------------------------------------------------------------------

ANALYTICS = "lifecycle/analytics.html"
ANALYTICS_REGIONS = ("analytics-results",)


@require_GET
@vary_on_headers("HX-Request", "HX-Target")
def analytics(request: HttpRequest) -> HttpResponse:
    """Funnel, conversion, time in stage, stuck products, overrides and cumulative flow for a window and a
    scope from the query string; ``?format=csv`` gives the per-stage numbers. Everyone signed in may see it: it
    shows no money."""
    form = AnalyticsFilterForm(request.GET or None, portfolios=portfolios().only("slug", "name"))
    filters = form.filters()
    report = lifecycle_analytics(filters)
    if request.GET.get("format") == "csv":
        return analytics_csv_response(
            report, filename=f"lifecycle-{filters.start:%Y-%m-%d}-{filters.end:%Y-%m-%d}.csv"
        )
    context = {
        "form": form,
        "report": report,
        "funnel_figure": figure_json(funnel(report.funnel, report.conversion)),
        "flow_figure": figure_json(cumulative_flow(report.flow)),
        "csv_query": urlencode(
            {
                "format": "csv",
                "start": filters.start.isoformat(),
                "end": filters.end.isoformat(),
                **{
                    name: getattr(filters, name)
                    for name in ("portfolio", "market", "focus")
                    if getattr(filters, name)
                },
            }
        ),
    }
    return render_region(request, ANALYTICS, region_requested(request, ANALYTICS_REGIONS), context)
