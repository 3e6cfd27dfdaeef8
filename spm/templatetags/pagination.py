"""``{% page_links page target="#region" %}``: the First / Previous / Next / Last links of every paged table.

One include (``includes/page_links.html``) for every page: each link is a plain link (it works without
JavaScript) that htmx follows in place, swapping ``target`` and scrolling to its top. A filter form's ``query``
(valid filters only, defaults left out) builds the links when the page has one; otherwise the request's own
query string with another page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import template
from django.core.paginator import Page
from django.http import QueryDict

register = template.Library()


@dataclass(frozen=True)
class PageLink:
    label: str
    url: str  # empty: this way there is no further page, the link is shown disabled
    rel: str = ""


def page_url(request, form, number: int | None) -> str:
    """The current path with page ``number`` (None or 1: no page parameter at all)."""
    number = None if number == 1 else number
    if form is not None:
        query = form.query(page=number)
    else:
        query: QueryDict = request.GET.copy()
        query.pop("page", None)
        if number is not None:
            query["page"] = str(number)
    return f"{request.path}?{query.urlencode()}" if query else request.path


@register.inclusion_tag("includes/page_links.html", takes_context=True)
def page_links(
    context,
    page: Page,
    target: str,
    form=None,
    scroll: str = "",
    hint: str = "page",
    first: str = "First",
    previous: str = "Previous",
    next: str = "Next",
    last: str = "Last",
) -> dict:
    request = context["request"]
    before, after = page.has_previous(), page.has_next()
    links = [
        PageLink(first, page_url(request, form, 1) if before else ""),
        PageLink(previous, page_url(request, form, page.number - 1) if before else "", "prev"),
        PageLink(next, page_url(request, form, page.number + 1) if after else "", "next"),
        PageLink(last, page_url(request, form, page.paginator.num_pages) if after else ""),
    ]
    return {"links": links, "target": target, "scroll": scroll or target, "hint": hint}
