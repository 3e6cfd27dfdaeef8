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
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    DateTimeField,
    F,
    Q,
    QuerySet,
    When,
    Window,
)
from django.db.models.functions import Lead, Substr, TruncDate
from django.utils import timezone

from lifecycle.models import StageThreshold, StageTransition
from products.models import Product, Stage

#: Days in a stage after which a product counts as stuck, for a stage without a ``StageThreshold`` row.
DEFAULT_STUCK_DAYS = {
    Stage.PROBLEM: 60,
    Stage.OPPORTUNITY: 45,
    Stage.RESEARCH: 60,
    Stage.MVP: 120,
    Stage.FEEDBACK: 90,
    Stage.STRATEGY: 60,
    Stage.EXECUTION: 365,
}
STUCK_LISTED = 25
OVERRIDES_LISTED = 25
#: Windows up to this many days are charted day by day, longer ones week by week.
DAILY_FLOW_MAX_DAYS = 120


@dataclass(frozen=True)
class AnalyticsFilters:
    start: dt.date
    end: dt.date
    portfolio: str = ""
    market: str = ""
    focus: str = ""

    def products(self) -> QuerySet[Product]:
        products = Product.objects.all()
        if self.portfolio:
            products = products.filter(portfolio__slug=self.portfolio)
        if self.market:
            products = products.filter(market=self.market)
        if self.focus:
            products = products.filter(focus=self.focus)
        return products

    def transitions(self) -> QuerySet[StageTransition]:
        transitions = StageTransition.objects.all()
        if self.portfolio:
            transitions = transitions.filter(product__portfolio__slug=self.portfolio)
        if self.market:
            transitions = transitions.filter(product__market=self.market)
        if self.focus:
            transitions = transitions.filter(product__focus=self.focus)
        return transitions

    @property
    def start_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def end_at(self) -> dt.datetime:
        """The end of the window's last day (exclusive bound)."""
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))


def stuck_thresholds() -> dict[str, int]:
    """Days after which a product is stuck, by stage: the admin's ``StageThreshold`` rows over the defaults."""
    thresholds = {stage.value: days for stage, days in DEFAULT_STUCK_DAYS.items()}
    thresholds.update(StageThreshold.objects.values_list("stage", "stuck_after_days"))
    return thresholds


def stage_funnel(filters: AnalyticsFilters) -> dict[str, int]:
    """Products in each stage now."""
    counts = dict.fromkeys(Stage.values, 0)
    counts.update(
        filters.products().order_by().values_list("stage").annotate(n=Count("pk")).values_list("stage", "n")
    )
    return counts


@dataclass(frozen=True)
class Conversion:
    stage: Stage
    entered: int
    went_on: int

    @property
    def next_stage(self) -> Stage:
        return list(Stage)[self.stage.position + 1]

    @property
    def rate(self) -> float | None:
        return self.went_on / self.entered if self.entered else None


@dataclass(frozen=True)
class Stay:
    """A stay in ``stage`` of a product that began or ended in the window, as the database judged it against
    the window (a transition with the product's next one, by ``LEAD``): ``entered`` when it began in the window,
    ``went_on`` when the product left it for a later stage before the window's end, and ``days`` it lasted when
    it ended in the window (else None)."""

    product_id: int
    stage: str
    entered: bool
    went_on: bool
    days: float | None


#: The days between two times of a stay, by database (SQLite stores times as text; ``julianday`` reads it).
STAY_DAYS_SQL = {
    "postgresql": 'CAST(EXTRACT(EPOCH FROM ("left_at" - "at")) AS double precision) / 86400.0',
    "sqlite": 'julianday("left_at") - julianday("at")',
}


