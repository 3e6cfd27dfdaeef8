"""Which values, targets and periods can be true (portfolio.validity): hand-worked examples."""

import datetime as dt

import pytest

from portfolio.validity import (
    ValidRange,
    default_range,
    period_problem,
    range_problem,
    valid_range,
    value_problem,
)


@pytest.mark.parametrize(
    ("unit", "inside", "outside"),
    [
        ("%", [0, 45.5, 100], [-0.1, 100.01, 150]),
        ("€", [0, 1e9], [-5]),
        ("users", [0, 12_000], [-1]),
        ("", [0, 3], [-3]),
    ],
)
def test_a_kpi_without_bounds_takes_its_units_range(unit, inside, outside):
    valid = default_range(unit)
    assert all(value in valid for value in inside)
    assert not any(value in valid for value in outside)


def test_a_kpis_own_bounds_replace_the_units_default_one_side_at_a_time():
    net_score = valid_range(unit="NPS", min_value=-100, max_value=100)
    assert (net_score.low, net_score.high) == (-100, 100)
    growth = valid_range(
        unit="%", min_value=-100, max_value=None
    )  # a growth rate: down to -100 %, no cap of 100
    assert (growth.low, growth.high) == (-100, 100)
    assert 250 not in growth  # the unit's maximum still applies: only the minimum was set


def test_nan_infinity_and_typos_past_ten_to_the_fifteen_are_never_values():
    anything = ValidRange(None, None)
    assert float("nan") not in anything
    assert float("inf") not in anything
    assert 2e15 not in anything
    assert -12 in anything


def test_the_refusal_names_the_kpi_and_its_range_in_its_unit():
    assert value_problem(150, kpi_name="30-day retention", unit="%", valid=default_range("%")) == (
        "150 is not a possible value of 30-day retention: it must be 0% to 100%."
    )
    assert value_problem(-5, kpi_name="Churn rate", unit="%", valid=default_range("%"), what="target") == (
        "-5 is not a possible target of Churn rate: it must be 0% to 100%."
    )
    assert value_problem(-3, kpi_name="Revenue", unit="€", valid=default_range("€")) == (
        "-3 is not a possible value of Revenue: it must be at least €0."
    )
    assert value_problem(42, kpi_name="Revenue", unit="€", valid=default_range("€")) is None


def test_bounds_must_leave_room_between_them():
    assert range_problem(min_value=10, max_value=10) == "The minimum (10) must be below the maximum (10)."
    assert (
        range_problem(min_value=None, max_value=-5) is None
    )  # checked against the unit's minimum by the model
    assert range_problem(min_value=-100, max_value=100) is None


MONDAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize(
    ("frequency", "period", "open_"),
    [
        ("weekly", dt.date(2026, 12, 7), True),  # this week, to date
        ("weekly", dt.date(2026, 11, 30), True),
        ("weekly", dt.date(2026, 12, 14), False),  # next week has not begun
        ("monthly", dt.date(2026, 12, 1), True),
        ("monthly", dt.date(2027, 1, 1), False),
        ("quarterly", dt.date(2026, 10, 1), True),
        ("quarterly", dt.date(2027, 1, 1), False),
        ("weekly", dt.date(1899, 12, 25), False),
    ],
)
def test_the_current_period_is_open_and_a_later_one_is_not(frequency, period, open_):
    problem = period_problem(period, frequency=frequency, today=MONDAY + dt.timedelta(days=2))
    assert (problem is None) == open_


def test_a_future_period_is_refused_with_the_latest_that_can_be_recorded():
    problem = period_problem(dt.date(2027, 6, 7), frequency="weekly", today=dt.date(2026, 12, 9))
    assert problem == (
        "The week of 7 Jun 2027 has not begun: the latest that can be recorded is the current week, which starts "
        "on 7 Dec 2026."
    )
