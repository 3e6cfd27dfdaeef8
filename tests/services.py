"""Helpers for tests that need PostgreSQL, Redis and a real Celery worker (CI's second run)."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def require_services() -> None:
    """Skip (or fail, when CI says the services must be there) unless PostgreSQL and a broker are configured."""
    missing = []
    if connection.vendor != "postgresql":
        missing.append("DATABASE_URL does not point at PostgreSQL")
    if settings.CELERY_TASK_ALWAYS_EAGER:
        missing.append("CELERY_BROKER_URL is unset (Celery runs eagerly)")
    if missing:
        reason = "needs PostgreSQL and Redis: " + "; ".join(missing)
        if os.environ.get("SPM_REQUIRE_SERVICES"):
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def celery_worker(extra_env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """A real Celery worker in a child process, connected to the test database and the configured broker
    (``extra_env``: more of its environment, e.g. ``SPM_EMAIL_URL``)."""
    env = dict(os.environ) | (extra_env or {})
    database = connection.settings_dict
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    host = f"{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
    env["DATABASE_URL"] = f"postgres://{credentials}@{host}/{database['NAME']}"
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    (ROOT / "test-artifacts").mkdir(exist_ok=True)
    log = open(ROOT / "test-artifacts" / "celery-worker.log", "w")  # noqa: SIM115 — closed below
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "spm",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def wait_for(condition, *, timeout: float = 30.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return False
