"""The batch forecast (portfolio.kpis.forecast.batch) is forecast_period row by row: the same reason where there
is no forecast, the same method, every number equal to 1e-9, over random series of every kind and length and
every shape of period."""

import math

import numpy as np
import pytest

from portfolio.choices import Direction, TimeAggregation
from portfolio.kpis.forecast.batch import forecast_batch
from portfolio.kpis.forecast.methods import METHODS
from portfolio.kpis.forecast.projection import Forecast, forecast_period

SUM, AVG, LAST = TimeAggregation.SUM, TimeAggregation.AVG, TimeAggregation.LAST
HIGHER, LOWER = Direction.HIGHER, Direction.LOWER
NUMBERS = (
    "value",
    "low_80",
    "high_80",
    "low_95",
    "high_95",
    "p_on_target",
    "p_within_tolerance",
    "needed_per_period",
    "backtest_error",
)


def series(rng: np.random.Generator, kind: str, length: int) -> list[float]:
    week = np.arange(length)
    if kind == "trend":
        values = 100 + rng.uniform(-3, 3) * week + rng.normal(0, 5, length)
    elif kind == "season 4":
        values = 50 + 20 * np.sin(2 * np.pi * week / 4) + rng.normal(0, 1, length)
    elif kind == "season 52":
        values = 500 + 200 * np.sin(2 * np.pi * week / 52) + rng.normal(0, 10, length)
    elif kind == "constant":
        values = np.full(length, 3.7)
    elif kind == "outlier":
        values = 100 + rng.normal(0, 3, length)
        values[length // 2] = 1e5  # someone typed three zeros too many
    else:  # a random walk
        values = 20 + rng.normal(0, 1, length).cumsum()
    return values.tolist()


def some_targets(rng: np.random.Generator, histories, how: str, size: int) -> list[float | None]:
    """None for every third row; else near where the period could land (so no probability is always 0 or 1)."""
    targets = []
    for row, history in enumerate(histories):
        level = float(np.mean(history[-4:]))
        guess = level * size if how == SUM else level
        targets.append(None if row % 3 == 0 else guess * rng.uniform(0.8, 1.2))
    return targets


def assert_same_as_one_by_one(histories, targets, **shape):
    batch = forecast_batch(histories=histories, targets=targets, **shape)
    singles = [
        forecast_period(history=history, target=target, **shape)
        for history, target in zip(histories, targets, strict=True)
    ]
    ok = [isinstance(single, Forecast) for single in singles]
    assert batch.ok.tolist() == ok
    assert batch.reason == ["" if isinstance(s, Forecast) else s.reason for s in singles]
    assert batch.method == [s.method if isinstance(s, Forecast) else "" for s in singles]
    assert batch.status == [s.status if isinstance(s, Forecast) else "" for s in singles]
    for name in NUMBERS:
        expected = [
            math.nan if not isinstance(s, Forecast) or getattr(s, name) is None else getattr(s, name)
            for s in singles
        ]
        np.testing.assert_allclose(getattr(batch, name), expected, rtol=1e-9, atol=1e-9, err_msg=name)
    expected_reached = [
        -1 if not isinstance(s, Forecast) or s.reached_after is None else s.reached_after for s in singles
    ]
    assert batch.reached_after.tolist() == expected_reached
    assert batch.history_used.tolist() == [s.history_used if isinstance(s, Forecast) else 0 for s in singles]
    assert batch.origins.tolist() == [s.origins if isinstance(s, Forecast) else 0 for s in singles]
    return batch


KINDS = ("trend", "season 4", "constant", "outlier", "walk")
LENGTHS = (5, 7, 8, 9, 20, 52, 104)


@pytest.mark.parametrize("how", [SUM, AVG, LAST])
def test_random_series_of_every_kind_and_length_in_one_batch(how):
    rng = np.random.default_rng(16)
    histories = [series(rng, kind, length) for length in LENGTHS for kind in KINDS for _ in range(2)]
    targets = some_targets(rng, histories, how, 5)
    batch = assert_same_as_one_by_one(
        histories,
        targets,
        done=1,
        remaining=4,
        time_aggregation=how,
        direction=HIGHER,
        tolerance=10,
        season=4,
    )
    chosen = {"", *METHODS}  # every method somewhere: the equality is not vacuous
    if how == LAST:  # the value 4 weeks on, a season on from the last value: seasonal naive ties naive
        chosen.remove("seasonal naive")
    assert set(batch.method) == chosen


def test_a_yearly_season_on_two_years_and_more():
    rng = np.random.default_rng(52)
    histories = [series(rng, kind, length) for length in (52, 108, 120) for kind in ("season 52", "walk")]
    histories += [series(rng, "season 52", 120) for _ in range(6)]
    batch = assert_same_as_one_by_one(
        histories,
        some_targets(rng, histories, SUM, 5),
        done=1,
        remaining=4,
        time_aggregation=SUM,
        direction=HIGHER,
        tolerance=10,
        season=52,
    )
    assert "seasonal naive" in batch.method


@pytest.mark.parametrize("how", [SUM, AVG, LAST])
@pytest.mark.parametrize("direction", [HIGHER, LOWER])
@pytest.mark.parametrize(
    ("done", "remaining"),
    [(0, 1), (0, 13), (4, 9), (13, 0), (2, 40)],  # 2/40 is too far ahead for the shorter rows
)
def test_every_shape_of_period(how, direction, done, remaining):
    rng = np.random.default_rng(done * 100 + remaining)
    histories = [series(rng, kind, length) for length in (8, 20, 30, 52) for kind in KINDS]
    assert_same_as_one_by_one(
        histories,
        some_targets(rng, histories, how, done + remaining),
        done=done,
        remaining=remaining,
        time_aggregation=how,
        direction=direction,
        tolerance=10,
        season=4,
    )


@pytest.mark.parametrize("how", [SUM, AVG, LAST])
@pytest.mark.parametrize("direction", [HIGHER, LOWER])
@pytest.mark.parametrize(
    ("ahead", "remaining"),
    [(1, 4), (6, 13), (13, 13), (9, 40)],  # the next month or quarter; 9/40 is too far for the shorter rows
)
def test_a_period_that_begins_ahead_of_the_history(how, direction, ahead, remaining):
    rng = np.random.default_rng(ahead * 100 + remaining)
    histories = [series(rng, kind, length) for length in (8, 20, 30, 52) for kind in KINDS]
    assert_same_as_one_by_one(
        histories,
        some_targets(rng, histories, how, remaining),
        done=0,
        remaining=remaining,
        ahead=ahead,
        time_aggregation=how,
        direction=direction,
        tolerance=10,
        season=4,
    )


def test_ties_go_to_the_simpler_method():
    histories = [[3.7] * 30, [1.0, 2.0, 3.0, 4.0] * 8, [10.0 + 5 * week for week in range(30)]]
    batch = assert_same_as_one_by_one(
        histories,
        [None, 12.0, 600.0],
        done=1,
        remaining=4,
        time_aggregation=SUM,
        direction=HIGHER,
        tolerance=10,
        season=4,
    )
    assert batch.method == ["naive", "seasonal naive", "drift"]  # constant: every method ties, naive first


def test_a_target_reached_during_the_period():
    history = [100.0] * 20
    batch = assert_same_as_one_by_one(
        [history] * 3,
        [250.0, 500.0, 50.0],
        done=1,
        remaining=4,
        time_aggregation=SUM,
        direction=HIGHER,
        tolerance=10,
    )
    assert batch.reached_after.tolist() == [2, 4, 0]


@pytest.mark.parametrize(
    ("history", "done", "remaining", "how", "reason"),
    [
        ([5.0], 0, 4, SUM, "Not enough history: 1 value, 8 needed."),
        ([1.0] * 7, 0, 4, SUM, "Not enough history: 7 values, 8 needed."),
        ([1.0] * 8, 9, 1, SUM, "No period to forecast."),
        ([1.0] * 8, 0, 0, SUM, "No period to forecast."),
        ([1.0] * 8, 0, 17, SUM, "Too far ahead: never more than twice the history's length."),
        ([1.0] * 8, 0, 3, SUM, "Not enough history to test a forecast this far ahead."),
        ([1e308, -1e308] * 5, 0, 1, LAST, "The history gives no usable forecast."),
    ],
)
def test_no_forecast_gives_forecast_periods_reason(history, done, remaining, how, reason):
    rows = [history, [float(week) for week in range(30)]]  # next to a row with a forecast
    batch = assert_same_as_one_by_one(
        rows,
        [None, 40.0],
        done=done,
        remaining=remaining,
        time_aggregation=how,
        direction=HIGHER,
        tolerance=10,
    )
    assert batch.reason[0] == reason
    assert not batch.ok[0]
    assert math.isnan(batch.value[0])


def test_gaps_and_values_that_are_not_numbers_are_skipped_as_forecast_period_does():
    rng = np.random.default_rng(5)
    history = series(rng, "walk", 40)
    gappy = [value if week % 5 else None for week, value in enumerate(history)]
    broken = [*history[:20], math.nan, math.inf, *history[20:]]
    assert_same_as_one_by_one(
        [history, gappy, broken],
        [None, 100.0, 100.0],
        done=1,
        remaining=3,
        time_aggregation=SUM,
        direction=HIGHER,
        tolerance=10,
        season=4,
    )


def test_an_array_of_histories_is_one_batch():
    rng = np.random.default_rng(8)
    histories = np.array([series(rng, "trend", 52) for _ in range(20)])
    from_array = forecast_batch(
        histories=histories,
        targets=[None] * 20,
        done=1,
        remaining=4,
        time_aggregation=SUM,
        direction=HIGHER,
        tolerance=10,
    )
    from_lists = assert_same_as_one_by_one(
        histories.tolist(),
        [None] * 20,
        done=1,
        remaining=4,
        time_aggregation=SUM,
        direction=HIGHER,
        tolerance=10,
    )
    np.testing.assert_array_equal(from_array.value, from_lists.value)
    assert from_array.method == from_lists.method
