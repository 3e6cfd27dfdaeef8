"""CSV of the lifecycle analytics: one row per stage with every number the page shows for it."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import StreamingHttpResponse

from lifecycle.analytics.selectors import LifecycleAnalytics
from products.choices import Stage
from spm.csvfiles.writer import csv_response

ANALYTICS_COLUMNS = (
    "stage",
    "products_now",
    "entered_in_window",
    "went_on",
    "conversion",
    "stays_ended_in_window",
    "median_days",
    "p90_days",
    "stuck_after_days",
    "stuck_now",
)


def analytics_csv_rows(report: LifecycleAnalytics) -> Iterator[tuple[object, ...]]:
    conversion = {row.stage.value: row for row in report.conversion}
    times = {row.stage.value: row for row in report.times}
    for stage in Stage:
        converted = conversion.get(stage.value)
        time = times[stage.value]
        rate = converted.rate if converted else None
        yield (
            stage.value,
            report.funnel[stage.value],
            converted.entered if converted else None,
            converted.went_on if converted else None,
            round(rate, 4) if rate is not None else None,
            time.stays,
            round(time.median_days, 1) if time.median_days is not None else None,
            round(time.p90_days, 1) if time.p90_days is not None else None,
            time.threshold,
            report.stuck.counts[stage.value],
        )


def analytics_csv_response(report: LifecycleAnalytics, *, filename: str) -> StreamingHttpResponse:
    return csv_response(ANALYTICS_COLUMNS, analytics_csv_rows(report), filename=filename)
