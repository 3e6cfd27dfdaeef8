"""Rows in, Plotly figure dicts out. Templates never build figures; pages draw them with static/js/charts.js."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape

from portfolio.choices import Grain, TimeAggregation
from portfolio.kpis.forecast.outlook import NativeOutlook
from portfolio.periods import quarter_label
from portfolio.validity import FREQUENCY_NOUNS
from spm.web.charts import SERIES_COLOURS, base_layout
from spm.web.figures import kpi_number

STATUS_COLOURS = {
    "on_target": "#15803d",
    "at_risk": "#b45309",
    "off_target": "#b91c1c",
    "no_target": "#64748b",
    "no_data": "#64748b",
}


def kpi_trend(
    *,
    name: str,
    unit: str,
    periods: Sequence[dt.date],
    values: Sequence[float],
    target: float | None,
    tolerance: float,
    direction: str,
    forecast=None,
    outlook: NativeOutlook | None = None,
    frequency: str = "",
    time_aggregation: str = "",
) -> dict:
    """One KPI over time with its target line and tolerance band (the at-risk zone) and, with a stored
    ``forecast`` and its ``outlook`` (``portfolio.kpis.forecast.outlook``), the forecast beyond the last point:
    its 80 % and 95 % ranges shaded, the forecast dashed, in the KPI's own periods up to the period's end."""
    x = [p.isoformat() for p in periods]
    traces: list[dict] = []
    target_end = x[-1] if x else None
    if outlook is not None and x:
        target_end = outlook.periods[-1].isoformat()
    if target is not None and x:
        edge = target * (1 - tolerance / 100) if direction == "higher" else target * (1 + tolerance / 100)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [x[0], target_end, target_end, x[0]],
                "y": [target, target, edge, edge],
                "fill": "toself",
                "fillcolor": "rgba(180, 83, 9, 0.12)",
                "line": {"width": 0},
                "hoverinfo": "skip",
                "name": f"tolerance {tolerance:g}%",
            }
        )
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [x[0], target_end],
                "y": [target, target],
                "line": {"color": "#b45309", "dash": "dash", "width": 1.5},
                "name": "target",
                "hovertemplate": f"target {target:,.4g}<extra></extra>",
            }
        )
    if outlook is not None and x and forecast is not None:
        traces += forecast_traces(
            forecast=forecast,
            outlook=outlook,
            last_x=x[-1],
            last_y=values[-1],
            unit=unit,
            frequency=frequency,
            time_aggregation=time_aggregation,
        )
    traces.append(
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": x,
            "y": list(values),
            "line": {"color": SERIES_COLOURS[0], "width": 2},
            "marker": {"size": 4},
            "name": name,
            "hovertemplate": f"%{{y:,.4g}} {unit}<extra>{name}</extra>",
        }
    )
    return {
        "data": traces,
        "layout": base_layout(
            name,
            yaxis={"title": {"text": unit}, "gridcolor": "#e2e8f0", "zeroline": False},
            xaxis={"type": "date", "gridcolor": "#e2e8f0"},
        ),
    }


FORECAST_COLOUR = SERIES_COLOURS[0]
FORECAST_FILLS = {"95": "rgba(79, 70, 229, 0.10)", "80": "rgba(79, 70, 229, 0.22)"}


def forecast_period_label(period: dt.date, grain: str) -> str:
    """“Q4 2026” or “Nov 2026”: the period a stored forecast is for."""
    return quarter_label(period) if grain == Grain.QUARTER else f"{period:%b %Y}"


def forecast_hover(
    *, forecast, outlook: NativeOutlook, unit: str, frequency: str, time_aggregation: str
) -> str:
    """What the forecast's markers say on hover: the period's forecast as the KPI card gives it, and what it
    means for the periods still to come (their average, or the value at the period's end)."""
    label = forecast_period_label(forecast.period, forecast.grain)
    noun = FREQUENCY_NOUNS.get(frequency, "period")

    def number(value: float) -> str:  # Plotly reads hover text as markup: the unit is text an admin typed
        return escape(kpi_number(value, unit))

    def ranges(low_80, high_80, low_95, high_95) -> str:  # one line each: a phone's hover box is narrow
        return (
            f"80 %: {number(low_80)}\N{EN DASH}{number(high_80)}<br>"
            f"95 %: {number(low_95)}\N{EN DASH}{number(high_95)}"
        )

    whole = ranges(forecast.low_80, forecast.high_80, forecast.low_95, forecast.high_95)
    if outlook.fan:
        return f"{label} forecast at its end: {number(forecast.value)}<br>{whole}"
    average = "average " if time_aggregation == TimeAggregation.AVG else ""
    each = f" a {noun}" if time_aggregation == TimeAggregation.SUM else ""
    count = len(outlook.periods)
    rest = ranges(outlook.low_80, outlook.high_80, outlook.low_95, outlook.high_95)
    return (
        f"{label} forecast: {average}{number(forecast.value)}<br>{whole}<br>"
        f"the {count} {noun}{'s' if count != 1 else ''} to come average "
        f"{number(outlook.level)}{each}<br>{rest}"
    )


def forecast_traces(
    *,
    forecast,
    outlook: NativeOutlook,
    last_x: str,
    last_y: float,
    unit: str,
    frequency: str,
    time_aggregation: str,
) -> list[dict]:
    """The forecast beyond the last point: the 95 % and 80 % ranges as shaded areas from the last point, the
    forecast as a dashed line, markers that carry the words (``forecast_hover``)."""
    future = [p.isoformat() for p in outlook.periods]
    steps = len(future)
    start = last_y if outlook.start is None else outlook.start

    def path(end: float) -> list[float]:
        if outlook.fan:  # from the latest value to the range at the period's end
            return [start + (end - start) * (step + 1) / steps for step in range(steps)]
        return [end] * steps

    def band(low: float, high: float, level: str) -> dict:
        return {
            "type": "scatter",
            "mode": "lines",
            "x": [last_x, *future, *reversed(future), last_x],
            "y": [start, *path(high), *reversed(path(low)), start],
            "fill": "toself",
            "fillcolor": FORECAST_FILLS[level],
            "line": {"width": 0},
            "hoverinfo": "skip",
            "name": f"forecast {level} % range",
        }

    levels = path(outlook.level)
    hover = forecast_hover(
        forecast=forecast, outlook=outlook, unit=unit, frequency=frequency, time_aggregation=time_aggregation
    )
    marked = future if not outlook.fan else future[-1:]
    return [
        band(outlook.low_95, outlook.high_95, "95"),
        band(outlook.low_80, outlook.high_80, "80"),
        {
            "type": "scatter",
            "mode": "lines",
            "x": [last_x, *future],
            "y": [start, *levels],
            "line": {"color": FORECAST_COLOUR, "dash": "dash", "width": 1.5},
            "hoverinfo": "skip",
            "name": "forecast",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "x": marked,
            "y": levels[-len(marked) :],
            "marker": {
                "color": "#ffffff",
                "size": [5] * (len(marked) - 1) + [8],
                "line": {"color": FORECAST_COLOUR, "width": 1.5},
            },
            "name": "forecast",
            # The same words at every marker: in the template once, not per point.
            "hovertemplate": hover.replace("%{", "% {") + "<extra></extra>",
        },
    ]


def scope_trend(
    *,
    unit: str,
    series: Sequence[tuple[str, Sequence[dt.date], Sequence[float], Sequence[float | None]]],
    quarterly: bool = False,
) -> dict:
    """One KPI over time, one line per scope key (label, periods, values, targets), with the target: one dashed
    line when every key has the same target in each period (averaged KPIs), else a dotted line per key in its
    colour. Missing targets leave gaps. No title: the page's heading names the KPI."""
    targets_by_period: dict[str, set[float | None]] = {}
    for _, periods, _, targets in series:
        for period, target in zip(periods, targets, strict=True):
            targets_by_period.setdefault(period.isoformat(), set()).add(target)
    shared = all(len(targets) == 1 for targets in targets_by_period.values())
    traces: list[dict] = []
    if shared and any(next(iter(t)) is not None for t in targets_by_period.values()):
        x = sorted(targets_by_period)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": x,
                "y": [next(iter(targets_by_period[period])) for period in x],
                "line": {"color": "#b45309", "dash": "dash", "width": 1.5},
                "name": "target",
                "hovertemplate": f"target %{{y:,.4g}} {unit}<extra></extra>",
            }
        )
    for index, (label, periods, values, targets) in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        x = [p.isoformat() for p in periods]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": x,
                "y": list(values),
                "line": {"color": colour, "width": 2},
                "marker": {"size": 5},
                "name": label,
                "legendgroup": label,
                "hovertemplate": f"%{{y:,.4g}} {unit}<extra>{label}</extra>",
            }
        )
        if not shared and any(t is not None for t in targets):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "x": x,
                    "y": list(targets),
                    "line": {"color": colour, "dash": "dot", "width": 1},
                    "opacity": 0.7,
                    "name": f"{label} target",
                    "legendgroup": label,
                    "showlegend": False,
                    "hovertemplate": f"target %{{y:,.4g}} {unit}<extra>{label}</extra>",
                }
            )
    return {
        "data": traces,
        "layout": base_layout(
            "",
            showlegend=True,
            legend={"orientation": "h", "x": 0, "y": -0.18, "font": {"size": 11}},
            margin={"l": 56, "r": 16, "t": 16, "b": 24},
            yaxis={"title": {"text": unit}, "gridcolor": "#e2e8f0", "zeroline": False, "automargin": True},
            xaxis={
                "type": "date",
                "gridcolor": "#e2e8f0",
                "automargin": True,
                # Quarters are keyed by their first day: tick on those days.
                **({"dtick": "M3", "tickformat": "%b %Y"} if quarterly else {}),
            },
            hovermode="x unified",
        ),
    }
