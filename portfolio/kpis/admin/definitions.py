"""KPI definitions, targets and measurements in the Django admin.

Measurements are a big table (about a million rows): their list pages without counting every row
(``spm.admin_tools.paginator``), their date drill-down finds years and months by index seeks instead of
truncating every row's date (``spm.admin_tools.dates``), and their sortable columns are the indexed ones.

Measurements, targets and KPI settings edited here enqueue the recompute of the rollups they feed once the edit
commits, through ``portfolio.kpis.services.rollups_mark_stale`` like every other write. KPIs, targets and
measurements have a read-only "History" page per object (``spm.admin_tools.history``).
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from portfolio.kpis.engine import products_refresh_health
from portfolio.kpis.services import rollups_mark_stale
from portfolio.models import KPI, KPITarget, Measurement
from products.admin import admin_changelist_link
from products.models import Product
from products.permissions import can_edit_kpi_target
from spm.admin_tools.dates import DateHierarchyMixin
from spm.admin_tools.history import HistoryAdmin, VersionCheckedAdminMixin, VersionCheckedForm
from spm.admin_tools.numbers import NumberColumn, grouped
from spm.admin_tools.paginator import CountedDeletionMixin, LargeTableAdminMixin
from spm.admin_tools.permissions import RowPermissionAdminMixin

#: A KPI's targets are edited inline on its page up to this many; past it the page links to the target list.
INLINE_TARGETS_LIMIT = 50
#: KPI settings that change the numbers or the status of its rollups.
KPI_ROLLUP_FIELDS = {"direction", "aggregation", "time_aggregation", "default_target", "tolerance"}


# --------------------------------------------------------------------------------------------------
# Recomputing the rollups an admin edit feeds
# --------------------------------------------------------------------------------------------------


@dataclass
class PendingRecompute:
    """The rollups one admin request made stale: whole KPIs (a target or setting changed) or KPI periods."""

    kpi_ids: set[int] = field(default_factory=set)
    kpi_periods: set[tuple[int, dt.date]] = field(default_factory=set)

    def enqueue(self) -> None:
        if self.kpi_ids:
            rollups_mark_stale(kpi_ids=self.kpi_ids)  # every period of the KPIs
        measured = {(kpi_id, period) for kpi_id, period in self.kpi_periods if kpi_id not in self.kpi_ids}
        if measured:
            for kpi_id, period in measured:
                rollups_mark_stale(kpi_ids=[kpi_id], periods=[period])


def recompute_rollups_on_commit(
    request: HttpRequest,
    *,
    kpi_ids: Iterable[int | None] = (),
    kpi_periods: Iterable[tuple[int | None, dt.date | None]] = (),
) -> None:
    """Once the admin's transaction commits, enqueue the recompute of the rollups these KPIs or KPI periods feed.

    One request (a list of edited targets, a bulk delete) enqueues one recompute, however many rows it wrote;
    marking per saved row would write a mark per row.
    """
    pending = getattr(request, "_spm_pending_recompute", None)
    first = pending is None
    if first:
        pending = PendingRecompute()
        request._spm_pending_recompute = pending
    pending.kpi_ids.update(k for k in kpi_ids if k is not None)
    pending.kpi_periods.update((k, p) for k, p in kpi_periods if k is not None and p is not None)
    if first:

        def enqueue() -> None:
            del request._spm_pending_recompute
            pending.enqueue()

        transaction.on_commit(enqueue)


# --------------------------------------------------------------------------------------------------
# Pieces for the big tables
# --------------------------------------------------------------------------------------------------


class SelectedProductFilter(admin.SimpleListFilter):
    """Narrows a list to one product, reached from that product's admin page.

    A sidebar of a thousand products helps nobody; this filter appears only once a product is chosen (by the
    link, ``?product=<id>``), so the list says which product it shows and offers the way back to all.
    """

    title = "product"
    parameter_name = "product"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        # Whatever the value, offer it as the one choice: a filter without choices is dropped unapplied, and
        # the list would show every product's rows under a product's link.
        if self.value() is None:
            return []
        product_id = self._product_id()
        name = (
            Product.objects.filter(pk=product_id).values_list("name", flat=True).first()
            if product_id
            else None
        )
        return [(self.value(), name or f"No product {self.value()}")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() is None:
            return queryset
        product_id = self._product_id()
        if product_id is None:
            raise IncorrectLookupParameters(f"Not a product id: {self.value()!r}")
        return queryset.filter(product_id=product_id)

    def _product_id(self) -> int | None:
        try:
            return int(self.value())
        except (TypeError, ValueError):
            return None


# --------------------------------------------------------------------------------------------------
# KPIs and targets
# --------------------------------------------------------------------------------------------------


class KPITargetInline(admin.TabularInline):
    """A KPI's per-product targets, on its page only while they are few (see ``KPIAdmin.get_inlines``)."""

    model = KPITarget
    # "version" renders hidden: two admins editing the same target conflict instead of overwriting.
    form = VersionCheckedForm
    fields = ("product", "target", "updated_at", "version")
    readonly_fields = ("updated_at",)
    autocomplete_fields = ("product",)
    ordering = ("product__name",)
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[KPITarget]:
        return super().get_queryset(request).select_related("product", "kpi")


