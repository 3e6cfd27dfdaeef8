"""What a like-for-like comparison divides by: how many of a KPI's own periods have data in a bucket, per scope key
(docs/kpis.md, "Comparisons")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db.models import Count, Value
from django.db.models.functions import Concat, TruncMonth, TruncQuarter

from portfolio.choices import Grain, Scope, TimeAggregation
from portfolio.kpis.selectors.scopes import ORGANISATION_KEY
from portfolio.models import KPI, Rollup
from portfolio.periods import bucket_end


def native_periods_recorded(
    kpis: Sequence[KPI], periods: dict[int, list[dt.date]], *, grain: str, dimension: str, keys: Sequence[str]
) -> dict[tuple[int, str, str, dt.date], int]:
    """For the ``sum``-over-time KPIs at month or quarter grain: how many of the KPI's own periods have data in
    each of the two buckets shown, per scope key: what a per-period comparison divides by (docs/kpis.md,
    "Comparisons"). One grouped query over the native rollups of those buckets."""
    summed = [k.pk for k in kpis if k.time_aggregation == TimeAggregation.SUM and k.pk in periods]
    if grain == Grain.NATIVE or not summed:
        return {}
    buckets = sorted({period for kpi_id in summed for period in periods[kpi_id]})
    bucket = TruncMonth("period") if grain == Grain.MONTH else TruncQuarter("period")
    rows = (
        Rollup.objects.alias(key_found=Concat("scope_key", Value("")))
        .filter(
            scope__in=[Scope.ORGANISATION, dimension],
            grain=Grain.NATIVE,
            kpi_id__in=summed,
            period__gte=buckets[0],
            period__lt=bucket_end(buckets[-1], grain),
            key_found__in=[ORGANISATION_KEY, *keys],
        )
        .annotate(bucket=bucket)
        .order_by()
        .values_list("kpi_id", "scope", "scope_key", "bucket")
        .annotate(n=Count("pk"))
    )
    return {(kpi_id, scope, key, _as_date(start)): n for kpi_id, scope, key, start, n in rows}


def _as_date(value) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value
