"""Celery wrappers around the rollup services: ids in, nothing out. Registered under their historical names
(``portfolio.tasks.*``: the beat schedule and queued messages name them so)."""

from celery import shared_task
from celery.signals import worker_ready

from portfolio.kpis import services
from portfolio.kpis.forecast.backtest import HIDDEN, forecast_accuracy_store, forecast_backtest

REFRESH = "portfolio.tasks.rollups_refresh"
RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(name=REFRESH, **RETRY)
def rollups_refresh() -> None:
    """Recompute whatever writes marked stale (one task for a burst of writes)."""
    services.rollups_refresh()


@shared_task(name="portfolio.tasks.rollups_reconcile", **RETRY)
def rollups_reconcile() -> None:
    """Celery beat's periodic full recompute: repairs anything a lost task left stale."""
    services.rollups_reconcile()


@shared_task(name="portfolio.tasks.forecast_accuracy_measure", **RETRY)
def forecast_accuracy_measure() -> None:
    """Celery beat's weekly backtest: the accuracy each forecast's explanation quotes follows the data."""
    results = forecast_backtest()
    forecast_accuracy_store(results, hidden=HIDDEN)


@worker_ready.connect
def resume_stale_rollups(**_signal) -> None:
    """A worker that starts after another died mid-refresh finishes the work: the stale marks are still there."""
    services.rollups_resume_after_restart()
