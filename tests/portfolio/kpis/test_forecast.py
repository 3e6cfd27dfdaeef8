"""KPI forecasts (portfolio.kpis.forecast): the method picked by backtest, the period-end projection in the KPI's
time aggregation, intervals whose coverage holds, the chance of hitting target, and a reason instead of a number
where the history cannot carry one."""

import math
import random

import pytest

from portfolio.choices import Direction, Status, TimeAggregation
from portfolio.kpis.forecast.methods import damped_trend, drift, naive, seasonal_naive
from portfolio.kpis.forecast.projection import Forecast, NoForecast, aggregate, forecast_period

SUM, AVG, LAST = TimeAggregation.SUM, TimeAggregation.AVG, TimeAggregation.LAST
HIGHER, LOWER = Direction.HIGHER, Direction.LOWER


def forecast(
    history, *, done=0, remaining=4, how=SUM, target=None, direction=HIGHER, tolerance=10, season=0, ahead=0
):
    return forecast_period(
        ahead=ahead,
        history=history,
        done=done,
        remaining=remaining,
        time_aggregation=how,
        target=target,
        direction=direction,
        tolerance=tolerance,
        season=season,
    )


def finite(result: Forecast) -> bool:
    numbers = [
        result.value,
        result.low_80,
        result.high_80,
        result.low_95,
        result.high_95,
        result.backtest_error,
    ]
    numbers += [
        n for n in (result.p_on_target, result.p_within_tolerance, result.needed_per_period) if n is not None
    ]
    return all(math.isfinite(n) for n in numbers)


def test_the_methods_extend_a_series_as_their_names_say():
    history = [10.0, 12.0, 14.0, 16.0]
    assert naive(history, 2, 0) == [16.0, 16.0]
    assert drift(history, 2, 0) == [18.0, 20.0]
    assert seasonal_naive([1.0, 2.0, 1.0, 2.0], 3, 2) == [1.0, 2.0, 1.0]
    assert seasonal_naive(history, 3, 4) is None  # two full seasons needed
    trend = damped_trend([float(v) for v in range(10, 30)], 3, 0)
    assert 29 < trend[0] < trend[1] < trend[2] < 32.5  # still rising, levelling off


def test_a_steady_trend_is_projected_with_its_trend_and_the_truth_inside_the_interval():
    rng = random.Random(4)
    weeks = [100 + 5 * week + rng.gauss(0, 2) for week in range(30)]
    result = forecast(weeks[:26], remaining=4, how=SUM, target=900)
    truth = sum(100 + 5 * week for week in range(26, 30))  # 950
    assert isinstance(result, Forecast)
    assert result.method in {"drift", "damped trend"}
    assert abs(result.value - truth) < 15
    assert result.low_95 < truth < result.high_95
    assert result.p_on_target > 0.99
    assert result.status == Status.ON_TARGET
    assert result.reached_after == 4  # the running total passes 900 in the last week


def test_a_quarter_to_date_adds_the_forecast_of_the_weeks_left_to_what_is_in():
    weeks = [100.0] * 20
    result = forecast(weeks, done=10, remaining=3, how=SUM, target=1_500)
    assert result.method == "naive"
    assert result.value == 1_300  # 10 weeks in at 100, 3 to come at 100
    assert (result.low_95, result.high_95) == (1_300, 1_300)  # a constant series: no spread
    assert result.p_on_target == 0.0
    assert result.needed_per_period == pytest.approx(500 / 3)  # (1,500 - 1,000) over 3 weeks
    assert result.reached_after is None  # not this period


def test_the_next_period_is_projected_past_the_rest_of_this_one_and_is_less_sure():
    rng = random.Random(4)
    weeks = [100 + 5 * week + rng.gauss(0, 2) for week in range(40)]
    this_quarter = forecast(weeks[:26], remaining=4, how=SUM, target=1_000)
    next_quarter = forecast(weeks[:26], ahead=4, remaining=10, how=SUM, target=2_000)
    truth = sum(100 + 5 * week for week in range(30, 40))  # 2,725: the 10 weeks after the 4 left of this one
    assert isinstance(next_quarter, Forecast)
    assert next_quarter.method in {"drift", "damped trend"}
    assert abs(next_quarter.value - truth) < 0.05 * truth
    assert next_quarter.low_95 < truth < next_quarter.high_95
    # Its backtest asked the same question (10 weeks, 4 ahead) of the past, so its range is its own and wider.
    assert next_quarter.high_95 - next_quarter.low_95 > this_quarter.high_95 - this_quarter.low_95
    assert next_quarter.needed_per_period == pytest.approx(200)  # the whole target over its 10 weeks
    assert next_quarter.reached_after == 8  # 250 + 255 + … + 285 passes 2,000 in its own 8th week


