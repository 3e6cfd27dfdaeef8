"""Stays in a stage over an analytics window: conversion and time in stage."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import (
    F,
    Q,
    QuerySet,
    Window,
)
from django.db.models.functions import Lead

from lifecycle.analytics.filters import AnalyticsFilters
from products.choices import Stage


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
    threshold: int | None  # None: execution, where products stay


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
            threshold=thresholds.get(stage.value),  # None: execution, where products stay
        )
        for stage in Stage
    ]
