"""The dashboard's stage funnel as a Plotly figure."""

from __future__ import annotations

from products.choices import STAGE_ACTIVITIES, Stage
from spm.web.charts import base_layout


def stage_funnel(counts: dict[str, int]) -> dict:
    """Products per stage as horizontal bars, problem at the top (the basic bundle has no funnel trace)."""
    stages = list(Stage)
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": [stage.label for stage in stages],
                "x": [counts.get(stage.value, 0) for stage in stages],
                "text": [str(counts.get(stage.value, 0)) for stage in stages],
                "textposition": "auto",
                "customdata": [STAGE_ACTIVITIES[stage.value] for stage in stages],
                "hovertemplate": "%{y}: %{x} products<br>%{customdata}<extra></extra>",
                "marker": {"color": "#4f46e5"},
            }
        ],
        "layout": base_layout(
            "Products per stage",
            yaxis={"autorange": "reversed", "automargin": True},
            xaxis={"title": {"text": "products"}, "rangemode": "tozero", "gridcolor": "#e2e8f0"},
            hovermode="closest",
            bargap=0.25,
        ),
    }
