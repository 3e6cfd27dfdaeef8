"""The cumulative flow: how many products stood in each stage, day by day or week by week."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    F,
    When,
)
from django.db.models.functions import Substr, TruncDate
from django.utils import timezone

from lifecycle.analytics.filters import AnalyticsFilters
from products.choices import Stage

#: Windows up to this many days are charted day by day, longer ones week by week.
DAILY_FLOW_MAX_DAYS = 120


@dataclass(frozen=True)
class CumulativeFlow:
    """Products in each stage at the end of each day (or week) of the window."""

    days: list[dt.date]
    stages: dict[str, list[int]]


def cumulative_flow(filters: AnalyticsFilters) -> CumulativeFlow:
    """From the transitions: in stage X at day d = arrivals in X up to d minus departures from X up to d.

    One grouped query: the moves before the window by (from, to) alone, which give the level at its start; the
    moves inside it by (from, to, local date), added up day by day (three queries and a Python conversion of every
    move's time cost twice as much on PostgreSQL). Products that never had a recorded
    transition are not in it (every product gets one when it is created through the admin, the demo seed or an
    import)."""
    # PostgreSQL groups the moves by their local date. SQLite would call a Python function per row for it: it
    # stores times as UTC text, so in UTC the date is the text's first ten characters; in another zone each
    # move inside the window comes back with its time, converted here.
    if connection.vendor == "postgresql":
        in_window, kind = TruncDate("at"), DateField()
    elif connection.vendor == "sqlite" and timezone.get_current_timezone_name() == "UTC":
        in_window, kind = Substr("at", 1, 10), CharField()
    else:
        in_window, kind = F("at"), DateTimeField()
    moves = (
        filters.transitions()
        .filter(at__lt=filters.end_at)
        .order_by()
        .annotate(
            day=Case(
                When(at__gte=filters.start_at, then=in_window),
                default=None,
                output_field=kind,
            )
        )
        .values_list("from_stage", "to_stage", "day")
        .annotate(n=Count("pk"))
    )
    zone = timezone.get_current_timezone()  # once: ``localtime()`` looks it up again for every row
    level = dict.fromkeys(Stage.values, 0)
    changes: dict[dt.date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for from_stage, to_stage, day, count in moves:
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        elif isinstance(day, dt.datetime):
            day = day.astimezone(zone).date()
        into = level if day is None else changes[day]
        into[to_stage] += count
        if from_stage:
            into[from_stage] -= count
    step = 1 if (filters.end - filters.start).days <= DAILY_FLOW_MAX_DAYS else 7
    points = [
        filters.start + dt.timedelta(days=offset)
        for offset in range(0, (filters.end - filters.start).days + 1, step)
    ]
    if points[-1] != filters.end:
        points.append(filters.end)
    series: dict[str, list[int]] = {stage: [] for stage in Stage.values}
    pending = sorted(changes.items())
    index = 0
    for point in points:
        while index < len(pending) and pending[index][0] <= point:
            for stage, delta in pending[index][1].items():
                level[stage] += delta
            index += 1
        for stage in Stage.values:
            series[stage].append(level[stage])
    return CumulativeFlow(days=points, stages=series)
