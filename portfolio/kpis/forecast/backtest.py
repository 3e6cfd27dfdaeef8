"""The published accuracy of the forecasts: every product and KPI series of this database backtested (its last
periods hidden and forecast from the ones before, ``accuracy.check_series``), the figures per KPI stored in
``ForecastAccuracy`` for each forecast's explanation to quote (``manage.py forecast_backtest``, and weekly by
Celery beat; docs/kpis.md "Forecasts")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from itertools import groupby

from django.db import transaction
from django.utils import timezone

from portfolio.kpis.forecast.accuracy import KPIAccuracy, check_series, kpi_accuracy
from portfolio.models import KPI, ForecastAccuracy, Measurement

HIDDEN = 8  # periods hidden: two months of weeks


def forecast_backtest(
    *, hidden: int = HIDDEN, products: int = 0, progress: Callable[[int, int], None] | None = None
) -> list[tuple[KPI, KPIAccuracy]]:
    """Each KPI's accuracy over its products' series (only the first ``products`` products when given), by KPI
    name; KPIs without a series long enough are left out. ``progress(done, total)`` after each series, in values.
    Reads only."""
    if hidden < 1:
        raise ValueError("hidden must be 1 or more")
    kpis = {kpi.pk: kpi for kpi in KPI.objects.all()}
    rows = Measurement.objects.order_by("kpi_id", "product_id", "period").values_list(
        "kpi_id", "product_id", "value"
    )
    if products:
        first = (
            Measurement.objects.order_by("product_id")
            .values_list("product_id", flat=True)
            .distinct()[:products]
        )
        rows = rows.filter(product_id__in=list(first))
    checks: dict[int, list] = {pk: [] for pk in kpis}
    total = rows.count() if progress else 0
    done = 0
    for (kpi_id, _product), series in groupby(rows.iterator(chunk_size=20_000), key=lambda row: row[:2]):
        values = [value for _, _, value in series]
        kpi = kpis[kpi_id]
        checks[kpi_id].append(
            check_series(
                values, hidden=hidden, time_aggregation=kpi.time_aggregation, frequency=kpi.frequency
            )
            if len(values) > hidden
            else None
        )
        if progress:
            done += len(values)
            progress(done, total)
    results = [(kpis[pk], kpi_accuracy(kpis[pk].name, found)) for pk, found in checks.items()]
    return sorted(((kpi, result) for kpi, result in results if result is not None), key=lambda r: r[1].name)


@transaction.atomic
def forecast_accuracy_store(
    results: list[tuple[KPI, KPIAccuracy]], *, hidden: int, now: dt.datetime | None = None
) -> int:
    """Replace the stored accuracy with ``results``: a KPI not among them has none (no series long enough)."""
    now = now or timezone.now()
    ForecastAccuracy.objects.all().delete()
    ForecastAccuracy.objects.bulk_create(
        ForecastAccuracy(
            kpi=kpi,
            hidden=hidden,
            series=result.series,
            skipped=result.skipped,
            mape=result.mape,
            naive_mape=result.naive_mape,
            at_least_naive=result.at_least_naive,
            coverage_80=result.coverage_80,
            coverage_95=result.coverage_95,
            measured_at=now,
        )
        for kpi, result in results
    )
    return len(results)
