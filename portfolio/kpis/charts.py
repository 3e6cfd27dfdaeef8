"""Rows in, Plotly figure dicts out. Templates never build figures; pages draw them with static/js/charts.js."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from spm.web.charts import SERIES_COLOURS, base_layout

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
) -> dict:
    """One KPI over time with its target line and tolerance band (the at-risk zone)."""
    x = [p.isoformat() for p in periods]
    traces: list[dict] = []
    if target is not None and x:
        edge = target * (1 - tolerance / 100) if direction == "higher" else target * (1 + tolerance / 100)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [x[0], x[-1], x[-1], x[0]],
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
                "x": [x[0], x[-1]],
                "y": [target, target],
                "line": {"color": "#b45309", "dash": "dash", "width": 1.5},
                "name": "target",
                "hovertemplate": f"target {target:,.4g}<extra></extra>",
            }
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
