"""Writes to portfolio data. Atomic, keyword-only; background work is enqueued after commit.

Rollup freshness: a write marks the rollups it affects stale (``StaleRollup`` rows, in the writer's
transaction) and, after commit, asks for one refresh. ``RollupState.refresh_queued_at`` collapses a burst of
requests into one queued task; the task clears it before draining, so a write that lands while it runs queues
the next one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from contextlib import nullcontext

from celery import current_app
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from portfolio.kpis.engine import products_refresh_health, rollups_recompute, rollups_staged
from portfolio.models import KPI, Measurement, Rollup, RollupState, StaleRollup
from products.models import Product, User


def rollups_mark_stale(
    *,
    kpi_ids: Iterable[int | None] = (None,),
    periods: Iterable[dt.date | None] = (None,),
    scope: str = "",
    scope_keys: Iterable[str] = ("",),
    product_id: int | None = None,
) -> None:
    """Mark rollups stale (``None`` means every KPI or every period) and request a refresh after commit.
    ``product_id``: the one product whose measurements changed, when known (its KPI's forecasts are then
    refreshed for that product only)."""
    now = timezone.now()
    StaleRollup.objects.bulk_create(
        StaleRollup(
            kpi_id=kpi_id, period=period, scope=scope, scope_key=key, product_id=product_id, marked_at=now
        )
        for kpi_id in set(kpi_ids)
        for period in set(periods)
        for key in set(scope_keys)
    )
    # robust: the write has committed; a broker that is down must not turn it into an error page.
    transaction.on_commit(rollups_request_refresh, robust=True)


REFRESH_TASK = "portfolio.tasks.rollups_refresh"  # portfolio.kpis.tasks.rollups_refresh
# A queued refresh that has not started within this time is presumed lost, and queued again.
REFRESH_QUEUE_TIMEOUT = dt.timedelta(minutes=10)


def rollups_request_refresh() -> None:
    """Queue one refresh task unless one is queued already. If the broker refuses, the marks stay and the
    next write (or Celery beat's reconcile) tries again."""
    now = timezone.now()
    RollupState.objects.get_or_create(pk=1)
    idle = Q(refresh_queued_at__isnull=True) | Q(refresh_queued_at__lt=now - REFRESH_QUEUE_TIMEOUT)
    if not RollupState.objects.filter(idle, pk=1).update(refresh_queued_at=now):
        return
    try:
        # By name: the task module wraps this one, so this one does not import it.
        current_app.tasks[REFRESH_TASK].delay()
    except Exception:
        RollupState.objects.filter(pk=1, refresh_queued_at=now).update(refresh_queued_at=None)
        raise


def rollups_refresh() -> int:
    """Recompute what the stale marks cover, then drop those marks, in one transaction. Returns marks drained.

    Marks are grouped into the smallest recomputes that cover them: a whole-organisation mark means one full
    recompute; scope marks recompute that scope's keys; the rest recompute their KPIs' periods.
    """
    RollupState.objects.filter(pk=1).update(refresh_queued_at=None)
    # The marks are read before the numbers: every mark read belongs to a committed write, which the
    # recompute (its snapshot is later) then sees.
    last = StaleRollup.objects.aggregate(last=Max("pk"))["last"]
    if last is None:
        return 0
    marks = list(
        StaleRollup.objects.filter(pk__lte=last).values_list(
            "kpi_id", "period", "scope", "scope_key", "product_id"
        )
    )
    everything = any(kpi is None and period is None and not scope for kpi, period, scope, _, _ in marks)
    with rollups_staged() if everything else nullcontext() as staged, transaction.atomic():
        if everything:
            rollups_recompute(staged=staged)
        else:
            scoped: dict[str, set[str]] = {}
            whole_kpis: set[int] = set()
            periods: dict[int | None, set[dt.date]] = {}
            products: dict[int | None, set[int | None]] = {}  # None among them: any product
            for kpi_id, period, scope, key, product_id in marks:
                if scope:
                    scoped.setdefault(scope, set()).add(key)
                elif period is None:
                    whole_kpis.add(kpi_id)
                else:
                    periods.setdefault(kpi_id, set()).add(period)
                    products.setdefault(kpi_id, set()).add(product_id)
            for scope, keys in scoped.items():
                rollups_recompute(scope=scope, scope_keys=set() if "" in keys else keys)
            if whole_kpis:
                rollups_recompute(kpi_ids=whole_kpis)
            for kpi_id, kpi_periods in periods.items():
                if kpi_id not in whole_kpis:
                    changed = products[kpi_id]
                    rollups_recompute(
                        kpi_ids=() if kpi_id is None else [kpi_id],
                        periods=kpi_periods,
                        product_ids=() if None in changed else changed,
                    )
        StaleRollup.objects.filter(pk__lte=last).delete()
    return len(marks)


def rollups_reconcile() -> None:
    """Recompute every rollup, and drop the stale marks that the full recompute covered."""
    last = StaleRollup.objects.aggregate(last=Max("pk"))["last"]  # read before the numbers, as above
    with rollups_staged() as staged, transaction.atomic():
        rollups_recompute(staged=staged)
        if last is not None:
            StaleRollup.objects.filter(pk__lte=last).delete()


@transaction.atomic
def measurement_record(
    *, product: Product, kpi: KPI, period: dt.date, value: float, by: User | None = None
) -> Measurement:
    """Create or replace the value of one KPI for one product and period; its rollups follow in the background.

    A value outside the KPI's valid range, a day that does not start one of its periods, or a period that has
    not begun is refused (ValidationError), whichever path called: the rules are ``Measurement.clean``'s."""
    Measurement(product=product, kpi=kpi, period=period, value=value).clean()
    measurement, _ = Measurement.objects.update_or_create(
        product=product,
        kpi=kpi,
        period=period,
        defaults={"value": value, "recorded_by": by, "recorded_at": timezone.now()},
    )
    rollups_mark_stale(kpi_ids=[kpi.pk], periods=[period], product_id=product.pk)
    products_refresh_health(product_ids=[product.pk])
    return measurement


def rollups_scope_changed(*, changes: dict[str, tuple[str, str]], **_signal) -> None:
    """A product moved between scope keys ({scope: (old key, new key)}): mark exactly those keys stale.

    Connected to ``products.signals.product_scope_changed`` and ``lifecycle.signals.stage_changed``.
    """
    for scope, (old, new) in changes.items():
        rollups_mark_stale(scope=scope, scope_keys=[old, new])


def rollups_resume_after_restart() -> None:
    """At worker start: if stale marks survived a lost task (a killed worker), queue their refresh now rather
    than wait for the queue timeout or Celery beat. On PostgreSQL the rollup table is unlogged (derived data:
    docs/kpis.md), so a database crash empties it: with measurements but no rollups, everything is stale."""
    if not Rollup.objects.exists() and Measurement.objects.exists():
        StaleRollup.objects.create(kpi=None, period=None, scope="", scope_key="")
    if StaleRollup.objects.exists():
        RollupState.objects.filter(pk=1).update(refresh_queued_at=None)
        rollups_request_refresh()
