"""Lifecycle analytics rows in, Plotly figure dicts out (drawn by static/js/charts.js; the basic bundle has
scatter and bar only, so the funnel is bars and the cumulative flow is stacked scatter areas)."""

from __future__ import annotations

import json

from lifecycle.analytics import Conversion, CumulativeFlow
from products.models import Stage

#: The stage colours of static/css/spm.css (--stage-*).
STAGE_COLOURS = {
    "problem": "#64748b",
    "opportunity": "#0284c7",
    "research": "#0e9384",
    "mvp": "#4f46e5",
    "feedback": "#7c3aed",
    "strategy": "#c026d3",
    "execution": "#1d4ed8",
}
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#334155"}


def figure_json(figure: dict) -> str:
    """JSON text for a hidden element (htmx drops <script> elements from swapped regions)."""
    return json.dumps(figure, separators=(",", ":"))


def _layout(title: str, **extra) -> dict:
    layout = {
        "title": {"text": title, "x": 0, "font": {"size": 14}},
        "font": FONT,
        "margin": {"l": 90, "r": 16, "t": 40, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
    }
    layout.update(extra)
    return layout


def funnel(counts: dict[str, int], conversion: list[Conversion]) -> dict:
    """Products per stage now as horizontal bars, problem on top, with each stage's window conversion."""
    stages = list(Stage)
    rates = {row.stage.value: row.rate for row in conversion}
    notes = [
        f"{rates[stage.value]:.0%} went on in the window"
        if rates.get(stage.value) is not None
        else "no entries"
        for stage in stages
    ]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [stage.label for stage in stages],
                "x": [counts.get(stage.value, 0) for stage in stages],
                "text": [str(counts.get(stage.value, 0)) for stage in stages],
                "textposition": "auto",
                "customdata": notes,
                "hovertemplate": "%{y}: %{x} products<br>%{customdata}<extra></extra>",
                "marker": {"color": [STAGE_COLOURS[stage.value] for stage in stages]},
            }
        ],
        "layout": _layout(
            "Products per stage now",
            yaxis={"autorange": "reversed", "automargin": True},
            xaxis={"title": {"text": "products"}, "rangemode": "tozero"},
            showlegend=False,
        ),
    }


def cumulative_flow(flow: CumulativeFlow) -> dict:
    """Products in each stage over time, stacked (``stackgroup``), execution at the bottom."""
    days = [day.isoformat() for day in flow.days]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines",
                "name": stage.label,
                "x": days,
                "y": flow.stages[stage.value],
                "stackgroup": "stages",
                "line": {"width": 0.5, "color": STAGE_COLOURS[stage.value]},
                "hovertemplate": f"{stage.label}: %{{y}}<extra></extra>",
            }
            for stage in reversed(list(Stage))
        ],
        "layout": _layout(
            "Cumulative flow: products in each stage",
            hovermode="x unified",
            showlegend=True,
            legend={"orientation": "h", "y": -0.2, "traceorder": "reversed"},
            xaxis={"type": "date"},
            yaxis={"title": {"text": "products"}, "rangemode": "tozero"},
            margin={"l": 56, "r": 16, "t": 40, "b": 40},
        ),
    }
