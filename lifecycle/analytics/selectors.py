"""Lifecycle analytics: how products flow through the stages (docs/lifecycle.md, "Analytics").

Every number comes from a fixed number of SQL queries whatever the number of products or transitions:

- **funnel**: products in each stage now (one grouped count, which counts the stuck ones too);
- **conversion**: of the products that entered stage X during the window, how many went on to a later stage
  by the end of the window (from the stays below);
- **time in stage**: median and 90th percentile of the days a stay lasted, for stays that ended in the window
  (one query pairing each product's transitions with ``LEAD``, which also gives the conversion; PostgreSQL sums
  it up by stage with ``percentile_cont``, elsewhere the flags and durations come back and the percentiles are
  taken in Python, as SQLite has no percentile function);
- **stuck**: products in a stage for longer than its threshold (``StageThreshold``, defaults below), counted
  per stage (with the funnel) and the longest-waiting listed (one more query);
- **overrides**: forward moves made past unmet gate criteria in the window (the latest ones, each with the
  count by a window function: one query);
- **cumulative flow**: products in each stage at each day or week of the window: the level at its start from
  arrivals and departures grouped by stage, then the window's moves added day by day (three queries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    Count,
    Q,
    Window,
)
from django.utils import timezone

from lifecycle.analytics.filters import AnalyticsFilters
from lifecycle.analytics.flow import CumulativeFlow, cumulative_flow
from lifecycle.analytics.stays import Conversion, StageTime, stage_conversion, stage_stays, time_in_stage
from lifecycle.models import StageThreshold, StageTransition
from products.choices import Stage

#: Days in a stage after which a product counts as stuck, for a stage without a ``StageThreshold`` row. Stuck
#: means *longer* than this many days. Execution has none: it is where a product is meant to stay.
DEFAULT_STUCK_DAYS = {
    Stage.PROBLEM: 60,
    Stage.OPPORTUNITY: 45,
    Stage.RESEARCH: 60,
    Stage.MVP: 120,
    Stage.FEEDBACK: 90,
    Stage.STRATEGY: 60,
}
#: The stages a product can be stuck in.
STUCK_STAGES = tuple(DEFAULT_STUCK_DAYS)
STUCK_LISTED = 25
OVERRIDES_LISTED = 25


def stuck_thresholds() -> dict[str, int]:
    """Days after which a product is stuck, by stage: the admin's ``StageThreshold`` rows over the defaults.
    Execution has no threshold (``StageThreshold`` refuses one)."""
    thresholds = {stage.value: days for stage, days in DEFAULT_STUCK_DAYS.items()}
    thresholds.update(
        StageThreshold.objects.filter(stage__in=STUCK_STAGES).values_list("stage", "stuck_after_days")
    )
    return thresholds


def stage_funnel(filters: AnalyticsFilters) -> dict[str, int]:
    """Products in each stage now."""
    counts = dict.fromkeys(Stage.values, 0)
    counts.update(
        filters.products().order_by().values_list("stage").annotate(n=Count("pk")).values_list("stage", "n")
    )
    return counts


@dataclass(frozen=True)
class StuckProduct:
    slug: str
    name: str
    stage: Stage
    owner: str
    days: int
    threshold: int


@dataclass(frozen=True)
class Stuck:
    counts: dict[str, int]
    products: list[StuckProduct]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def stuck_filter(thresholds: dict[str, int], now: dt.datetime) -> Q:
    """Longer than the threshold: at 45 days (``days_in_stage``, whole days) of a 45-day threshold a product is
    not stuck yet; from 46 it is."""
    stuck = Q(pk__in=[])
    for stage, days in thresholds.items():
        stuck |= Q(stage=stage, stage_entered_at__lte=now - dt.timedelta(days=days + 1))
    return stuck


def funnel_and_stuck_counts(
    filters: AnalyticsFilters, thresholds: dict[str, int], *, now: dt.datetime | None = None
) -> tuple[dict[str, int], dict[str, int]]:
    """Products in each stage now, and how many of them are stuck: one grouped query."""
    now = now or timezone.now()
    funnel = dict.fromkeys(Stage.values, 0)
    stuck = dict.fromkeys(Stage.values, 0)
    rows = (
        filters.products()
        .order_by()
        .values_list("stage")
        .annotate(n=Count("pk"), stuck=Count("pk", filter=stuck_filter(thresholds, now)))
        .values_list("stage", "n", "stuck")
    )
    for stage, count, stuck_count in rows:
        funnel[stage], stuck[stage] = count, stuck_count
    return funnel, stuck


def stuck_products(
    filters: AnalyticsFilters,
    thresholds: dict[str, int],
    *,
    now: dt.datetime | None = None,
    counts: dict[str, int] | None = None,
) -> Stuck:
    """Products in their stage for longer than the stage's threshold, now: counts per stage (``counts``: as
    ``funnel_and_stuck_counts`` gave them, else counted here) and the longest-waiting ``STUCK_LISTED``."""
    now = now or timezone.now()
    products = filters.products().filter(stuck_filter(thresholds, now))
    if counts is None:
        counts = dict.fromkeys(Stage.values, 0)
        counts.update(
            products.order_by().values_list("stage").annotate(n=Count("pk")).values_list("stage", "n")
        )
    listed = products.order_by("stage_entered_at", "pk").values(
        "slug",
        "name",
        "stage",
        "stage_entered_at",
        "owner__username",
        "owner__first_name",
        "owner__last_name",
    )[:STUCK_LISTED]
    return Stuck(
        counts=counts,
        products=[
            StuckProduct(
                slug=row["slug"],
                name=row["name"],
                stage=Stage(row["stage"]),
                owner=f"{row['owner__first_name']} {row['owner__last_name']}".strip()
                or row["owner__username"],
                days=(now - row["stage_entered_at"]).days,
                threshold=thresholds.get(row["stage"]),
            )
            for row in listed
        ],
    )


@dataclass(frozen=True)
class Overrides:
    count: int
    latest: list[StageTransition] = field(default_factory=list)


def gate_overrides(filters: AnalyticsFilters) -> Overrides:
    """Forward moves past unmet gate criteria made in the window: how many, and the latest with their reasons."""
    overridden = filters.transitions().filter(
        gate_overridden=True, at__gte=filters.start_at, at__lt=filters.end_at
    )
    # The count rides along with the latest rows (a window over all of them, taken before the limit).
    latest = list(
        overridden.select_related("product", "by")
        .annotate(overridden_in_window=Window(Count("pk")))
        .order_by("-at", "-pk")[:OVERRIDES_LISTED]
    )
    count = latest[0].overridden_in_window if latest else 0
    return Overrides(count=count, latest=latest)


@dataclass(frozen=True)
class LifecycleAnalytics:
    filters: AnalyticsFilters
    funnel: dict[str, int]
    conversion: list[Conversion]
    times: list[StageTime]
    stuck: Stuck
    overrides: Overrides
    flow: CumulativeFlow
    thresholds: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.funnel.values())


def lifecycle_analytics(filters: AnalyticsFilters) -> LifecycleAnalytics:
    """Everything the analytics page shows, for the products ``filters`` select (about a dozen queries)."""
    thresholds = stuck_thresholds()
    stays = stage_stays(filters)  # read once for both
    now = timezone.now()
    funnel, stuck_counts = funnel_and_stuck_counts(filters, thresholds, now=now)
    return LifecycleAnalytics(
        filters=filters,
        funnel=funnel,
        conversion=stage_conversion(filters, stays),
        times=time_in_stage(filters, thresholds, stays),
        stuck=stuck_products(filters, thresholds, now=now, counts=stuck_counts),
        overrides=gate_overrides(filters),
        flow=cumulative_flow(filters),
        thresholds=thresholds,
    )
