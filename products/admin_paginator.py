"""Admin pagination for the big tables (measurements, rollups): never a COUNT(*) over a whole table.

Django's admin counts every matching row to draw its page links. On a million measurements that count is the
slowest query of the page, and it is paid on every page view. ``CappedCountPaginator`` counts instead:

* an unfiltered list on PostgreSQL: the planner's row estimate (``pg_class.reltuples``), shown as "about N";
* everything else: at most ``cap + 1`` rows of a ``LIMIT``-ed subquery. When more rows match, the list shows
  "more than N" and pages up to the cap. The cap follows the page being read, so "next page" always works.
"""

from math import ceil

from django.contrib import admin
from django.contrib.admin.views.main import PAGE_VAR
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.html import escape

#: Rows counted exactly before the count becomes "more than N" (a multiple of every ``list_per_page`` used).
COUNT_CAP = 10_000
#: How many pages past the one being read the capped count always reaches.
PAGES_AHEAD = 10


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

    def __init__(self, object_list, per_page, orphans=0, allow_empty_first_page=True, *, cap: int = COUNT_CAP):
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


class LargeTableAdminMixin:
    """ModelAdmin settings for tables of a million rows: capped counts, no facet counts, 100 rows a page."""

    list_per_page = 100
    # The admin's "N total" next to search results is a second full count; facets are a count per filter choice.
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    count_cap = COUNT_CAP

    def get_paginator(
        self, request: HttpRequest, queryset: QuerySet, per_page: int, orphans: int = 0, allow_empty_first_page=True
    ) -> CappedCountPaginator:
        page = _as_page_number(request.GET.get(PAGE_VAR, 1))
        per_page = int(per_page)
        # Count far enough past the page being read that its page links and "next" always lead somewhere.
        reach = (max(page, 1) + PAGES_AHEAD) * per_page
        cap = max(ceil(self.count_cap / per_page) * per_page, reach)
        return CappedCountPaginator(queryset, per_page, orphans, allow_empty_first_page, cap=cap)