@admin.register(KPI)
class KPIAdmin(CountedDeletionMixin, HistoryAdmin):
    """KPI definitions. Targets are inline while a KPI has at most ``INLINE_TARGETS_LIMIT`` of them.

    A KPI can carry a target for each of a thousand products. A thousand inline forms make a page of
    megabytes that the browser cannot post back (Django refuses more than 1,000 fields), so past the limit
    the page shows how many targets there are and links to the KPI target list filtered to this KPI, which
    pages, searches and edits targets in place.
    """

    list_display = (
        "name",
        "unit",
        "direction",
        "aggregation",
        "time_aggregation",
        NumberColumn("default_target"),
        "tolerance",
        "frequency",
        "is_key",
        "updated_at",
    )
    list_filter = ("direction", "aggregation", "time_aggregation", "frequency", "is_key")
    search_fields = ("name", "description")
    ordering = ("name",)
    readonly_fields = ("kpi_data", "updated_at")
    fieldsets = (
        (None, {"fields": ("name", "description", "unit", "is_key")}),
        ("Aggregation", {"fields": ("direction", "aggregation", "time_aggregation", "frequency")}),
        ("Target", {"fields": ("default_target", "tolerance")}),
        (
            "Valid values",
            {
                "fields": ("min_value", "max_value"),
                "description": "Measurements and targets outside this range are refused everywhere. "
                "Blank: 0 to 100 for a percentage, else not negative. "
                "Data that breaks a changed range is listed by manage.py check_kpi_data.",
            },
        ),
        ("Data", {"fields": ("kpi_data", "updated_at")}),
    )
    inlines = (KPITargetInline,)

    def get_inlines(self, request: HttpRequest, obj: KPI | None):
        if obj is not None and obj.targets.all()[: INLINE_TARGETS_LIMIT + 1].count() > INLINE_TARGETS_LIMIT:
            return ()
        return super().get_inlines(request, obj)

    @admin.display(description="Data")
    def kpi_data(self, kpi: KPI) -> str:
        if kpi.pk is None:
            return "-"
        targets = kpi.targets.count()
        note = "" if targets <= INLINE_TARGETS_LIMIT else " (too many to edit on this page)"
        return format_html_join(
            " · ",
            "{}",
            (
                (
                    admin_changelist_link(
                        "portfolio.kpitarget", f"{targets} product target(s){note}", kpi__id__exact=kpi.pk
                    ),
                ),
                (admin_changelist_link("portfolio.measurement", "Measurements", kpi__id__exact=kpi.pk),),
                (admin_changelist_link("portfolio.rollup", "Rollups", kpi__id__exact=kpi.pk),),
            ),
        )

    def save_model(self, request: HttpRequest, obj: KPI, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and KPI_ROLLUP_FIELDS & set(form.changed_data):
            recompute_rollups_on_commit(request, kpi_ids=[obj.pk])

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        if formset.model is KPITarget and (
            formset.new_objects or formset.changed_objects or formset.deleted_objects
        ):
            recompute_rollups_on_commit(request, kpi_ids=[form.instance.pk])


@admin.register(KPITarget)
class KPITargetAdmin(RowPermissionAdminMixin, VersionCheckedAdminMixin, HistoryAdmin):
    """Per-product targets: one row per product and KPI (up to 20,000). Targets are edited in the list.

    Each form, and each row of the list, carries the target's version: a save from a page loaded before someone
    else's save is refused with what they changed (``spm.admin_tools.history``)."""

    row_permission = staticmethod(lambda user, target: can_edit_kpi_target(user, target.product))

    list_display = ("kpi", "product", "target", "kpi_default_target", "updated_at")
    list_display_links = ("kpi", "product")
    list_editable = ("target",)
    list_filter = ("kpi", SelectedProductFilter, "product__portfolio", "product__stage")
    search_fields = ("product__name", "product__slug", "kpi__name")
    autocomplete_fields = ("product", "kpi")
    list_select_related = ("product", "kpi")
    ordering = ("kpi__name", "product__name")
    list_per_page = 100
    show_facets = admin.ShowFacets.NEVER
    readonly_fields = ("updated_at",)

    @admin.display(description="KPI default target", ordering="kpi__default_target")
    def kpi_default_target(self, target: KPITarget) -> str | None:
        return grouped(target.kpi.default_target)

    def save_model(self, request: HttpRequest, obj: KPITarget, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # A target counts for every period of its KPI; moving it to another KPI changes both.
        recompute_rollups_on_commit(request, kpi_ids=[obj.kpi_id, form.initial.get("kpi")])

    def delete_model(self, request: HttpRequest, obj: KPITarget) -> None:
        super().delete_model(request, obj)
        recompute_rollups_on_commit(request, kpi_ids=[obj.kpi_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[KPITarget]) -> None:
        kpi_ids = set(queryset.order_by().values_list("kpi_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        recompute_rollups_on_commit(request, kpi_ids=kpi_ids)


# --------------------------------------------------------------------------------------------------
# Measurements and rollups: the big tables
# --------------------------------------------------------------------------------------------------


@admin.register(Measurement)
class MeasurementAdmin(DateHierarchyMixin, LargeTableAdminMixin, HistoryAdmin):
    """One row per product, KPI and period: about a million. Filter by KPI, date or product; search products.

    On the whole table only the indexed period column sorts (sorting a million rows by value takes seconds);
    once a KPI or a product is chosen, every column does.
    """

    list_display = ("period", "product", "kpi", "value_with_unit", "recorded_at", "recorded_by")
    list_filter = ("kpi", SelectedProductFilter, "product__portfolio", "product__stage")
    search_fields = ("product__name", "product__slug")
    search_help_text = "Product name or slug (contains)."
    autocomplete_fields = ("product", "kpi", "recorded_by")
    list_select_related = ("product", "kpi", "recorded_by")
    date_hierarchy = "period"
    ordering = ("-period", "-pk")
    indexed_sortable_by = ("period",)
    narrowing_filters = ("kpi__id__exact", "product")
    fields = ("product", "kpi", "period", "value", "recorded_at", "recorded_by")

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # Match among the thousand products first, then filter measurements by product id. Django's own search
        # joins every measurement to its product and tests each name: a scan of the whole table when the name
        # is rare. With the ids as literals the planner picks the product index for a few products and the
        # period order for many.
        term = search_term.strip()
        if not term:
            return queryset, False
        product_ids = list(
            Product.objects.filter(Q(name__icontains=term) | Q(slug__icontains=term)).values_list(
                "pk", flat=True
            )
        )
        return queryset.filter(product_id__in=product_ids), False

    @admin.display(description="Value", ordering="value")
    def value_with_unit(self, measurement: Measurement) -> str:
        unit = measurement.kpi.unit
        return f"{grouped(measurement.value)} {unit}".strip()

    def save_model(self, request: HttpRequest, obj: Measurement, form, change: bool) -> None:
        if not change and obj.recorded_by_id is None:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
        # A measurement moved to another KPI or period leaves its old bucket stale too.
        recompute_rollups_on_commit(
            request,
            kpi_periods={(obj.kpi_id, obj.period), (form.initial.get("kpi"), form.initial.get("period"))},
        )
        products_refresh_health(product_ids={obj.product_id, form.initial.get("product") or obj.product_id})

    def delete_model(self, request: HttpRequest, obj: Measurement) -> None:
        super().delete_model(request, obj)
        recompute_rollups_on_commit(request, kpi_periods={(obj.kpi_id, obj.period)})
        products_refresh_health(product_ids=[obj.product_id])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Measurement]) -> None:
        stale = set(queryset.order_by().values_list("kpi_id", "period").distinct())
        touched = set(queryset.order_by().values_list("product_id", flat=True).distinct())
        super().delete_queryset(request, queryset)
        recompute_rollups_on_commit(request, kpi_periods=stale)
        if touched:
            products_refresh_health(product_ids=touched)