def _with_next(filters: AnalyticsFilters, transitions: QuerySet) -> QuerySet:
    """The transitions that began or ended a stay in the window, each with the product's next one."""
    return (
        transitions.annotate(
            left_at=Window(Lead("at"), partition_by=[F("product_id")], order_by=["at", "pk"]),
            next_stage=Window(Lead("to_stage"), partition_by=[F("product_id")], order_by=["at", "pk"]),
        )
        .filter(
            Q(left_at__gte=filters.start_at, left_at__lt=filters.end_at)
            | Q(at__gte=filters.start_at, at__lt=filters.end_at)
        )
        .values_list("product_id", "to_stage", "at", "left_at", "next_stage")
    )


def window_stays(filters: AnalyticsFilters) -> list[Stay]:
    """The stays that began or ended in the window, in one query: what conversion and time in stage read.

    The flags and the durations are computed in SQL, so that only numbers come back (reading two times per
    stay cost most of the analytics' time on PostgreSQL); a database without a duration expression here gets
    the times and Python compares them."""
    stays = _with_next(filters, filters.transitions().order_by())
    flagged = _flagged_stays_sql(filters, stays)
    if flagged is None:
        return [_stay_in_python(filters, *row) for row in stays]
    with connection.cursor() as cursor:
        cursor.execute(*flagged)
        return [
            Stay(product_id, stage, bool(entered), bool(went_on), days)
            for product_id, stage, entered, went_on, days in cursor.fetchall()
        ]


def _flagged_stays_sql(filters: AnalyticsFilters, stays: QuerySet) -> tuple[str, list] | None:
    """The SQL and parameters of ``window_stays``' flags and durations over the ORM's ``stays`` (None for a
    database without a duration expression here)."""
    days_sql = STAY_DAYS_SQL.get(connection.vendor)
    if days_sql is None:
        return None
    inner, inner_params = stays.query.sql_with_params()
    start = connection.ops.adapt_datetimefield_value(filters.start_at)
    end = connection.ops.adapt_datetimefield_value(filters.end_at)
    positions = " ".join("WHEN %s THEN %s" for _ in Stage)
    position_params = [value for stage in Stage for value in (stage.value, stage.position)]
    columns = (
        '"product_id", "to_stage", '
        'CASE WHEN "at" >= %s AND "at" < %s THEN 1 ELSE 0 END AS "entered", '
        f'CASE WHEN "left_at" < %s AND (CASE "next_stage" {positions} END) > (CASE "to_stage" {positions} END) '
        'THEN 1 ELSE 0 END AS "went_on", '
        f'CASE WHEN "left_at" >= %s AND "left_at" < %s THEN {days_sql} END AS "days"'
    )
    sql = f'SELECT {columns} FROM ({inner}) "stays"'  # noqa: S608 (ours and the ORM's SQL; values are parameters)
    return sql, [start, end, end, *position_params, *position_params, start, end, *inner_params]


@dataclass(frozen=True)
class StageStays:
    """The window's stays in one stage: the products that entered it, those of them that went on to a later
    stage, and the days of the stays that ended (their count, median and 90th percentile)."""

    entered: int = 0
    went_on: int = 0
    ended: int = 0
    median_days: float | None = None
    p90_days: float | None = None


def stage_stays(filters: AnalyticsFilters) -> dict[str, StageStays]:
    """``window_stays`` summed up by stage. PostgreSQL sums them in the query (``percentile_cont`` takes the
    same percentiles as ``percentile``), so seven rows come back; elsewhere Python sums the stays."""
    if connection.vendor != "postgresql":
        return summarize_stays(window_stays(filters))
    stays = filters.transitions().order_by()
    flagged = _flagged_stays_sql(filters, _with_next(filters, stays))
    summed = (
        '"to_stage", COUNT(DISTINCT CASE WHEN "entered" = 1 THEN "product_id" END), '
        'COUNT(DISTINCT CASE WHEN "entered" = 1 AND "went_on" = 1 THEN "product_id" END), COUNT("days"), '
        'percentile_cont(0.5) WITHIN GROUP (ORDER BY "days"), percentile_cont(0.9) WITHIN GROUP (ORDER BY "days")'
    )
    sql = f'SELECT {summed} FROM ({flagged[0]}) "flagged" GROUP BY "to_stage"'  # noqa: S608 (as above)
    with connection.cursor() as cursor:
        cursor.execute(sql, flagged[1])
        return {stage: StageStays(*numbers) for stage, *numbers in cursor.fetchall()}


