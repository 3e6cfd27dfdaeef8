"""A period's forecast in the KPI's own periods (portfolio.kpis.forecast.outlook), for a trend chart of native
values: the band over the periods still to come."""

import datetime as dt
from types import SimpleNamespace

import pytest

from portfolio.kpis.forecast.outlook import native_outlook

LAST = dt.date(2026, 11, 16)  # a Monday: Q4 2026's seventh week of 13


def forecast(**fields):
    numbers = {"value": 1300.0, "low_80": 1200.0, "high_80": 1400.0, "low_95": 1150.0, "high_95": 1450.0}
    return SimpleNamespace(**{"grain": "quarter", "done": 7, "remaining": 6, **numbers, **fields})


def test_a_sum_kpis_band_is_the_average_the_remaining_weeks_must_bring():
    known = [90.0] * 7  # 630 recorded
    outlook = native_outlook(
        forecast=forecast(), known=known, last_period=LAST, frequency="weekly", time_aggregation="sum"
    )
    assert outlook.periods == [LAST + dt.timedelta(weeks=n) for n in range(1, 7)]  # 23 Nov .. 28 Dec
    assert outlook.level == pytest.approx((1300 - 630) / 6)
    assert (outlook.low_80, outlook.high_80) == pytest.approx(((1200 - 630) / 6, (1400 - 630) / 6))
    assert (outlook.low_95, outlook.high_95) == pytest.approx(((1150 - 630) / 6, (1450 - 630) / 6))
    assert not outlook.fan
    # The period's total is what the recorded weeks and the band's level add up to.
    assert sum(known) + outlook.level * len(outlook.periods) == pytest.approx(1300)


def test_an_average_kpis_band_is_the_remaining_weeks_average():
    known = [99.0] * 7
    row = forecast(value=99.3, low_80=99.1, high_80=99.5, low_95=99.0, high_95=99.6)
    outlook = native_outlook(
        forecast=row, known=known, last_period=LAST, frequency="weekly", time_aggregation="avg"
    )
    assert (sum(known) + outlook.level * 6) / 13 == pytest.approx(99.3)
    assert outlook.low_95 < outlook.low_80 < outlook.level < outlook.high_80 < outlook.high_95


def test_a_last_value_kpi_fans_out_to_the_periods_end():
    row = forecast(
        value=5000.0, low_80=4500.0, high_80=5500.0, low_95=4200.0, high_95=5800.0, done=1, remaining=2
    )
    outlook = native_outlook(
        forecast=row,
        known=[4800.0],
        last_period=dt.date(2026, 10, 1),
        frequency="monthly",
        time_aggregation="last",
        start=4800.0,
    )
    assert outlook.fan
    assert outlook.periods == [dt.date(2026, 11, 1), dt.date(2026, 12, 1)]
    assert (outlook.level, outlook.low_95, outlook.high_95) == (5000.0, 4200.0, 5800.0)
    assert outlook.start == 4800.0


@pytest.mark.parametrize(
    "row",
    [None, forecast(value=None), forecast(remaining=0, done=13)],
    ids=["no row", "no forecast", "complete"],
)
def test_nothing_to_come_has_no_outlook(row):
    assert (
        native_outlook(forecast=row, known=[], last_period=LAST, frequency="weekly", time_aggregation="sum")
        is None
    )
