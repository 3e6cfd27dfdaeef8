"""The measurement list's rows written in Python: ``{% measurement_rows rows %}``.

A page holds 100 measurements of six cells; through template nodes each costs more than its markup (the same
reason as the scorecard cells in ``rollup_display``). Same markup, every value escaped.
"""

from django import template
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import escape
from django.utils.safestring import mark_safe

from portfolio.templatetags.kpi_display import kpi_number
from portfolio.templatetags.rollup_display import period_label
from spm.web.markup import status_badge

register = template.Library()

SLUG = "__slug__"


@register.simple_tag
def measurement_rows(rows) -> str:
    """Every ``portfolio.selectors.MeasurementRow`` of a page as a ``<tr>``."""
    # One reverse() for the page: a product URL differs only by its slug (a SlugField, URL-safe).
    product_url = reverse("products:detail", kwargs={"slug": SLUG})
    return mark_safe("".join(_row(row, product_url) for row in rows))  # noqa: S308 - every value is escaped


def _row(row, product_url: str) -> str:
    m = row.measurement
    kpi, product = m.kpi, m.product
    unit = kpi.unit
    target = (
        escape(kpi_number(row.target, unit)) if row.target is not None else '<span class="subtle">none</span>'
    )
    return (
        "<tr>"
        f'<td class="nowrap" data-label="Period"><time datetime="{m.period.isoformat()}">'
        f"{escape(period_label(m.period, 'native', kpi.frequency))}</time></td>"
        f'<th scope="row" class="cell-product" data-label="Product"><a class="table__primary" '
        f'href="{escape(product_url.replace(SLUG, product.slug))}">{escape(product.name)}</a></th>'
        f'<td data-label="KPI">{escape(kpi.name)}</td>'
        f'<td class="num nowrap" data-label="Value" title="{escape(str(localize(m.value)))}">'
        f"{escape(kpi_number(m.value, unit))}</td>"
        f'<td class="num nowrap" data-label="Target">{target}</td>'
        f'<td data-label="Status">{status_badge(row.status)}</td>'
        "</tr>"
    )