def test_a_next_period_never_reaches_further_than_twice_the_history():
    assert forecast([1.0] * 8, ahead=4, remaining=13).reason.startswith("Too far ahead")
    assert forecast([1.0] * 20, ahead=3, remaining=4, done=2) == NoForecast("No period to forecast.")


def test_averages_and_last_values_are_projected_in_their_own_aggregation():
    rng = random.Random(7)
    rates = [40 + rng.gauss(0, 0.5) for _ in range(24)]
    result = forecast(rates, done=2, remaining=2, how=AVG, target=42, tolerance=10)
    assert 39 < result.value < 41
    assert result.status == Status.AT_RISK  # within 10 % under 42
    assert result.p_on_target < 0.05
    assert result.p_within_tolerance > 0.95
    assert result.needed_per_period == pytest.approx((42 * 4 - sum(rates[-2:])) / 2)
    users = [1_000.0 + 10 * week for week in range(20)]
    last = forecast(users, remaining=4, how=LAST, target=1_250)
    assert last.value == pytest.approx(1_230, abs=5)
    assert last.needed_per_period == 1_250


def test_lower_is_better_reads_the_chance_the_other_way():
    rng = random.Random(2)
    churn = [2.0 + rng.gauss(0, 0.05) for _ in range(30)]
    assert forecast(churn, how=AVG, target=2.5, direction=LOWER).p_on_target > 0.99
    assert forecast(churn, how=AVG, target=1.5, direction=LOWER).p_on_target < 0.01


def test_a_seasonal_series_is_forecast_by_its_season():
    season = [10.0, 30.0, 20.0, 50.0]
    rng = random.Random(3)
    history = [value + rng.gauss(0, 0.3) for _ in range(4) for value in season]
    result = forecast(history, remaining=2, how=LAST, season=4)  # the value two weeks on: the season's second
    assert result.method == "seasonal naive"
    assert result.value == pytest.approx(30, abs=1)


@pytest.mark.parametrize(
    ("history", "reason"),
    [
        ([5.0], "Not enough history: 1 value, 8 needed."),
        ([1.0, None, 2.0, None, 3.0, 4.0, 5.0], "Not enough history: 5 values, 8 needed."),
        ([1.0, float("nan"), float("inf")] + [2.0] * 6, "Not enough history: 7 values, 8 needed."),
    ],
)
def test_too_little_history_gives_a_reason_not_a_number(history, reason):
    assert forecast(history) == NoForecast(reason)


def test_never_further_ahead_than_twice_the_history():
    assert forecast([1.0] * 8, remaining=17).reason.startswith("Too far ahead")
    assert forecast([1.0] * 8, remaining=3).reason == "Not enough history to test a forecast this far ahead."


def test_gaps_outliers_and_a_changed_target_still_give_finite_figures():
    rng = random.Random(5)
    history = [100 + rng.gauss(0, 3) if week % 5 else None for week in range(40)]
    history[21] = 1e5  # someone typed three zeros too many
    result = forecast(history, done=1, remaining=3, how=SUM, target=400)
    assert isinstance(result, Forecast)
    assert finite(result)
    assert 0 <= result.p_on_target <= 1
    assert result.high_95 - result.low_95 < 200  # one typo does not blow up every interval
    assert result.history_used == 32  # the gaps skipped


def test_the_80_and_95_percent_intervals_cover_about_that_often():
    rng = random.Random(11)
    inside_80 = inside_95 = trials = 0
    for _ in range(300):
        level, step = rng.uniform(50, 150), rng.uniform(-1, 1)
        series = [level + step * week + rng.gauss(0, 5) for week in range(34)]
        result = forecast(series[:30], remaining=4, how=SUM)
        truth = aggregate(series[30:], SUM)
        trials += 1
        inside_80 += result.low_80 <= truth <= result.high_80
        inside_95 += result.low_95 <= truth <= result.high_95
    assert 0.70 <= inside_80 / trials <= 0.90
    assert 0.88 <= inside_95 / trials <= 0.99
