"""Celery wrappers around portfolio services: ids in, nothing out."""

from celery import shared_task
from celery.signals import worker_ready

from portfolio.imports import runs as import_runs
from portfolio.kpis import services

RETRY = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (Exception,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


@shared_task(**RETRY)
def rollups_refresh() -> None:
    """Recompute whatever writes marked stale (one task for a burst of writes)."""
    services.rollups_refresh()


@shared_task(**RETRY)
def rollups_reconcile() -> None:
    """Celery beat's periodic full recompute: repairs anything a lost task left stale."""
    services.rollups_reconcile()


@worker_ready.connect
def resume_stale_rollups(**_signal) -> None:
    """A worker that starts after another died mid-refresh finishes the work: the stale marks are still there."""
    services.rollups_resume_after_restart()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_run(run_id: int) -> None:
    """Check or apply one uploaded CSV file (a problem in the file is its outcome, not a retry)."""
    import_runs.import_run_execute(run_id=run_id)
