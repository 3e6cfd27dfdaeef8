"""Celery wrappers around the strategy scans (names ``portfolio.tasks.*``, as the beat schedule says)."""

from celery import shared_task

from portfolio.strategy.services import budgets, key_results

RETRY = {"acks_late": True, "autoretry_for": (Exception,), "retry_backoff": True, "max_retries": 5}


@shared_task(name="portfolio.tasks.budgets_burn_notify", **RETRY)
def budgets_burn_notify() -> None:
    """Celery beat, daily: products whose spend is more than 15 % off their plan to date notify once a quarter."""
    budgets.budgets_burn_notify()


@shared_task(name="portfolio.tasks.key_results_off_notify", **RETRY)
def key_results_off_notify() -> None:
    """Celery beat, daily: key results off target notify leadership once a quarter."""
    key_results.key_results_off_notify()
