"""Faults a person would meet in production, each in a few seconds: an unreachable broker, a database that is
down, a query that runs too long. `make faults` (bench/faults.py) plays the longer ones for real: Redis stopped
and restarted, a worker killed with SIGKILL, PostgreSQL restarted under load."""

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection
from django.test import Client

from portfolio.kpis.engine import rollups_recompute_all
from portfolio.models import Measurement, RollupState, StaleRollup
from tests.factories import KPIFactory, MeasurementFactory, ProductFactory
from tests.spm.test_settings import ROOT

PERIOD = dt.date(2026, 3, 2)
NOTHING_LISTENS = "redis://127.0.0.1:1/0"  # port 1: connection refused at once


@pytest.fixture
def unreachable_broker(settings, monkeypatch):
    """Celery publishes to a broker that refuses connections, as when Redis is stopped."""
    from spm.celery import app

    saved = (app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool)
    monkeypatch.setenv("CELERY_BROKER_URL", NOTHING_LISTENS)  # Celery reads it before its own config
    app.conf.broker_url, app.conf.task_always_eager = NOTHING_LISTENS, False
    app._pool = app.amqp._producer_pool = None  # connection pools are made lazily from broker_url
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_ALWAYS_EAGER = NOTHING_LISTENS, False
    yield
    if app._pool is not None:
        app._pool.force_close_all()
    app.conf.broker_url, app.conf.task_always_eager, app._pool, app.amqp._producer_pool = saved


@pytest.mark.django_db(transaction=True)
def test_with_the_broker_down_a_measurement_is_saved_and_its_rollups_show_as_stale(unreachable_broker):
    kpi = KPIFactory(name="Revenue", aggregation="sum", time_aggregation="sum")
    product = ProductFactory()
    earlier = MeasurementFactory(product=product, kpi=kpi, period=PERIOD, value=50.0)
    rollups_recompute_all()
    client = Client()
    client.force_login(product.owner)

    response = client.post(
        f"/products/{product.slug}/measurements/",
        # A confirmed replacement of the 50 already recorded (the form asks before replacing a value).
        {"kpi": kpi.pk, "period": "2026-03-04", "value": "70", "replaces": f"{earlier.pk}:50.0"},
    )

    assert response.status_code == 302  # saved, not an error page
    assert Measurement.objects.get(product=product, kpi=kpi, period=PERIOD).value == 70.0
    assert StaleRollup.objects.filter(kpi=kpi, period=PERIOD).exists()  # the next refresh knows what to redo
    assert RollupState.current().refresh_queued_at is None  # and the next write asks the broker again
    dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert "Recomputing" in dashboard.content.decode()  # the dashboard says its numbers are not current
    health = client.get("/healthz").json()
    assert (health["status"], health["broker"]["status"], health["database"]["status"]) == (
        "degraded",
        "down",
        "ok",
    )


@contextmanager
def unreachable_database() -> Iterator[None]:
    """Point the default connection at a database that cannot be opened, as when PostgreSQL is down."""
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT=1)  # connection refused at once
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_with_the_database_down_pages_answer_a_friendly_503_and_recover_when_it_returns():
    if connection.vendor != "postgresql":
        pytest.skip(
            "PostgreSQL's (CI's second run): the SQLite test database lives in memory and dies closed"
        )
    product = ProductFactory()
    client = Client(raise_request_exception=False)
    client.force_login(product.owner)

    with unreachable_database():
        response = client.get("/")
    recovered = client.get("/")  # the same process, a new connection: no restart needed

    assert recovered.status_code == 200
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    page = response.content.decode()
    assert "The dashboard is temporarily unavailable" in page
    assert "Nothing you saved before this has been lost" in page
    assert "Traceback" not in page


@pytest.mark.django_db(transaction=True)
def test_a_query_past_the_statement_timeout_answers_a_friendly_503_instead_of_hanging():
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's (CI's second run)")
    product = ProductFactory()
    client = Client(raise_request_exception=False)
    client.force_login(product.owner)
    database = connection.settings_dict
    # Another session holds the product table, so the product list's query waits on its lock: a slow query.
    blocker = psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
    )
    options = database.setdefault("OPTIONS", {})
    saved_options = dict(options)
    try:
        blocker.execute("LOCK TABLE products_product IN ACCESS EXCLUSIVE MODE")
        # What SPM_STATEMENT_TIMEOUT_MS=300 configures (spm/settings.py), on a fresh connection.
        options["options"] = "-c statement_timeout=300"
        connection.close()
        response = client.get("/products/")
    finally:
        blocker.rollback()
        blocker.close()
        options.clear()
        options.update(saved_options)
        connection.close()

    assert response.status_code == 503
    page = response.content.decode()
    assert "This page took too long to load" in page
    assert "Nothing was changed" in page
    assert client.get("/products/").status_code == 200  # the lock is gone: the page serves again


def test_the_statement_timeout_comes_from_the_environment_for_postgresql_only():
    code = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}).get('options'))"
    env = {
        "DJANGO_SETTINGS_MODULE": "spm.settings",
        "SPM_STATEMENT_TIMEOUT_MS": "2500",
        "PATH": "/usr/bin:/bin",
    }

    def options_for(database_url: str) -> str:
        result = subprocess.run(
            [sys.executable, "-c", "import django; django.setup(); " + code],
            cwd=ROOT,
            env={**env, "DATABASE_URL": database_url} if database_url else env,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return result.stdout.strip()

    assert options_for("postgres://postgres@127.0.0.1:5432/spm") == "-c statement_timeout=2500"
    assert options_for("") == "None"  # SQLite has no statement timeout
