"""Forecasts where decisions are made (issue 16): the line that names its period on a product's KPI card and a
key result, a trend chart's forecast in words (its caption and its data table's rows). The words of a forecast
itself (``chance``, the explanation) are ``forecast_display``'s; docs/kpis.md, "Forecasts"."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

from portfolio.choices import TimeAggregation
from portfolio.templatetags.forecast_display import DASH, chance
from portfolio.templatetags.rollup_display import COMPACT_STEPS, MINUS, kpi_compact, period_label
from portfolio.validity import FREQUENCY_NOUNS
from spm.web.figures import kpi_number

register = template.Library()

OWN = object()  # the forecast's own chance on target


def value_range(low: float, high: float, value: float) -> str:
    """A range at the scale of the value it surrounds, its unit once (beside the value): 22.0M to 26.3M beside
    €24.1M, 50.7 to 52.26 beside 51.48% (written with an en dash)."""
    for start, size, suffix in COMPACT_STEPS:
        if abs(value) >= start:
            digits = 2 if abs(value / size) < 10 else 1
            bounds = [f"{bound / size:.{digits}f}{suffix}" for bound in (low, high)]
            break
    else:
        bounds = [kpi_number(bound) for bound in (low, high)]
    return DASH.join(bound.replace("-", MINUS, 1) for bound in bounds)


def period_forecast_line(forecast, unit: str = "", *, p_on_target=OWN, target_note: str = "") -> str:
    """The forecast in one line that names its period: “Q4 2026: forecast €24.1M (22.0M to 26.3M as a range) ·
    71 % chance on target”, “Q4 2026 complete: …”, “Q4 2026: no forecast. <reason>”; empty without a forecast row
    at all. ``p_on_target`` replaces the forecast's own chance (against a key result's target:
    ``portfolio.kpis.forecast.chance``; None: no target, no chance), ``target_note`` follows it."""
    if forecast is None:
        return ""
    label = period_label(forecast.period, forecast.grain)
    if forecast.value is None:
        return f"{label}: no forecast. {forecast.reason}" if forecast.reason else f"{label}: no forecast"
    if not forecast.remaining:
        return f"{label} complete: {kpi_compact(forecast.value, unit)}"
    text = (
        f"{label}: forecast {kpi_compact(forecast.value, unit)} "
        f"({value_range(forecast.low_80, forecast.high_80, forecast.value)})"
    )
    probability = forecast.p_on_target if p_on_target is OWN else p_on_target
    if probability is not None:
        text += f" · {chance(probability)} chance on target{target_note}"
    return text


@register.simple_tag
def forecast_period(forecast, unit: str = "") -> str:
    """``period_forecast_line`` with the forecast's own chance on target (a product's KPI card)."""
    return period_forecast_line(forecast, unit)


def _ranges(low_80, high_80, low_95, high_95, unit: str) -> str:
    return (
        f"80 %: {kpi_number(low_80, unit)}{DASH}{kpi_number(high_80, unit)} · "
        f"95 %: {kpi_number(low_95, unit)}{DASH}{kpi_number(high_95, unit)}"
    )


@register.simple_tag
def forecast_table_rows(forecast, outlook, kpi) -> str:
    """The forecast as rows of a trend chart's data table (its text equivalent): the period's forecast with both
    ranges, and what it means for the periods to come (``portfolio.kpis.forecast.outlook``); empty without."""
    if forecast is None or outlook is None:
        return ""
    unit = kpi.unit
    noun = FREQUENCY_NOUNS.get(kpi.frequency, "period")
    label = period_label(forecast.period, forecast.grain)
    whole = _ranges(forecast.low_80, forecast.high_80, forecast.low_95, forecast.high_95, unit)
    count = len(outlook.periods)
    if outlook.fan:
        rows = [(f"{label} forecast, at its end", f"{kpi_number(forecast.value, unit)} ({whole})")]
    else:
        each = f" a {noun}" if kpi.time_aggregation == TimeAggregation.SUM else ""
        rest = _ranges(outlook.low_80, outlook.high_80, outlook.low_95, outlook.high_95, unit)
        rows = [
            (f"{label} forecast", f"{kpi_number(forecast.value, unit)} ({whole})"),
            (
                f"{count} {noun}{'' if count == 1 else 's'} to come, average",
                f"{kpi_number(outlook.level, unit)}{each} ({rest})",
            ),
        ]
    markup = '<tr class="chart-data__forecast"><th scope="row">{}</th><td class="num">{}</td></tr>'
    return format_html("".join([markup] * len(rows)), *(text for pair in rows for text in pair))


@register.simple_tag
def forecast_chart_caption(forecast, outlook, kpi) -> str:
    """What a trend chart's forecast band is, in words (the chart has no legend); empty without one."""
    if forecast is None or outlook is None:
        return ""
    noun = FREQUENCY_NOUNS.get(kpi.frequency, "period")
    count = len(outlook.periods)
    label = period_label(forecast.period, forecast.grain)
    shape = (
        f"the value at the period's end, reached from the latest {noun}"
        if outlook.fan
        else f"the average of the {count} {noun}{'' if count == 1 else 's'} to come"
    )
    return (
        f"Beyond the last point: the {label} forecast (dashed) with its 80 % range (darker) and 95 % range "
        f"(lighter) shaded, as {shape}."
    )
