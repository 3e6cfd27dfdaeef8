"""Writes to portfolio data. Atomic, keyword-only; background work is enqueued after commit."""

import datetime as dt

from django.db import transaction

from portfolio.models import KPI, Measurement
from products.models import Product, User


def rollups_enqueue(*, kpi_ids: set[int], periods: set[dt.date]) -> None:
    """After the current transaction commits, ask a worker to recompute these KPIs' buckets."""
    from portfolio import tasks

    kpis, dates = sorted(kpi_ids), sorted(p.isoformat() for p in periods)
    transaction.on_commit(lambda: tasks.rollups_recompute.delay(kpis, dates))


@transaction.atomic
def measurement_record(
    *, product: Product, kpi: KPI, period: dt.date, value: float, by: User | None = None
) -> Measurement:
    """Create or replace the value of one KPI for one product and period; its rollups follow in the background."""
    measurement, _ = Measurement.objects.update_or_create(
        product=product, kpi=kpi, period=period, defaults={"value": value, "recorded_by": by}
    )
    rollups_enqueue(kpi_ids={kpi.pk}, periods={period})
    return measurement
