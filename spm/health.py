"""Health probes for /healthz: each answers a small dict and never raises."""

from typing import Any

from django.conf import settings
from django.db import connection


def database_health() -> dict[str, Any]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "down"
        return {"status": "down", "vendor": connection.vendor, "error": type(error).__name__}
    return {"status": "ok", "vendor": connection.vendor}


def broker_health() -> dict[str, Any]:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": "eager"}
    from kombu import Connection

    try:
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:  # kombu raises many kinds; all mean "unreachable"
        return {"status": "down", "error": type(error).__name__}
    return {"status": "ok"}


def rollup_health() -> dict[str, Any]:
    from portfolio.models import RollupState, StaleRollup

    try:
        latest = RollupState.objects.filter(pk=1).values_list("computed_at", flat=True).first()
        pending = StaleRollup.objects.exists()
    except Exception as error:
        return {"status": "down", "error": type(error).__name__}
    if latest is None:
        return {"status": "empty", "last_computed_at": None}
    return {"status": "stale" if pending else "ok", "last_computed_at": latest.isoformat()}
