"""Rollups in the admin: read-only rows (a recompute is the only way they change), the stale marks and
the recompute state, the forecasts' measured accuracy."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from portfolio.kpis.services import rollups_mark_stale
from portfolio.models import ForecastAccuracy, Rollup, RollupState, StaleRollup
from spm.admin_tools.numbers import NumberColumn
from spm.admin_tools.paginator import LargeTableAdminMixin


@admin.action(permissions=["recompute"], description="Recompute selected rollups from their measurements")
def recompute_selected(modeladmin: "RollupAdmin", request: HttpRequest, queryset: QuerySet[Rollup]) -> None:
    kpi_ids = set(queryset.order_by().values_list("kpi_id", flat=True).distinct())
    # A rollup's period is the first day of its bucket: recomputing from that day covers the bucket.
    periods = set(queryset.order_by().values_list("period", flat=True).distinct())
    rollups_mark_stale(kpi_ids=kpi_ids, periods=periods)
    modeladmin.message_user(
        request,
        f"Recompute of the rollups of {len(kpi_ids)} KPI(s) over {len(periods)} period(s) requested; "
        "the computed-at time of each rollup shows when it is done.",
        messages.SUCCESS,
    )


@admin.register(Rollup)
class RollupAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    """Computed aggregates: read-only (no add, no edit). Delete is allowed so stale scopes can be cleared.

    The list reads in the order of the (scope, grain, KPI, period) index, so a page costs an index walk and
    never a sort of a million rows, whatever the filters (KPI, scope, grain, status, period range). Rollups have no index on the period alone, so there is no
    year/month drill-down (each step would scan the table): the period filter offers ranges instead.
    """

    # The numbers with their thousands grouped, in the list and on a rollup's page (spm.admin_tools.numbers).
    value_grouped = NumberColumn("value")
    target_grouped = NumberColumn("target")
    products_grouped = NumberColumn("products")
    list_display = (
        "kpi",
        "scope",
        "scope_key",
        "grain",
        "period",
        value_grouped,
        target_grouped,
        "status",
        products_grouped,
        "computed_at",
    )
    list_filter = ("kpi", "scope", "grain", "status", ("period", admin.DateFieldListFilter))
    search_fields = ("=scope_key",)
    search_help_text = (
        "Exact scope key: a portfolio slug, an owner's username, a stage, market or focus value, or 'all'."
    )
    list_select_related = ("kpi",)
    ordering = ("scope", "grain", "kpi_id", "period", "scope_key")
    indexed_sortable_by = ()  # every column but the index order sorts 234k rows: none until narrowed to a KPI
    narrowing_filters = ("kpi__id__exact",)
    actions = [*LargeTableAdminMixin.actions, recompute_selected]
    fields = (
        "kpi",
        "scope",
        "scope_key",
        "grain",
        "period",
        "value_grouped",
        "target_grouped",
        "status",
        "products_grouped",
        "computed_at",
        "measurements_link",
    )
    readonly_fields = fields

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # Scope keys are identifiers (slugs, usernames, stored values): an exact match lets the database skip
        # through the unique index (KPI, scope, key, …), where Django's "=" search upper-cases every key.
        term = search_term.strip()
        return (queryset.filter(scope_key=term) if term else queryset), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Rollup | None = None) -> bool:
        return False

    def has_recompute_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("portfolio.change_rollup")

    @admin.display(description="Measurements")
    def measurements_link(self, rollup: Rollup) -> str:
        url = reverse("admin:portfolio_measurement_changelist")
        return format_html(
            '<a href="{}?kpi__id__exact={}">Measurements of {}</a>', url, rollup.kpi_id, rollup.kpi
        )


class ComputedStateAdmin(admin.ModelAdmin):
    """Bookkeeping written by the rollup services, shown so an admin can see what is pending; never typed."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(StaleRollup)
class StaleRollupAdmin(ComputedStateAdmin):
    """Rollups marked stale and waiting for the refresh task (an empty list: everything is fresh)."""

    list_display = ("marked_at", "kpi", "period", "scope", "scope_key")
    list_select_related = ("kpi",)
    ordering = ("-marked_at", "-pk")


@admin.register(RollupState)
class RollupStateAdmin(ComputedStateAdmin):
    list_display = ("computed_at", "refresh_queued_at")


@admin.register(ForecastAccuracy)
class ForecastAccuracyAdmin(ComputedStateAdmin):
    """Each KPI's measured forecast accuracy, written by ``manage.py forecast_backtest`` and Celery beat weekly."""

    list_display = (
        "kpi",
        "series",
        "hidden",
        "mape",
        "naive_mape",
        "at_least_naive",
        "coverage_80",
        "coverage_95",
        "measured_at",
    )
    list_select_related = ("kpi",)
    ordering = ("kpi__name",)
