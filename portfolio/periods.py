"""Period arithmetic: a date's period for a KPI frequency, a grain's bucket, quarters and their labels."""

from __future__ import annotations

import datetime as dt

from portfolio.choices import Frequency, Grain


def grain_bucket(period: dt.date, grain: str) -> dt.date:
    """The first day of the bucket (native period, month, quarter) that contains ``period``."""
    if grain == Grain.MONTH:
        return period.replace(day=1)
    if grain == Grain.QUARTER:
        return quarter_start(period)
    return period


def bucket_end(start: dt.date, grain: str) -> dt.date:
    """The first day after the bucket that starts on ``start``."""
    if grain == Grain.NATIVE:
        return start + dt.timedelta(days=1)
    month = start.month - 1 + (1 if grain == Grain.MONTH else 3)
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def period_end(period: dt.date, grain: str, frequency: str) -> dt.date:
    """The first day after a rollup's period: its month or quarter, or (native) the KPI's own period."""
    if grain != Grain.NATIVE:
        return bucket_end(period, grain)
    if frequency == Frequency.MONTHLY:
        return bucket_end(period, Grain.MONTH)
    if frequency == Frequency.QUARTERLY:
        return bucket_end(period, Grain.QUARTER)
    return period + dt.timedelta(weeks=1)


def native_periods_in(bucket: dt.date, grain: str, frequency: str, *, until: dt.date | None = None) -> int:
    """How many of a KPI's own periods belong to the bucket that starts on ``bucket`` (a period belongs to the
    bucket that holds its first day): 4 or 5 weeks in a month, 13 or 14 in a quarter, 3 months in a quarter. With
    ``until``, only those that have begun by then: a bucket to date. Native grain: 1."""
    if grain == Grain.NATIVE:
        return 1
    end = bucket_end(bucket, grain)
    if until is not None:
        end = min(end, until + dt.timedelta(days=1))
    first = period_start(bucket, frequency)
    if first < bucket:
        first = period_end(first, Grain.NATIVE, frequency)
    count = 0
    while first < end:
        count += 1
        first = period_end(first, Grain.NATIVE, frequency)
    return count


def period_start(day: dt.date, frequency: str) -> dt.date:
    """The first day of the KPI period containing ``day``: Monday, the 1st, or the quarter's first day."""
    if frequency == Frequency.MONTHLY:
        return day.replace(day=1)
    if frequency == Frequency.QUARTERLY:
        return quarter_start(day)
    return day - dt.timedelta(days=day.weekday())


def period_name(period: dt.date, frequency: str) -> str:
    """The KPI period that starts on ``period`` in words: “the week of 2 Nov 2026”, “Nov 2026”, “Q4 2026”."""
    if frequency == Frequency.MONTHLY:
        return f"{period:%b %Y}"
    if frequency == Frequency.QUARTERLY:
        return quarter_label(period)
    return f"the week of {period.day} {period:%b %Y}"


# ---------------------------------------------------------------------------------------------------------
# Quarters
# ---------------------------------------------------------------------------------------------------------


def quarter_start(day: dt.date) -> dt.date:
    """The first day of the calendar quarter that contains ``day``."""
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def add_quarters(quarter: dt.date, count: int) -> dt.date:
    months = quarter.year * 12 + quarter.month - 1 + 3 * count
    return dt.date(months // 12, months % 12 + 1, 1)


def quarters_from(start: dt.date, count: int = 4) -> list[dt.date]:
    return [add_quarters(quarter_start(start), n) for n in range(count)]


def year_quarters(year: int) -> list[dt.date]:
    return quarters_from(dt.date(year, 1, 1), 4)


def quarter_label(day: dt.date) -> str:
    """The quarter that contains ``day`` as every page writes it: “Q4 2026”."""
    return f"Q{(day.month - 1) // 3 + 1} {day.year}"


def is_quarter_start(day: dt.date) -> bool:
    return day.day == 1 and day.month in (1, 4, 7, 10)
