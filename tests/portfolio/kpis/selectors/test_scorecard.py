"""The scorecard compares like for like (observation 3 of issue 14): hand-computed weekly sums."""

import datetime as dt

import pytest

from portfolio.kpis.engine import rollups_recompute_all
from portfolio.kpis.selectors.scorecard import rollup_scorecard
from portfolio.models import Measurement
from tests.factories import KPIFactory, ProductFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 2)  # a Wednesday: Q4 to date holds 10 week-starts (5 Oct ... 30 Nov)


def mondays(first: dt.date, last: dt.date) -> list[dt.date]:
    days = []
    while first <= last:
        days.append(first)
        first += dt.timedelta(weeks=1)
    return days


@pytest.fixture
def steady_revenue():
    """The same 100 every week from July to the end of November: nothing changes, week by week."""
    revenue = KPIFactory(
        name="Revenue", aggregation="sum", time_aggregation="sum", default_target=100.0, tolerance=10
    )
    product = ProductFactory()
    Measurement.objects.bulk_create(
        Measurement(product=product, kpi=revenue, period=day, value=100.0)
        for day in mondays(dt.date(2026, 7, 6), dt.date(2026, 11, 30))
    )
    rollups_recompute_all()
    return revenue


def organisation_cell(scorecard):
    return scorecard.rows[0].cells[0]


def test_a_quarter_to_date_is_compared_per_week_with_the_whole_previous_quarter(steady_revenue):
    scorecard = rollup_scorecard(kpis=[steady_revenue], dimension="portfolio", grain="quarter", today=TODAY)
    cell = organisation_cell(scorecard)
    # Q4 to date: 9 weeks recorded (5 Oct to 30 Nov) = 900; Q3: 13 weeks = 1,300. As totals: -31 %.
    assert (cell.current.value, cell.previous.value) == (900.0, 1300.0)
    assert (cell.current_periods, cell.previous_periods) == (9, 13)
    assert cell.change == 0  # 100 a week both
    assert cell.trend == "flat"
    assert scorecard.rows[0].in_progress
    assert scorecard.changes == []


def test_a_month_of_five_mondays_is_not_a_rise(steady_revenue):
    scorecard = rollup_scorecard(kpis=[steady_revenue], dimension="portfolio", grain="month", today=TODAY)
    cell = organisation_cell(scorecard)
    # November: 5 Mondays = 500; October: 4 = 400. As totals: +25 %.
    assert (cell.current.value, cell.previous.value) == (500.0, 400.0)
    assert cell.change == 0
    assert cell.trend == "flat"


def test_an_average_kpi_is_compared_as_it_is():
    rate = KPIFactory(
        name="Conversion", unit="%", aggregation="avg", time_aggregation="avg", default_target=3.0
    )
    product = ProductFactory()
    values = {**dict.fromkeys(mondays(dt.date(2026, 10, 5), dt.date(2026, 10, 26)), 4.0)}
    values |= dict.fromkeys(mondays(dt.date(2026, 11, 2), dt.date(2026, 11, 30)), 3.0)
    Measurement.objects.bulk_create(
        Measurement(product=product, kpi=rate, period=day, value=value) for day, value in values.items()
    )
    rollups_recompute_all()
    cell = organisation_cell(rollup_scorecard(kpis=[rate], dimension="portfolio", grain="month", today=TODAY))
    assert not cell.per_period
    assert cell.change == pytest.approx(-0.25)


def test_a_worse_move_beyond_tolerance_is_listed_even_when_the_status_holds():
    revenue = KPIFactory(
        name="Revenue", aggregation="sum", time_aggregation="sum", default_target=10.0, tolerance=10
    )
    product = ProductFactory()
    weeks = {**dict.fromkeys(mondays(dt.date(2026, 10, 5), dt.date(2026, 10, 26)), 100.0)}
    weeks |= dict.fromkeys(mondays(dt.date(2026, 11, 2), dt.date(2026, 11, 30)), 60.0)  # -40 % a week
    Measurement.objects.bulk_create(
        Measurement(product=product, kpi=revenue, period=day, value=value) for day, value in weeks.items()
    )
    rollups_recompute_all()
    scorecard = rollup_scorecard(kpis=[revenue], dimension="portfolio", grain="month", today=TODAY)
    cell = organisation_cell(scorecard)
    assert (cell.previous.status, cell.current.status) == ("on_target", "on_target")
    assert cell.change == pytest.approx(-0.4)
    assert scorecard.changes == [cell, scorecard.rows[0].cells[1]]  # the organisation, then its portfolio


def test_no_data_is_not_called_no_change():
    revenue = KPIFactory(name="Revenue")
    scorecard = rollup_scorecard(kpis=[revenue], dimension="portfolio", grain="month", today=TODAY)
    assert not scorecard.has_data
    assert scorecard.changes == []
