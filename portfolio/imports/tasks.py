"""Celery wrapper around an import run: its id in, nothing out (registered as ``portfolio.tasks.import_run``)."""

from celery import shared_task

from portfolio.imports import runs

IMPORT_RUN = "portfolio.tasks.import_run"


@shared_task(name=IMPORT_RUN, acks_late=True, reject_on_worker_lost=True)
def import_run(run_id: int) -> None:
    """Check or apply one uploaded CSV file (a problem in the file is its outcome, not a retry)."""
    runs.import_run_execute(run_id=run_id)
