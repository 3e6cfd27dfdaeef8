"""The htmx page/region pattern (django-htmx's example): one URL serves a page and, for htmx, the region a
control targets, rendered from the page's own template (``"page.html#region"``, a ``{% partialdef %}``).

Every view that serves regions asks here, so "is this a region request" means one thing everywhere: an htmx
request that is not a history restore (a restore wants the whole page).
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that swaps part of the page (not a history restore, which wants the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def region_requested(request: HttpRequest, regions: tuple[str, ...]) -> str | None:
    """The region an htmx request targets (its ``HX-Target``) if the page has it, else None: the whole page."""
    return request.htmx.target if is_htmx(request) and request.htmx.target in regions else None


def render_region(
    request: HttpRequest, template: str, region: str | None, context: dict, *, status: int = 200
) -> HttpResponse:
    """The whole page, or only ``region`` of it (a ``{% partialdef %}`` of the page's template)."""
    return render(request, f"{template}#{region}" if region else template, context, status=status)
