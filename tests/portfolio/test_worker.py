"""A measurement written through the service reaches a real Celery worker over Redis, which recomputes rollups."""

import datetime as dt

import pytest

from portfolio.models import Rollup
from portfolio.services import measurement_record
from tests.factories import KPIFactory, ProductFactory
from tests.services import celery_worker, require_services, wait_for


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_recomputes_rollups_after_a_measurement_is_recorded():
    require_services()
    kpi = KPIFactory(name="Revenue", aggregation="sum", time_aggregation="sum", default_target=100.0)
    first, second = ProductFactory(), ProductFactory()
    period = dt.date(2026, 3, 2)

    with celery_worker():
        measurement_record(product=first, kpi=kpi, period=period, value=70.0)
        measurement_record(product=second, kpi=kpi, period=period, value=50.0)

        def organisation_rollup_has_both() -> bool:
            row = Rollup.objects.filter(kpi=kpi, scope="organisation", grain="native", period=period).first()
            return row is not None and row.products == 2

        assert wait_for(organisation_rollup_has_both, timeout=60), "the worker never recomputed the rollup"

    rollup = Rollup.objects.get(kpi=kpi, scope="organisation", grain="native", period=period)
    assert rollup.value == pytest.approx(120.0)
    assert rollup.target == pytest.approx(200.0)
    assert rollup.status == "off_target"  # 120 is below 200 less the 10% tolerance (180)