def summarize_stays(stays: list[Stay]) -> dict[str, StageStays]:
    entered: dict[str, set[int]] = defaultdict(set)
    went_on: dict[str, set[int]] = defaultdict(set)
    days: dict[str, list[float]] = defaultdict(list)
    for stay in stays:
        if stay.entered:
            entered[stay.stage].add(stay.product_id)
            if stay.went_on:
                went_on[stay.stage].add(stay.product_id)
        if stay.days is not None:
            days[stay.stage].append(stay.days)
    return {
        stage: StageStays(
            entered=len(entered[stage]),
            went_on=len(went_on[stage]),
            ended=len(days[stage]),
            median_days=percentile(days[stage], 0.5),
            p90_days=percentile(days[stage], 0.9),
        )
        for stage in Stage.values
    }


def _stay_in_python(
    filters: AnalyticsFilters,
    product_id: int,
    stage: str,
    at: dt.datetime,
    left_at: dt.datetime | None,
    next_stage: str | None,
) -> Stay:
    start, end = filters.start_at, filters.end_at
    position = {value.value: value.position for value in Stage}
    left = left_at is not None
    return Stay(
        product_id=product_id,
        stage=stage,
        entered=start <= at < end,
        went_on=left and left_at < end and position[next_stage] > position[stage],
        days=(left_at - at).total_seconds() / 86400 if left and start <= left_at < end else None,
    )


def stage_conversion(
    filters: AnalyticsFilters, stays: dict[str, StageStays] | None = None
) -> list[Conversion]:
    """For each stage but the last: the products that entered it in the window, and how many of them then
    moved forward out of it (to any later stage) by the end of the window. A product counts once per stage.

    A product's transitions chain (each leaves the stage the one before entered), so a product moved forward
    out of X after entering it in the window exactly when one of its entries into X in the window is followed,
    before the window's end, by a move to a later stage. ``stays``: ``stage_stays``, read once for this and
    the time in stage."""
    if stays is None:
        stays = stage_stays(filters)
    none = StageStays()
    return [
        Conversion(
            stage=stage,
            entered=stays.get(stage.value, none).entered,
            went_on=stays.get(stage.value, none).went_on,
        )
        for stage in list(Stage)[:-1]
    ]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile of ``values`` by linear interpolation between closest ranks (0.5: the
    median); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * fraction
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class StageTime:
    stage: Stage
    stays: int
    median_days: float | None
    p90_days: float | None
    threshold: int


def time_in_stage(
    filters: AnalyticsFilters, thresholds: dict[str, int], stays: dict[str, StageStays] | None = None
) -> list[StageTime]:
    """Median and 90th percentile of the days a product stayed in each stage, over the stays that ended (the
    product moved on or back) within the window."""
    if stays is None:
        stays = stage_stays(filters)
    none = StageStays()
    return [
        StageTime(
            stage=stage,
            stays=stays.get(stage.value, none).ended,
            median_days=stays.get(stage.value, none).median_days,
            p90_days=stays.get(stage.value, none).p90_days,
            threshold=thresholds[stage.value],
        )
        for stage in Stage
    ]


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


def _stuck(thresholds: dict[str, int], now: dt.datetime) -> Q:
    stuck = Q()
    for stage, days in thresholds.items():
        stuck |= Q(stage=stage, stage_entered_at__lt=now - dt.timedelta(days=days))
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
        .annotate(n=Count("pk"), stuck=Count("pk", filter=_stuck(thresholds, now)))
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
    products = filters.products().filter(_stuck(thresholds, now))
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
                threshold=thresholds[row["stage"]],
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
