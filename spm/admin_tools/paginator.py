"""Admin for the big tables (measurements, rollups): never a COUNT(*) over a whole table, never a page per row.

Django's admin counts every matching row to draw its page links. On a million measurements that count is the
slowest query of the page, and it is paid on every page view. ``CappedCountPaginator`` counts instead:

* an unfiltered list on PostgreSQL: the planner's row estimate (``pg_class.reltuples``), shown as "about N";
* everything else: at most ``cap + 1`` rows of a ``LIMIT``-ed subquery. When more rows match, the list shows
  "more than N" and pages up to the cap. The cap follows the page being read, so "next page" always works.

Deleting is bounded the same way. Django's delete confirmation loads and prints every cascaded row (a KPI's
50,000 measurements, each printed with two extra queries); ``CountedDeletionMixin`` counts them instead.
Django's "delete selected" action loads every selected row and logs one entry per row; ``LargeTableAdminMixin``
refuses it beyond ``BULK_DELETE_LIMIT`` rows and asks for a narrower filter.
"""

from collections import Counter
from math import ceil

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.contrib.admin.views.main import PAGE_VAR
from django.core.paginator import Paginator
from django.db import connections, models, router
from django.db.models import QuerySet
from django.db.models.deletion import Collector
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.html import escape, format_html
from django.utils.text import capfirst

#: Rows counted exactly before the count becomes "more than N" (a multiple of every ``list_per_page`` used).
COUNT_CAP = 10_000
#: How many pages past the one being read the capped count always reaches.
PAGES_AHEAD = 10
#: The most rows "delete selected" removes at once from a big table.
BULK_DELETE_LIMIT = 10_000
#: Objects named one by one on a delete confirmation page; the rest are counted.
LISTED_ON_DELETE = 20


class ApproximateCount(int):
    """A row count the admin templates may compare and do arithmetic with, shown with what it is not.

    The admin renders ``cl.result_count`` as a bare number ("1000000 measurements"); this int renders as
    "about 1,000,000" or "more than 10,000" so nobody takes an estimate for a count.
    """

    def __new__(cls, value: int, *, qualifier: str) -> "ApproximateCount":
        count = super().__new__(cls, value)
        count.qualifier = qualifier
        return count

    def __str__(self) -> str:
        return f"{self.qualifier} {int(self):,}"

    def __html__(self) -> str:
        return escape(str(self))


def is_whole_table(queryset: QuerySet) -> bool:
    """True when ``queryset`` selects every row of its table once (no filter, distinct, grouping or slice)."""
    query = queryset.query
    return not (query.where or query.distinct or query.combinator or query.is_sliced or query.group_by)


