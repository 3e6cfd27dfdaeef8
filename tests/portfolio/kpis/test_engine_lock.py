"""Rollup writers lock what they replace: on PostgreSQL two recomputes never interleave (the second waits for
the first to commit), so no reader sees a mix of two recomputes and neither deletes rows the other inserted."""

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections, transaction

from portfolio.kpis.engine import rollups_recompute
from portfolio.models import Rollup
from tests.factories import KPIFactory, MeasurementFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_second_recompute_waits_until_the_first_commits():
    if connection.vendor != "postgresql":
        pytest.skip(
            "advisory locks are PostgreSQL's; SQLite's IMMEDIATE transactions serialise writers already"
        )
    kpi = KPIFactory()
    MeasurementFactory(product=ProductFactory(), kpi=kpi, period=dt.date(2026, 1, 5), value=10.0)
    first_done, release = threading.Event(), threading.Event()
    events: list[str] = []

    def first() -> None:
        try:
            with transaction.atomic():
                rollups_recompute(kpi_ids=[kpi.pk])
                events.append("first recomputed")
                first_done.set()
                release.wait(timeout=30)  # the first transaction stays open, holding the lock
                events.append("first commits")
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_done.wait(timeout=30)
            rollups_recompute(kpi_ids=[kpi.pk])
            events.append("second recomputed")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_done.wait(timeout=30)
    time.sleep(0.5)  # ample time for the second to finish, were it not waiting
    assert events == ["first recomputed"]
    release.set()
    for thread in threads:
        thread.join(timeout=30)

    assert events == ["first recomputed", "first commits", "second recomputed"]
    assert Rollup.objects.filter(kpi=kpi, scope="organisation", grain="native").count() == 1
