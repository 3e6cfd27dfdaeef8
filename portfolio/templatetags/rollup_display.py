"""Words for rollup figures in the director view: period labels, changes, gaps to target."""

import datetime as dt
from html import escape as escape_text

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from portfolio.choices import Direction, Frequency, Grain
from portfolio.periods import quarter_label
from portfolio.templatetags.kpi_display import kpi_number
from portfolio.validity import FREQUENCY_NOUNS
from spm.web.markup import status_badge

register = template.Library()


@register.simple_tag
def period_label(period: dt.date | None, grain: str, frequency: str = "") -> str:
    """“Nov 2026”, “Q4 2026”, or for a native period the KPI's own: “Week of 16 Nov 2026”."""
    if period is None:
        return "—"
    if grain == Grain.QUARTER or (grain == Grain.NATIVE and frequency == Frequency.QUARTERLY):
        return quarter_label(period)
    if grain == Grain.MONTH or (grain == Grain.NATIVE and frequency == Frequency.MONTHLY):
        return f"{period:%b %Y}"
    return f"Week of {period.day} {period:%b %Y}"


MINUS = "\N{MINUS SIGN}"


@register.filter
def signed_percent(change: float | None) -> str:
    """A relative change as “+4.2%”, “-3%” (written with a true minus sign), “0%”; empty when unknown."""
    if change is None:
        return ""
    percent = change * 100
    text = f"{abs(percent):.1f}".rstrip("0").rstrip(".") if abs(percent) < 10 else f"{abs(percent):.0f}"
    if text in ("0", ""):
        return "0%"
    return f"{'+' if percent > 0 else MINUS}{text}%"


TREND_WORDS = {"up": "up", "down": "down", "flat": "unchanged"}


@register.filter
def trend_words(trend: str) -> str:
    return TREND_WORDS.get(trend, "")


@register.simple_tag
def gap_text(gap: float | None, direction: str, unit: str = "") -> str:
    """How far a product is from its target, in words that follow the KPI's direction:
    “short by €1,200” / “ahead by €300” (higher is better), “over by 2 days” / “under by 1 day” (lower)."""
    if gap is None:
        return "no target"
    if gap == 0:
        return "on target"
    amount = kpi_number(abs(gap), unit)
    if direction == Direction.LOWER:
        return f"over by {amount}" if gap > 0 else f"under by {amount}"
    return f"short by {amount}" if gap > 0 else f"ahead by {amount}"


@register.filter
def kpi_signed(value: float | None, unit: str = "") -> str:
    """A change in the KPI's units with its sign first: “+€20”, “-€70” (written with a true minus sign), “€0”."""
    if value is None:
        return "\N{EN DASH}"
    text = kpi_number(abs(value), unit)
    if value > 0:
        return f"+{text}"
    return f"{MINUS}{text}" if value < 0 else text


@register.simple_tag
def comparison_words(row, previous_label: str) -> str:
    """What a scorecard row's changes compare: “per week: 10 weeks so far vs 13 in Q3 2026” for a sum over time
    (docs/kpis.md, "Comparisons"), “vs Q3 2026” otherwise; empty without a previous period."""
    if row.previous_period is None:
        return ""
    if not row.per_period:
        return f"vs {previous_label}"
    noun = FREQUENCY_NOUNS[row.kpi.frequency]
    so_far = " so far" if row.in_progress else ""
    current = f"{row.current_periods} {noun}{'' if row.current_periods == 1 else 's'}{so_far}"
    return f"per {noun}: {current} vs {row.previous_periods} in {previous_label}"


@register.filter
def status_count(drilldown, status: str) -> int:
    """How many of a drill-down's products have ``status``."""
    return drilldown.status_count(status)


# (from, divide by, suffix): thousands are shortened from 10,000 on; 9,999 stays whole.
COMPACT_STEPS = ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k"))


@register.filter
def kpi_compact(value: float | None, unit: str = "") -> str:
    """A KPI value shortened for a dense table: “€18.4M”, “342.5k users”; small values as ``kpi_number``."""
    if value is None:
        return "—"
    for start, size, suffix in COMPACT_STEPS:
        if abs(value) >= start:
            scaled = value / size
            digits = 2 if abs(scaled) < 10 else 1
            text = f"{scaled:.{digits}f}".rstrip("0").rstrip(".") + suffix
            if unit in {"€", "$", "£"}:
                return f"{unit}{text}"
            return f"{text}%" if unit == "%" else (f"{text} {unit}" if unit else text)
    return kpi_number(value, unit)


def chance_words(probability: float | None) -> str:
    """“71 %”, “< 1 %”, “> 99 %”: a probability as a reader takes it (never “100 %” for a forecast); empty when
    unknown. ``forecast_display.chance`` is this."""
    if probability is None:
        return ""
    percent = probability * 100
    if percent < 1:
        return "< 1 %"
    if percent > 99:
        return "> 99 %"
    return f"{percent:.0f} %"


@register.simple_tag
def compact_range(low: float | None, high: float | None, value: float) -> str:
    """An interval at the scale of the value it surrounds and without its unit, for a dense table: 22.0 to 26.3
    (written with an en dash) beside €24.1M, 402 to 460 beside €431; empty without both ends."""
    if low is None or high is None:
        return ""
    for start, size, _ in COMPACT_STEPS:
        if abs(value) >= start:
            digits = 2 if abs(value / size) < 10 else 1
            bounds = [f"{bound / size:.{digits}f}" for bound in (low, high)]
            break
    else:
        bounds = [kpi_number(bound) for bound in (low, high)]
    return "\N{EN DASH}".join(bound.replace("-", MINUS, 1) for bound in bounds)