def estimated_row_count(queryset: QuerySet) -> int | None:
    """The PostgreSQL planner's row estimate for the queryset's table; None elsewhere or before ANALYZE."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    # reltuples is -1 for a table never vacuumed or analysed (0 before PostgreSQL 14).
    if row is None or row[0] is None or row[0] <= 0:
        return None
    return int(row[0])


class CappedCountPaginator(Paginator):
    """A paginator whose ``count`` costs at most ``cap + 1`` rows, or one catalogue lookup on PostgreSQL."""

    def __init__(
        self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, cap: int = COUNT_CAP
    ):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return super().count
        if is_whole_table(queryset):
            estimate = estimated_row_count(queryset)
            # Small tables are counted exactly below: the estimate only stands in for a count that costs.
            if estimate is not None and estimate > self.cap:
                return ApproximateCount(estimate, qualifier="about")
        counted = queryset.order_by()[: self.cap + 1].count()
        if counted > self.cap:
            return ApproximateCount(self.cap, qualifier="more than")
        return counted

    @property
    def is_estimate(self) -> bool:
        return isinstance(self.count, ApproximateCount) and self.count.qualifier == "about"

    def validate_number(self, number):
        # An estimate may fall short of the real row count: past its last page, read on instead of refusing.
        if self.is_estimate:
            return self._validate_number(number, max(self.num_pages, _as_page_number(number)))
        return super().validate_number(number)

    def page(self, number):
        if not self.is_estimate:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


def _as_page_number(number) -> int:
    try:
        return int(number)
    except (TypeError, ValueError):
        return 1


class CountedDeletionMixin:
    """A delete confirmation that counts the cascaded rows of each model instead of printing each one."""

    # Room for the listed objects, the "and N more" line and a count per cascaded model; Django's own
    # confirmation (used when protected rows block the delete) is cut at the same length.
    delete_confirmation_max_display = 100

    def get_deleted_objects(self, objs, request: HttpRequest):
        model = self.model
        collector = Collector(using=router.db_for_write(model), origin=objs)
        try:
            collector.collect(objs)
        except (models.ProtectedError, models.RestrictedError):
            # Django's own confirmation names the protected rows; protection stops it before any big cascade.
            return super().get_deleted_objects(objs, request)
        counts: Counter = Counter()
        for collected_model, instances in collector.data.items():
            counts[collected_model] += len(instances)
        for queryset in collector.fast_deletes:
            counts[queryset.model] += queryset.count()

        site = self.admin_site
        perms_needed = {
            counted._meta.verbose_name
            for counted in counts
            if site.is_registered(counted)
            and not site.get_model_admin(counted).has_delete_permission(request)
        }

        roots = list(objs[:LISTED_ON_DELETE]) if isinstance(objs, QuerySet) else list(objs)[:LISTED_ON_DELETE]
        to_delete: list = [self._deleted_object_link(obj) for obj in roots]
        unlisted = counts[model] - len(roots)
        if unlisted > 0:
            to_delete.append(f"… and {unlisted:,} more {model._meta.verbose_name_plural}")
        cascaded = [
            f"{capfirst(related._meta.verbose_name_plural)}: {count:,}"
            for related, count in sorted(counts.items(), key=lambda item: item[0]._meta.verbose_name_plural)
            if related is not model and count
        ]
        if cascaded:
            to_delete.append(cascaded)
        model_count = {counted._meta.verbose_name_plural: count for counted, count in counts.items() if count}
        return to_delete, model_count, perms_needed, []

    def _deleted_object_link(self, obj: models.Model) -> str:
        opts = obj._meta
        try:
            url = reverse(f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        except NoReverseMatch:
            return f"{capfirst(opts.verbose_name)}: {obj}"
        return format_html('{}: <a href="{}">{}</a>', capfirst(opts.verbose_name), url, str(obj))


@admin.action(permissions=["delete"], description="Delete selected %(verbose_name_plural)s")
def delete_selected(modeladmin, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
    """Django's "delete selected", refused when the selection is too big to load and log row by row."""
    if queryset.order_by()[: BULK_DELETE_LIMIT + 1].count() > BULK_DELETE_LIMIT:
        modeladmin.message_user(
            request,
            f"More than {BULK_DELETE_LIMIT:,} {modeladmin.opts.verbose_name_plural} selected: "
            "narrow the list with its filters and delete in smaller batches.",
            messages.ERROR,
        )
        return None
    return django_delete_selected(modeladmin, request, queryset)


class LargeTableAdminMixin(CountedDeletionMixin):
    """ModelAdmin settings for tables of a million rows: capped counts, no facet counts, 100 rows a page."""

    list_per_page = 100
    # The admin's "N total" next to search results is a second full count; facets are a count per filter choice.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    count_cap = COUNT_CAP
    # Replaces the site-wide action of the same name.
    actions = [delete_selected]
    #: Columns cheap to sort on the whole table (indexed); None: every column, always.
    indexed_sortable_by: tuple[str, ...] | None = None
    #: Query-string filters that leave few enough rows for any column to sort quickly.
    narrowing_filters: tuple[str, ...] = ()

    def get_sortable_by(self, request: HttpRequest):
        if self.indexed_sortable_by is None or any(name in request.GET for name in self.narrowing_filters):
            return super().get_sortable_by(request)
        return self.indexed_sortable_by

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page=True,
    ) -> CappedCountPaginator:
        page = _as_page_number(request.GET.get(PAGE_VAR, 1))
        per_page = int(per_page)
        # Count far enough past the page being read that its page links and "next" always lead somewhere.
        reach = (max(page, 1) + PAGES_AHEAD) * per_page
        cap = max(ceil(self.count_cap / per_page) * per_page, reach)
        return CappedCountPaginator(queryset, per_page, orphans, allow_empty_first_page, cap=cap)
