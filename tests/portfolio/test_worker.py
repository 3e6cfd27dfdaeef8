"""Real Celery workers on Redis against PostgreSQL (CI's second run): the web form's write reaches a worker,
and a worker killed mid-recompute loses nothing."""

import datetime as dt
import os
import signal

import psycopg
import pytest
from django.db import connection
from django.test import Client

from portfolio.kpis.engine import rollups_recompute_all
from portfolio.kpis.services import measurement_record
from portfolio.models import Rollup, StaleRollup
from tests.factories import KPIFactory, MeasurementFactory, ProductFactory
from tests.services import celery_worker, require_services, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

PERIOD = dt.date(2026, 3, 2)


def organisation_rollup(kpi):
    return Rollup.objects.filter(kpi=kpi, scope="organisation", grain="native", period=PERIOD).first()


def test_a_measurement_recorded_in_the_web_form_is_rolled_up_by_a_real_worker():
    require_services()
    kpi = KPIFactory(name="Revenue", aggregation="sum", time_aggregation="sum", default_target=100.0)
    first, second = ProductFactory(), ProductFactory()
    MeasurementFactory(product=second, kpi=kpi, period=PERIOD, value=50.0)
    client = Client()
    client.force_login(first.owner)

    with celery_worker():
        response = client.post(
            f"/products/{first.slug}/measurements/", {"kpi": kpi.pk, "period": "2026-03-04", "value": "70"}
        )
        assert response.status_code == 302

        def both_products_rolled_up() -> bool:
            row = organisation_rollup(kpi)
            return row is not None and row.products == 2

        assert wait_for(both_products_rolled_up, timeout=60), "the worker never recomputed the rollup"

    rollup = organisation_rollup(kpi)
    assert rollup.value == pytest.approx(120.0)
    assert rollup.target == pytest.approx(200.0)
    assert rollup.status == "off_target"  # 120 is below 200 less the 10% tolerance (180)
    assert not StaleRollup.objects.exists()


def backend_waiting_on_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_recompute_leaves_the_old_rollups_and_a_restarted_worker_finishes():
    require_services()
    kpi = KPIFactory(name="Active users", aggregation="sum", time_aggregation="last", default_target=10.0)
    product = ProductFactory()
    MeasurementFactory(product=product, kpi=kpi, period=PERIOD, value=5.0)
    rollups_recompute_all()
    assert organisation_rollup(kpi).value == 5.0

    database = connection.settings_dict
    blocker = psycopg.connect(
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"],
        password=database["PASSWORD"] or None,
        dbname=database["NAME"],
    )
    try:
        # Hold the rollup table so the worker's recompute blocks inside its transaction.
        blocker.execute("LOCK TABLE portfolio_rollup IN ACCESS EXCLUSIVE MODE")
        with celery_worker() as worker:
            measurement_record(product=product, kpi=kpi, period=PERIOD, value=42.0)
            assert wait_for(backend_waiting_on_lock, timeout=60), "the worker never started the recompute"
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        blocker.rollback()
    finally:
        blocker.close()

    assert organisation_rollup(kpi).value == 5.0  # the killed transaction changed nothing
    assert StaleRollup.objects.exists()  # and the work it owed is still recorded

    with celery_worker():
        assert wait_for(lambda: organisation_rollup(kpi).value == 42.0, timeout=60), (
            "the restarted worker did not finish"
        )
    assert not StaleRollup.objects.exists()
