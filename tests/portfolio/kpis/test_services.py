"""Writes mark exactly the rollups they affect stale, and bursts of writes coalesce into one refresh task."""

import datetime as dt
from unittest import mock

import pytest

from lifecycle.services import product_move_stage
from portfolio.kpis import services
from portfolio.kpis.engine import rollups_recompute_all
from portfolio.models import Rollup, RollupState, StaleRollup
from products.services import product_update
from tests.factories import KPIFactory, MeasurementFactory, PortfolioFactory, ProductFactory
from tests.lifecycle.factories import fill_gates

pytestmark = pytest.mark.django_db

PERIOD = dt.date(2026, 5, 4)


def marks() -> set[tuple]:
    return set(StaleRollup.objects.values_list("kpi_id", "period", "scope", "scope_key"))


def test_recording_a_measurement_marks_its_kpi_and_period_stale():
    kpi, product = KPIFactory(), ProductFactory()
    with mock.patch("portfolio.tasks.rollups_refresh.delay"):
        services.measurement_record(product=product, kpi=kpi, period=PERIOD, value=3.0)
    assert marks() == {(kpi.pk, PERIOD, "", "")}


def test_changing_a_products_market_marks_the_old_and_new_market_keys():
    product = ProductFactory(market="b2b")
    with mock.patch("portfolio.tasks.rollups_refresh.delay"):
        product_update(product=product, changes={"market": "b2c", "name": "Renamed"}, by=product.owner)
    assert marks() == {(None, None, "market", "b2b"), (None, None, "market", "b2c")}


def test_renaming_a_product_marks_nothing():
    product = ProductFactory()
    product_update(product=product, changes={"name": "Renamed"}, by=product.owner)
    assert marks() == set()


def test_moving_to_another_portfolio_marks_both_portfolios():
    product = ProductFactory(portfolio=PortfolioFactory(slug="north"))
    south = PortfolioFactory(slug="south")
    with mock.patch("portfolio.tasks.rollups_refresh.delay"):
        product_update(product=product, changes={"portfolio": south}, by=product.owner)
    assert marks() == {(None, None, "portfolio", "north"), (None, None, "portfolio", "south")}


def test_a_stage_move_marks_the_two_stage_keys():
    product = fill_gates(ProductFactory(stage="mvp"))  # its MVP gate is met
    with mock.patch("portfolio.tasks.rollups_refresh.delay"):
        product_move_stage(product=product, to="feedback", by=product.owner)
    assert marks() == {(None, None, "stage", "mvp"), (None, None, "stage", "feedback")}


def test_a_burst_of_writes_queues_one_refresh_until_it_runs(django_capture_on_commit_callbacks):
    kpi = KPIFactory()
    products = [ProductFactory() for _ in range(5)]
    with mock.patch("portfolio.tasks.rollups_refresh.delay") as delay:
        for week in range(10):
            for product in products:
                with django_capture_on_commit_callbacks(execute=True):
                    services.measurement_record(
                        product=product, kpi=kpi, period=PERIOD + dt.timedelta(weeks=week), value=1.0
                    )
        assert delay.call_count == 1
        assert StaleRollup.objects.count() == 50

        assert services.rollups_refresh() == 50  # what the queued task does
        assert not StaleRollup.objects.exists()
        assert RollupState.current().refresh_queued_at is None

        with django_capture_on_commit_callbacks(execute=True):
            services.measurement_record(product=products[0], kpi=kpi, period=PERIOD, value=2.0)
        assert delay.call_count == 2  # a write after the refresh queues the next one


def test_a_refresh_recomputes_only_what_was_marked():
    kpi = KPIFactory(aggregation="sum", time_aggregation="sum")
    a, b = ProductFactory(market="b2b"), ProductFactory(market="b2b")
    MeasurementFactory(product=a, kpi=kpi, period=PERIOD, value=1.0)
    MeasurementFactory(product=b, kpi=kpi, period=PERIOD + dt.timedelta(weeks=9), value=1.0)
    rollups_recompute_all()
    untouched = Rollup.objects.get(
        scope="organisation", grain="native", period=PERIOD + dt.timedelta(weeks=9)
    )

    with mock.patch("portfolio.tasks.rollups_refresh.delay"):
        services.measurement_record(product=a, kpi=kpi, period=PERIOD, value=5.0)
    services.rollups_refresh()

    assert Rollup.objects.get(scope="organisation", grain="native", period=PERIOD).value == 5.0
    assert Rollup.objects.get(pk=untouched.pk).computed_at == untouched.computed_at


def test_a_broker_that_refuses_leaves_the_marks_and_lets_the_next_write_retry(
    django_capture_on_commit_callbacks,
):
    kpi, product = KPIFactory(), ProductFactory()
    with mock.patch(
        "portfolio.tasks.rollups_refresh.delay", side_effect=ConnectionError("broker down")
    ) as delay:
        with django_capture_on_commit_callbacks(execute=True):
            services.measurement_record(product=product, kpi=kpi, period=PERIOD, value=1.0)
        with django_capture_on_commit_callbacks(execute=True):
            services.measurement_record(product=product, kpi=kpi, period=PERIOD, value=2.0)
    assert delay.call_count == 2  # the failed request did not leave the queue flag set
    assert StaleRollup.objects.count() == 2
    assert RollupState.current().refresh_queued_at is None


def test_a_restarted_worker_picks_up_marks_left_by_a_lost_task():
    kpi, product = KPIFactory(), ProductFactory()
    MeasurementFactory(product=product, kpi=kpi, period=PERIOD, value=9.0)
    StaleRollup.objects.create(kpi=kpi, period=PERIOD)
    RollupState.objects.update_or_create(
        pk=1, defaults={"refresh_queued_at": dt.datetime(2026, 5, 4, tzinfo=dt.UTC)}
    )
    services.rollups_resume_after_restart()  # eager: the queued refresh runs here
    assert not StaleRollup.objects.exists()
    assert Rollup.objects.get(scope="organisation", grain="native", period=PERIOD).value == 9.0


def test_a_worker_starting_after_a_database_crash_that_emptied_the_rollups_recomputes_them():
    # The rollup table is unlogged on PostgreSQL: crash recovery empties it, the measurements stay.
    kpi, product = KPIFactory(), ProductFactory()
    MeasurementFactory(product=product, kpi=kpi, period=PERIOD, value=4.0)
    rollups_recompute_all()
    Rollup.objects.all().delete()
    services.rollups_resume_after_restart()  # eager: the queued refresh runs here
    assert not StaleRollup.objects.exists()
    assert Rollup.objects.get(scope="organisation", grain="native", period=PERIOD).value == 4.0


def test_a_worker_starting_on_an_empty_database_marks_nothing():
    services.rollups_resume_after_restart()
    assert not StaleRollup.objects.exists()
