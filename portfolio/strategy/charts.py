"""Plotly figures of the strategy pages, built from rows (the basic bundle: bar, scatter, pie only).

Money reaches the browser as numbers rounded to whole currency units: a chart is a picture of Decimals that the
page also shows exactly in a table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from spm.web.charts import FONT, SERIES_COLOURS, base_layout

PLANNED_COLOUR = "#4f46e5"
CAPEX_COLOUR = "#818cf8"
ACTUAL_COLOUR = "#0891b2"
OVER_COLOUR = "#b91c1c"
LATE_COLOUR = "#b91c1c"


def _whole(amount: Decimal) -> int:
    return int(amount.quantize(Decimal(1)))


def allocation_donut(*, rows: Sequence, currency: str, title: str) -> dict:
    """Planned money per group as a donut (the basic bundle has no treemap); at most 10 slices, the rest as
    "Other"."""
    rows = [row for row in rows if row.planned > 0]
    # Money that serves no objective keeps its own slice: it is the answer to "are we funding what matters?".
    unaligned = [row for row in rows if row.key == "not aligned"]
    rows = [row for row in rows if row.key != "not aligned"]
    shown, rest = rows[:9] + unaligned, rows[9:]
    labels = [row.label for row in shown]
    values = [_whole(row.planned) for row in shown]
    if rest:
        labels.append(f"Other ({len(rest)})")
        values.append(_whole(sum((row.planned for row in rest), Decimal(0))))
    return {
        "data": [
            {
                "type": "pie",
                "hole": 0.5,
                "labels": labels,
                "values": values,
                "sort": False,
                "textinfo": "percent",
                "hovertemplate": f"%{{label}}<br>%{{value:,}} {currency}<br>%{{percent}}<extra></extra>",
                "marker": {"colors": [*SERIES_COLOURS, "#94a3b8", "#cbd5e1"]},
            }
        ],
        "layout": base_layout(
            title,
            showlegend=True,
            legend={"orientation": "v", "x": 1.02, "y": 0.5, "font": {"size": 11}},
            margin={"l": 8, "r": 8, "t": 40, "b": 8},
            hovermode="closest",
        ),
    }


def budget_vs_actual(*, rows: Sequence, currency: str) -> dict:
    """Planned capex and opex (stacked) beside actual spend, per group (quarters or scope keys)."""
    x = [row.label for row in rows]
    return {
        "data": [
            {
                "type": "bar",
                "name": "Planned capex",
                "x": x,
                "y": [_whole(row.capex) for row in rows],
                "offsetgroup": "planned",
                "marker": {"color": CAPEX_COLOUR},
                "hovertemplate": f"capex %{{y:,}} {currency}<extra>%{{x}}</extra>",
            },
            {
                "type": "bar",
                "name": "Planned opex",
                "x": x,
                "y": [_whole(row.opex) for row in rows],
                "offsetgroup": "planned",
                "base": [_whole(row.capex) for row in rows],
                "marker": {"color": PLANNED_COLOUR},
                "hovertemplate": f"opex %{{y:,}} {currency}<extra>%{{x}}</extra>",
            },
            {
                "type": "bar",
                "name": "Actual spend",
                "x": x,
                "y": [_whole(row.actual) for row in rows],
                "offsetgroup": "actual",
                "marker": {
                    "color": [OVER_COLOUR if row.status == "over_plan" else ACTUAL_COLOUR for row in rows]
                },
                "hovertemplate": f"actual %{{y:,}} {currency}<extra>%{{x}}</extra>",
            },
        ],
        "layout": base_layout(
            "",
            showlegend=True,
            barmode="group",
            legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            margin={"l": 64, "r": 16, "t": 56, "b": 48},
            yaxis={"title": {"text": currency}, "gridcolor": "#e2e8f0", "rangemode": "tozero"},
            xaxis={"automargin": True},
            hovermode="x unified",
        ),
    }


# Effort ticks a person reads on a log axis: Plotly's own ticks there label the minor ones "2 3 4 … 9 1 2 3".
EFFORT_TICKS = (0.1, 0.25, 0.5, 1, 2, 3, 6, 12, 24, 48, 96, 240)
BUBBLES_LABELLED = 10


def value_effort_bubbles(*, rows: Sequence[tuple], rank: str) -> dict:
    """One bubble per scored product, from (name, effort, RICE, WSJF, reach) rows in rank order: effort
    (person-months) across on a log axis with plain ticks, its score up, size by reach; the first
    ``BUBBLES_LABELLED`` carry their rank and name."""
    reach_max = max((row[4] for row in rows), default=1) or 1
    y_name = "RICE" if rank == "rice" else "WSJF"
    x = [float(row[1]) for row in rows]
    y = [float(row[2] if rank == "rice" else row[3]) for row in rows]
    low, high = (min(x), max(x)) if x else (1.0, 1.0)
    ticks = [tick for tick in EFFORT_TICKS if low / 2 <= tick <= high * 2] or [1]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "markers",
                "name": "products",
                "x": x,
                "y": y,
                "text": [row[0] for row in rows],
                "customdata": [[number, row[4]] for number, row in enumerate(rows, start=1)],
                "marker": {
                    "size": [8 + 30 * (row[4] / reach_max) ** 0.5 for row in rows],
                    "color": PLANNED_COLOUR,
                    "opacity": 0.55,
                    "line": {"color": "#312e81", "width": 1},
                },
                "hovertemplate": (
                    f"#%{{customdata[0]}} %{{text}}<br>{y_name} %{{y:,.2f}}<br>effort %{{x}} person-months"
                    "<br>reach %{customdata[1]:,}<extra></extra>"
                ),
            },
            {
                "type": "scatter",
                "mode": "text",
                "name": "labels",
                "x": x[:BUBBLES_LABELLED],
                "y": y[:BUBBLES_LABELLED],
                "text": [
                    f"#{number} {row[0]}" for number, row in enumerate(rows[:BUBBLES_LABELLED], start=1)
                ],
                "textposition": "top center",
                "textfont": {"size": 11, "color": "#1e293b"},
                "hoverinfo": "skip",
            },
        ],
        "layout": base_layout(
            "",
            showlegend=False,
            margin={"l": 64, "r": 16, "t": 24, "b": 48},
            xaxis={
                "title": {"text": "effort (person-months, log scale)"},
                "type": "log",
                "gridcolor": "#e2e8f0",
                "tickvals": ticks,
                "ticktext": [f"{tick:g}" for tick in ticks],
            },
            yaxis={"title": {"text": y_name}, "gridcolor": "#e2e8f0", "rangemode": "tozero"},
            hovermode="closest",
        ),
    }


def objective_funding(*, objectives: Sequence, currency: str) -> dict:
    """Live and scenario funding per objective, side by side as horizontal bars."""
    items = list(objectives)[:15]
    y = [item.objective.title for item in items]
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "name": "Live plan",
                "y": y,
                "x": [_whole(item.live) for item in items],
                "marker": {"color": "#94a3b8"},
                "hovertemplate": f"live %{{x:,}} {currency}<extra>%{{y}}</extra>",
            },
            {
                "type": "bar",
                "orientation": "h",
                "name": "Scenario",
                "y": y,
                "x": [_whole(item.scenario) for item in items],
                "marker": {"color": PLANNED_COLOUR},
                "hovertemplate": f"scenario %{{x:,}} {currency}<extra>%{{y}}</extra>",
            },
        ],
        "layout": base_layout(
            "",
            showlegend=True,
            barmode="group",
            legend={"orientation": "h", "x": 0, "y": 1.08},
            margin={"l": 16, "r": 16, "t": 24, "b": 40},
            yaxis={"autorange": "reversed", "automargin": True},
            xaxis={"title": {"text": currency}, "gridcolor": "#e2e8f0", "rangemode": "tozero"},
            hovermode="closest",
            height=max(260, 36 * len(items) + 80),
        ),
    }


def roadmap_timeline(*, rows: Sequence, today: dt.date) -> dict:
    """Roadmap items, releases and milestones on a time axis, one row per product: bars from start to due
    date, late ones in red, with today's line as a shape (the basic bundle has no timeline trace)."""
    traces: list[dict] = []
    groups = {"on time": [], "late": [], "done": []}
    for row in rows:
        groups["late" if row.late else "done" if row.done else "on time"].append(row)
    colours = {"on time": PLANNED_COLOUR, "late": LATE_COLOUR, "done": "#15803d"}
    for name, items in groups.items():
        if not items:
            continue
        traces.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": name,
                "y": [item.lane for item in items],
                "base": [item.start.isoformat() for item in items],
                "x": [max((item.end - item.start).days, 1) * 86_400_000 for item in items],
                "text": [item.title for item in items],
                "customdata": [[item.kind_label, item.end.isoformat(), item.status_label] for item in items],
                # Each bar carries its title where it fits (uniformtext hides it on bars too short to read).
                "textposition": "inside",
                "insidetextanchor": "start",
                "textfont": {"color": "#ffffff"},
                "marker": {"color": colours[name]},
                "hovertemplate": "%{text}<br>%{customdata[0]}, due %{customdata[1]}<br>%{customdata[2]}<extra></extra>",
            }
        )
    lanes = list(dict.fromkeys(row.lane for row in rows))
    return {
        "data": traces,
        "layout": {
            "font": FONT,
            "barmode": "overlay",
            "showlegend": True,
            "legend": {"orientation": "h", "x": 0, "y": 1.06},
            "margin": {"l": 16, "r": 16, "t": 32, "b": 40},
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "hovermode": "closest",
            "height": max(280, 28 * len(lanes) + 100),
            "uniformtext": {"mode": "hide", "minsize": 10},
            "xaxis": {"type": "date", "gridcolor": "#e2e8f0"},
            "yaxis": {"autorange": "reversed", "automargin": True, "type": "category"},
            "shapes": [
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": today.isoformat(),
                    "x1": today.isoformat(),
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": "#b45309", "width": 2, "dash": "dash"},
                }
            ],
            "annotations": [
                {
                    "x": today.isoformat(),
                    "y": 1,
                    "xref": "x",
                    "yref": "paper",
                    "text": "today",
                    "showarrow": False,
                    "yanchor": "bottom",
                    "font": {"color": "#b45309"},
                }
            ],
        },
    }
