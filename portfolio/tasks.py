"""Celery wrappers around portfolio services: ids in, nothing out."""

import datetime as dt

from celery import shared_task

from portfolio import rollups


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def rollups_recompute(kpi_ids: list[int], periods: list[str]) -> None:
    """Recompute the rollups of some KPIs and periods (ISO dates)."""
    rollups.rollups_recompute(kpi_ids=kpi_ids, periods=[dt.date.fromisoformat(p) for p in periods])


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def rollups_reconcile() -> None:
    """Celery beat's periodic full recompute: repairs anything a lost task left stale."""
    rollups.rollups_recompute_all()
