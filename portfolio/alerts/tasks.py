"""Celery wrappers around the notification scans (names ``portfolio.tasks.*``, as the beat schedule says)."""

from celery import shared_task

from portfolio.alerts import services

RETRY = {"acks_late": True, "autoretry_for": (Exception,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="portfolio.tasks.products_stuck_notify", **RETRY)
def products_stuck_notify() -> None:
    """Celery beat, daily: each product newly past its stage's stuck threshold notifies its people once."""
    services.products_stuck_notify()
