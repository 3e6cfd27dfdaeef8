"""Paging a queryset whose count may already be known."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import (
    QuerySet,
)


def paginate(queryset: QuerySet, *, page: int, per_page: int, count: int | None = None) -> Page:
    """One page of ``queryset``; a ``count`` the caller already knows saves the COUNT query."""
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.count = count  # a cached_property: set, it is never computed
    return paginator.get_page(page)
