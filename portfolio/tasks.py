"""The portfolio app's Celery tasks, where Celery's autodiscovery looks (``<app>.tasks``); each package keeps
its own in its ``tasks`` module. A service enqueues its task by name (``current_app.tasks[name]``), so no
service imports the module that wraps it."""

from portfolio.alerts.tasks import (
    chat_send,
    digests_send,
    outbox_send,
    products_stuck_notify,
    roadmap_late_notify,
)
from portfolio.imports.tasks import import_run
from portfolio.kpis.tasks import (
    forecast_accuracy_measure,
    resume_stale_rollups,
    rollups_reconcile,
    rollups_refresh,
)
from portfolio.strategy.tasks import budgets_burn_notify, key_results_off_notify

__all__ = [
    "budgets_burn_notify",
    "chat_send",
    "digests_send",
    "forecast_accuracy_measure",
    "import_run",
    "key_results_off_notify",
    "outbox_send",
    "products_stuck_notify",
    "resume_stale_rollups",
    "roadmap_late_notify",
    "rollups_reconcile",
    "rollups_refresh",
]
