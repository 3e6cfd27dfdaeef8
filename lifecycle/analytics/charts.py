"""Lifecycle analytics rows in, Plotly figure dicts out (drawn by static/js/charts.js; the basic bundle has
scatter and bar only, so the funnel is bars and the cumulative flow is stacked scatter areas)."""

from __future__ import annotations

from lifecycle.analytics.flow import CumulativeFlow
from lifecycle.analytics.stays import Conversion
from products.choices import Stage
from spm.web.charts import base_layout

#: Room on the left for the stage names.
MARGIN = {"l": 90, "r": 16, "t": 40, "b": 40}
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

#: The cumulative flow's fills: seven steps of viridis, dark (execution, at the bottom) to light (problem, on
#: top). Neighbouring bands differ in lightness, so they are told apart in greyscale and by colour-blind readers
#: too; the stage colours above are too alike in a stack (MVP, feedback and execution are all blue-violet).
FLOW_COLOURS = {
    "execution": "#440154",
    "strategy": "#443983",
    "feedback": "#31688e",
    "mvp": "#21918c",
    "research": "#35b779",
    "opportunity": "#90d743",
    "problem": "#fde725",
}


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
        "layout": base_layout(
            "Products per stage now",
            margin=MARGIN,
            hovermode="closest",
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
                "line": {"width": 0.5, "color": "#ffffff"},
                "fillcolor": FLOW_COLOURS[stage.value],
                "hovertemplate": f"{stage.label}: %{{y}}<extra></extra>",
            }
            for stage in reversed(list(Stage))
        ],
        "layout": base_layout(
            "Cumulative flow: products in each stage",
            hovermode="x unified",
            showlegend=True,
            legend={"orientation": "h", "y": -0.2, "traceorder": "reversed"},
            xaxis={"type": "date"},
            yaxis={"title": {"text": "products"}, "rangemode": "tozero"},
            margin={"l": 56, "r": 16, "t": 40, "b": 40},
        ),
    }
