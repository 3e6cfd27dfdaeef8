"""The rows of a product table written in Python: ``{% product_table_rows rows kpi %}``.

A page of the dashboard or the product list has 25 to 100 rows of eleven cells; through the template engine
each cell's lookups and filters cost more than the whole rest of the page. This writes the same markup as the
template it replaced, with the same formats (``floatformat:0|intcomma`` for money, ``unlocalize``, ``widthratio``'s
rounding), and escapes every value that comes from the database.
"""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.templatetags.l10n import unlocalize
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe

from spm.web.figures import kpi_number, sparkline

register = template.Library()

SLUG = "__slug__"


def _money(value) -> str:
    """``value|floatformat:0|intcomma``: whole units (halves rounded up), thousands separated by commas."""
    whole = Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return f"{whole if whole else Decimal(0):,}"


def _percent(value, of) -> str:
    """``{% widthratio value of 100 %}``: the share in whole percent, "0" when ``of`` is zero."""
    of = float(of)
    return "0" if of == 0 else str(round(float(value) / of * 100))


NOT_SHARED = '<span class="restricted">—<span class="visually-hidden"> not shared with you</span></span>'


def _spend(row) -> str:
    product = row.product
    if not row.show_budget:  # why, and whom to ask: said once under the table (``money_hidden``)
        return NOT_SHARED
    over = product.actual_spend > product.planned_budget
    if row.spend_ratio is None:
        pct = '<span class="spend__pct">no budget</span>'
    elif over:
        pct = (
            f'<span class="spend__pct spend__pct--over">{_percent(product.actual_spend, product.planned_budget)}%'
            '<span class="visually-hidden"> of plan,</span> over</span>'
        )
    else:
        pct = (
            f'<span class="spend__pct">{_percent(product.actual_spend, product.planned_budget)}%'
            '<span class="visually-hidden"> of plan</span></span>'
        )
    bar = ""
    if row.spend_ratio is not None:
        bar = (
            f'<progress class="bar bar--thin{" bar--over" if over else ""}" '
            f'max="{escape(unlocalize(product.planned_budget))}" value="{escape(unlocalize(product.actual_spend))}" '
            'aria-hidden="true"></progress>'
        )
    return (
        f'<div class="spend"><div class="spend__numbers"><span>{_money(product.actual_spend)}</span>{pct}</div>'
        f"{bar}</div>"
    )


def _key_kpi(row, kpi) -> str:
    if not row.key_values:
        return '<span class="subtle">No data</span>'
    unit = kpi.unit if kpi is not None else ""
    # A symbol unit (€, %) stays with the number; a word unit (users) is in the column heading.
    if len(unit) <= 2:
        value = escape(kpi_number(row.key_latest, unit))
    else:
        value = f'{escape(kpi_number(row.key_latest))}<span class="visually-hidden"> {escape(unit)}</span>'
    return (
        f'<span class="kpi-cell"><span class="kpi-cell__value">{value}'
        f'<span class="trend trend--{escape(row.key_trend)}" aria-hidden="true"></span></span>'
        f"{sparkline(row.key_values, row.key_target, 80)}</span>"
    )


def _row(row, kpi, kpi_label: str, product_url: str) -> str:
    product = row.product
    name = escape(product.name)
    portfolio = escape(product.portfolio.name)
    owner = escape(str(product.owner))
    days = product.days_in_stage
    budget = _money(product.planned_budget) if row.show_budget else NOT_SHARED
    return (
        "<tr>"
        f'<th scope="row" class="cell-product"><a class="table__primary" href="{escape(product_url.replace(SLUG, product.slug))}">'
        f'{name}</a><span class="table__secondary show-sm">{portfolio} · {owner}</span></th>'
        f'<td class="hide-sm" data-label="Portfolio">{portfolio}</td>'
        f'<td class="hide-sm" data-label="Owner">{owner}</td>'
        f'<td data-label="Stage"><span class="badge stage stage--{escape(product.stage)}">'
        f"{escape(product.get_stage_display())}</span></td>"
        f'<td class="num" data-label="Days in stage">{days:,}'
        f'<span class="visually-hidden"> day{"" if days == 1 else "s"}</span></td>'
        f'<td class="hide-md" data-label="Market">{escape(product.get_market_display())}</td>'
        f'<td class="hide-md" data-label="Focus">{escape(product.get_focus_display())}</td>'
        f'<td data-label="Health"><span class="badge status status--{escape(product.health)}">'
        f"{escape(product.get_health_display())}</span></td>"
        f'<td class="cell-kpi" data-label="{kpi_label}">{_key_kpi(row, kpi)}</td>'
        f'<td class="num" data-label="Planned budget">{budget}</td>'
        f'<td class="cell-spend" data-label="Actual spend">{_spend(row)}</td>'
        "</tr>"
    )


@register.filter
def money_hidden(rows) -> bool:
    """Whether some of the rows hide their money from the person looking: the table then says once why."""
    return any(not row.show_budget for row in rows)


@register.simple_tag
def product_table_rows(rows, kpi) -> str:
    """Every ``portfolio.selectors.ProductRow`` of a page as a ``<tr>``, escaped."""
    kpi_label = escape(kpi.name if kpi is not None and kpi.name else "Key KPI")
    # One reverse() for the page: a product URL differs only by its slug (a SlugField, URL-safe).
    product_url = reverse("products:detail", kwargs={"slug": SLUG})
    return mark_safe("".join(_row(row, kpi, kpi_label, product_url) for row in rows))  # noqa: S308 - every value is escaped