SYMBOL_UNITS = {"€", "$", "£", "%"}


@register.filter
def unit_symbol(unit: str) -> str:
    """The unit when it is a symbol that fits beside a number (€, %), else empty: word units such as
    “users” go in the row's heading of a dense table instead."""
    return unit if unit in SYMBOL_UNITS else ""


# --------------------------------------------------------------------------------------------------
# Dense tables: a scorecard has a cell per KPI and scope key (hundreds), so cells are written here rather than
# by template nodes (about ten times faster). The markup stays what the templates would write.
# --------------------------------------------------------------------------------------------------


@register.simple_tag
def scorecard_cells(cells, unit: str, previous_label: str, cell_url: str) -> str:
    """A scorecard row's cells (``<td>``s): value and change, status badge, target, the forecast of the period
    when there is one, each linked to its drill-down. One call per row: a template tag per cell costs more than
    the cell's markup."""
    # Safe: _scorecard_cell escapes every value it writes.
    return mark_safe("".join(_scorecard_cell(cell, unit, previous_label, cell_url) for cell in cells))  # noqa: S308


def _scorecard_cell(cell, unit: str, previous_label: str, cell_url: str) -> str:
    if cell is None:
        return EMPTY_CELL
    current = cell.current
    trend, verdict = cell.trend, cell.verdict
    if trend:
        change = signed_percent(cell.change)
        basis = f" per {cell.period_noun}" if cell.per_period else ""
        words = f"{trend_words(trend)}{basis} from {previous_label}{f', {verdict}' if verdict else ''}"
    else:
        change = words = ""
    target = current.target
    # Every piece is escaped: numbers and words are ours, but scope keys (in the URL) are user data. Each piece
    # is a str, so the standard library's escape (what Django's calls) without Django's lazy-string wrapper:
    # some 1,400 calls on a scorecard of owners.
    return CELL_HTML.format(
        status=current.status,
        url=escape_text(f"{cell_url}?{cell.query_string}"),
        value=escape_text(kpi_compact(current.value, unit)),
        trend=trend or "none",
        verdict=f" delta--{verdict}" if verdict else "",
        change=escape_text(change),
        change_words=escape_text(words),
        badge=status_badge(current.status),
        target=escape_text(f"target {kpi_compact(target, unit)}" if target is not None else "no target"),
        forecast=_forecast_line(cell.forecast, unit),
    )


EMPTY_CELL = format_html(
    '<td class="scorecard__cell scorecard__cell--empty"><span class="subtle">—{}</span></td>',
    format_html('<span class="visually-hidden"> {}</span>', "no data in this period"),
)
CELL_HTML = (
    '<td class="scorecard__cell scorecard__cell--{status}"><a class="scorecard__link" href="{url}">'
    '<span class="scorecard__line"><span class="scorecard__value">{value}</span>'
    '<span class="delta delta--{trend}{verdict}"><span class="delta__arrow" aria-hidden="true"></span>{change}'
    '<span class="visually-hidden"> {change_words}</span></span></span>'
    '{badge}<span class="scorecard__target">{target}</span>{forecast}</a></td>'
)


def _forecast_line(forecast, unit: str) -> str:
    """A cell's forecast of its period (docs/kpis.md, "Forecasts"): “forecast €24.1M (22.0 to 26.3 as a range)”,
    then “71 % chance on target”; empty without one, or when the period is complete (its value is measured, not
    forecast). A narrow column breaks between the value and its range, and in the words, never inside a number."""
    if forecast is None or forecast.value is None or not forecast.remaining:
        return ""
    span = compact_range(forecast.low_80, forecast.high_80, forecast.value)
    odds = chance_words(forecast.p_on_target)
    return FORECAST_HTML.format(
        value=escape_text(f"forecast {kpi_compact(forecast.value, unit)}"),
        range=FORECAST_RANGE_HTML.format(range=escape_text(f"({span})")) if span else "",
        chance=FORECAST_CHANCE_HTML.format(odds=escape_text(odds)) if odds else "",
    )


# Two short lines rather than one long one, so a column stays narrow; the separator is there for screen readers.
FORECAST_HTML = (
    '<span class="scorecard__forecast"><span class="scorecard__forecast-value"><span class="nowrap">{value}</span>'
    "{range}</span>{chance}</span>"
)
FORECAST_RANGE_HTML = ' <span class="nowrap">{range}</span>'
FORECAST_CHANCE_HTML = (
    '<span class="visually-hidden"> · </span><span class="scorecard__forecast-chance">'
    '<span class="nowrap">{odds}</span> chance on target</span>'
)


@register.simple_tag
def trend_points(points, unit: str) -> str:
    """A row of the trend chart's data table: per column the value, and the target in brackets."""
    # Safe: _trend_point escapes every value it writes.
    return mark_safe("".join(_trend_point(point, unit) for point in points))  # noqa: S308


def _trend_point(point, unit: str) -> str:
    if point is None:
        return '<td class="num nowrap">—</td>'
    target = kpi_number(point.target, unit) if point.target is not None else "no target"
    return f'<td class="num nowrap">{escape(kpi_number(point.value, unit))} <span class="subtle">({escape(target)})</span></td>'
