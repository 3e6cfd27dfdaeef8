"""Template tags for KPI figures: server-drawn sparklines and number formatting."""

from collections.abc import Sequence

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

from spm.web.figures import kpi_number, sparkline

register = template.Library()

register.simple_tag(sparkline)
register.filter("kpi_number", kpi_number)


@register.simple_tag
def kpi_history_rows(periods: Sequence, values: Sequence[float], unit: str = "") -> str:
    """The rows of a KPI's data table (period, value), written in Python: a product page has one table per KPI
    with a year of weekly values each (about a thousand rows), too many for the template engine's per-row cost.
    Escaped like the template would (the unit is text an admin typed)."""
    rows = "".join(
        f'<tr><td>{period.isoformat()}</td><td class="num">{escape(kpi_number(value, unit))}</td></tr>'
        for period, value in zip(periods, values, strict=True)
    )
    return mark_safe(rows)  # noqa: S308 - every value interpolated above is escaped


@register.simple_tag
def follow_mode_of(follows: dict, pk: int) -> str:
    """A KPI's follow mode from ``portfolio.alerts.selectors.follow_modes_of_kpis`` ("default" when not set)."""
    return follows.get(pk, "default")
