import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError

from tests.factories import (
    KPIFactory,
    KPITargetFactory,
    MeasurementFactory,
    PortfolioFactory,
    RollupFactory,
)


@pytest.mark.django_db
def test_one_measurement_per_product_kpi_and_period():
    first = MeasurementFactory(period=dt.date(2026, 2, 2))
    MeasurementFactory(product=first.product, kpi=first.kpi, period=dt.date(2026, 2, 9))
    with pytest.raises(IntegrityError):
        MeasurementFactory(product=first.product, kpi=first.kpi, period=dt.date(2026, 2, 2), value=7)


@pytest.mark.django_db
def test_one_target_per_product_and_kpi():
    target = KPITargetFactory()
    with pytest.raises(IntegrityError):
        KPITargetFactory(product=target.product, kpi=target.kpi)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"tolerance": Decimal("-1")},
        {"tolerance": Decimal("100.5")},
        {"direction": "across"},  # values fit the column, so only the check constraint can refuse them
        {"aggregation": "med"},
        {"time_aggregation": "frst"},
        {"frequency": "daily"},
        {"name": ""},
    ],
    ids=lambda f: next(iter(f)),
)
def test_the_database_refuses_invalid_kpi_definitions(fields):
    with pytest.raises(IntegrityError):
        KPIFactory(**fields)


@pytest.mark.django_db
def test_portfolio_budget_cannot_be_negative():
    with pytest.raises(IntegrityError):
        PortfolioFactory(budget=Decimal("-5"))


@pytest.mark.django_db
def test_one_rollup_per_kpi_scope_grain_and_period():
    rollup = RollupFactory()
    with pytest.raises(IntegrityError):
        RollupFactory(kpi=rollup.kpi)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "fields",
    [
        {"scope": "galaxy"},
        {"grain": "year"},
        {"status": "fine"},
        {"products": 0},
        {"target": None, "status": "on_target"},
    ],
    ids=lambda f: "-".join(f),
)
def test_the_database_refuses_impossible_rollups(fields):
    with pytest.raises(IntegrityError):
        RollupFactory(**fields)


@pytest.mark.django_db
def test_a_rollup_without_target_says_so():
    assert RollupFactory(target=None, status="no_target").get_status_display() == "No target"
