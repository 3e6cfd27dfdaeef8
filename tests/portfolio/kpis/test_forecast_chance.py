"""A stored forecast read against another target (portfolio.kpis.forecast.chance): a key result's chance."""

import math

import pytest

from portfolio.kpis.forecast.chance import chance_of_target, period_target
from portfolio.kpis.forecast.projection import Z_80, Z_95


def test_the_chance_of_the_forecasts_own_value_is_even():
    assert chance_of_target(
        value=100, high_95=100 + Z_95 * 10, target=100, direction="higher"
    ) == pytest.approx(0.5)


def test_the_spread_is_read_back_from_the_95_range():
    # spread 10: a target one spread below the forecast is reached with P(Z > -1) = 84.1 %.
    high_95 = 100 + Z_95 * 10
    assert chance_of_target(value=100, high_95=high_95, target=90, direction="higher") == pytest.approx(
        0.8413, abs=1e-4
    )
    # The 80 % range's edge: 10 % chance above it.
    assert chance_of_target(
        value=100, high_95=high_95, target=100 + Z_80 * 10, direction="higher"
    ) == pytest.approx(0.10, abs=1e-4)


def test_lower_is_better_turns_the_chance_round():
    high_95 = 50 + Z_95 * 5
    higher = chance_of_target(value=50, high_95=high_95, target=45, direction="higher")
    lower = chance_of_target(value=50, high_95=high_95, target=45, direction="lower")
    assert higher + lower == pytest.approx(1)
    assert lower == pytest.approx(0.1587, abs=1e-4)


def test_a_key_results_own_target_gives_its_own_chance_not_the_rollups():
    # The rollup's target 100 is likely (forecast 110); the key result's 120 is not.
    high_95 = 110 + Z_95 * 8
    rollup = chance_of_target(value=110, high_95=high_95, target=100, direction="higher")
    key_result = chance_of_target(value=110, high_95=high_95, target=120, direction="higher")
    assert rollup > 0.85
    assert key_result == pytest.approx(0.5 * (1 - math.erf(10 / 8 / math.sqrt(2))))


def test_without_a_spread_the_answer_is_certain():
    assert chance_of_target(value=100, high_95=100, target=99, direction="higher") == 1.0
    assert chance_of_target(value=100, high_95=100, target=101, direction="higher") == 0.0
    assert chance_of_target(value=100, high_95=100, target=101, direction="lower") == 1.0


def test_a_sum_kpis_target_adds_up_over_the_period_an_average_keeps_it():
    assert period_target(100, time_aggregation="sum", native_periods=13) == 1300
    assert period_target(99.5, time_aggregation="avg", native_periods=13) == 99.5
    assert period_target(5000, time_aggregation="last", native_periods=3) == 5000
