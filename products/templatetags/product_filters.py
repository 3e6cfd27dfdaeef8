"""Links that keep a product table's filters: ``{% filter_url form page=2 %}``."""

from django import template

from products.forms import ProductFilterForm

register = template.Library()


@register.simple_tag(takes_context=True)
def filter_url(context, form: ProductFilterForm, path: str = "", **changes) -> str:
    """``path`` (the current page by default) with the form's valid filters, sort and page size, changed by
    ``changes`` (``None`` drops a parameter). No query string at all when nothing is set: a clean URL."""
    path = path or context["request"].path
    query = form.query(**changes)
    return f"{path}?{query.urlencode()}" if query else path


@register.filter
def compact_number(value) -> str:
    """A large amount in a few characters for a tile: 950 → "950", 12,345 → "12.3k", 107,080,000 → "107.1M"."""
    if value is None or value == "":
        return ""
    number = float(value)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= size:
            return f"{number / size:,.1f}".removesuffix(".0") + suffix
    return f"{number:,.0f}"
