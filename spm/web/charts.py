"""Plotly figures as JSON, and the layout every chart starts from."""

from __future__ import annotations

import json

SERIES_COLOURS = ["#4f46e5", "#0891b2", "#c026d3", "#ea580c", "#16a34a", "#dc2626", "#0f766e", "#7c3aed"]
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#334155"}


def figure_json(figure: dict) -> str:
    """A figure as JSON text for a hidden element that static/js/charts.js reads. Not a json_script
    <script>: htmx drops script elements from swapped regions (allowScriptTags is off under our CSP)."""
    return json.dumps(figure, separators=(",", ":"))


def base_layout(title: str, **extra) -> dict:
    """The layout every chart starts from (title on the left, the page's font, transparent, one hover label
    per x, no legend); ``extra`` adds or replaces keys."""
    layout = {
        "title": {"text": title, "x": 0, "font": {"size": 14}},
        "font": FONT,
        "margin": {"l": 48, "r": 16, "t": 40, "b": 40},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "hovermode": "x unified",
        "showlegend": False,
    }
    layout.update(extra)
    return layout
