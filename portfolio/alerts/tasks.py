"""Celery wrappers around the notification scans (names ``portfolio.tasks.*``, as the beat schedule says)."""

from celery import shared_task

from portfolio.alerts import services

RETRY = {"acks_late": True, "autoretry_for": (Exception,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="portfolio.tasks.products_stuck_notify", **RETRY)
def products_stuck_notify() -> None:
    """Celery beat, daily: each product newly past its stage's stuck threshold notifies its people once."""
    services.products_stuck_notify()


@shared_task(name="portfolio.tasks.outbox_send", acks_late=True)
def outbox_send() -> None:
    """Celery beat, every minute, and after each new mail: send what the outbox holds that is due. No retry of
    its own: a mail that failed waits in the outbox for its backoff."""
    services.outbox_send()


@shared_task(name="portfolio.tasks.digests_send", **RETRY)
def digests_send() -> None:
    """Celery beat, hourly: the daily and weekly digests due at 08:00 in each person's time zone."""
    services.digests_send()


@shared_task(name="portfolio.tasks.chat_send", acks_late=True)
def chat_send() -> None:
    """Celery beat, every minute, and after each new message: post what is due to Slack and Teams."""
    services.chat_send()


@shared_task(name="portfolio.tasks.roadmap_late_notify", **RETRY)
def roadmap_late_notify() -> None:
    """Celery beat, daily: roadmap items, releases and milestones newly late notify their products' people."""
    services.roadmap_late_notify()
