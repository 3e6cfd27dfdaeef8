"""Where a KPI will land at the end of its period: the method picked by backtest, the projected value in the KPI's
own time aggregation, 80 % and 95 % intervals from the backtest's errors (their spread estimated robustly), the chance of ending on target or
within tolerance, and the run-rate the rest of the period needs (docs/kpis.md, "Forecasts").

The question is always the same shape: ``done`` of the period's native periods are recorded (the tail of the
history), ``remaining`` are still to come; for a period that has not begun (the next one), ``ahead`` native
periods still to come lie between the history and the period. The backtest asks exactly that question at earlier points of the
series' own past (rolling origin): with the values before the origin, project a period of the same shape, and
compare with what came. The method whose projections erred least is chosen (over naive only if it erred at
least ``NAIVE_MARGIN`` less: on the demo that keeps 87 % of series at least as good as naive, against 77 % by the
smallest error alone, for 0.1 point more MAPE), and the spread of its errors gives
the intervals, so their coverage is what the backtest measured (``manage.py forecast_backtest`` publishes it).

Pure functions, no database: a value that is not a finite number never comes out (a stated reason instead).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from portfolio.choices import Direction, Status, TimeAggregation
from portfolio.kpis.forecast.methods import METHODS
from portfolio.kpis.rules import rollup_status

MIN_HISTORY = 8  # fewer values: "not enough history"
MIN_TRAINING = 6  # the shortest past a backtest origin projects from
MAX_ORIGINS = 20  # the latest origins only: the recent past says most about the near future
NAIVE_MARGIN = (
    0.10  # another method is chosen over naive only with a backtest error at least this much smaller
)
Z_80, Z_95 = 1.2816, 1.9600


@dataclass(frozen=True)
class NoForecast:
    reason: str


@dataclass(frozen=True)
class Forecast:
    method: str
    value: float  # the period's projected value, in the KPI's time aggregation
    low_80: float
    high_80: float
    low_95: float
    high_95: float
    status: str  # the projected value's status against the target
    p_on_target: float | None  # None without a target
    p_within_tolerance: float | None  # on target or at risk
    needed_per_period: float | None  # what each remaining period must bring for the target (None: done)
    reached_after: (
        int | None
    )  # remaining periods until a ``sum`` KPI reaches its target; None: not this period
    history_used: int
    origins: int  # backtest origins behind the method and the intervals
    backtest_error: float  # mean absolute percentage error of the chosen method's projections, in %


def aggregate(values: Sequence[float], time_aggregation: str) -> float:
    """A period's value from its native values: their sum, mean or last."""
    if time_aggregation == TimeAggregation.SUM:
        return math.fsum(values)
    if time_aggregation == TimeAggregation.AVG:
        return math.fsum(values) / len(values)
    return values[-1]


def _normal_cdf(x: float) -> float:
    return 0.5 * (1 + math.erf(x / math.sqrt(2)))


def _probability_at_least(threshold: float, centre: float, spread: float, direction: str) -> float:
    """P(the value ends on the good side of ``threshold``), the value ~ Normal(centre, spread)."""
    if spread <= 0:
        good = centre <= threshold if direction == Direction.LOWER else centre >= threshold
        return 1.0 if good else 0.0
    below = _normal_cdf((threshold - centre) / spread)
    return below if direction == Direction.LOWER else 1 - below


def _project(
    history: Sequence[float], method: str, done: int, remaining: int, season: int, how: str, ahead: int = 0
):
    """The period's value projected from ``history`` (its last ``done`` values are the period so far; or the
    period begins ``ahead`` periods after the history)."""
    known = list(history[len(history) - done :]) if done else []
    future = METHODS[method](history, ahead + remaining, season) if remaining else []
    if future is None:
        return None
    future = future[ahead:]
    return aggregate(known + future, how) if known or future else None


def _first_origin(count: int, done: int, remaining: int, season: int, ahead: int = 0) -> int:
    """The earliest backtest origin: enough past to project from, the period so far inside it, and two seasons
    where the series is long enough for the seasonal method to be tried at all (every method is tested on the
    same origins)."""
    first = max(MIN_TRAINING, done)
    if season >= 2 and count - ahead - remaining >= 2 * season:
        first = max(first, 2 * season)
    return first


def _backtest(
    history, method, first, done, remaining, season, how, ahead=0
) -> list[tuple[float, float]] | None:
    """(projected, actual) at each origin from ``first``; None if the method does not apply to this series."""
    pairs = []
    last = len(history) - ahead - remaining
    for origin in range(max(first, last - MAX_ORIGINS + 1), last + 1):
        past = history[:origin]
        projected = _project(past, method, done, remaining, season, how, ahead)
        if projected is None:
            return None
        period = list(past[len(past) - done :]) if done else []
        actual = aggregate(period + list(history[origin + ahead : origin + ahead + remaining]), how)
        pairs.append((projected, actual))
    return pairs


def _spread(pairs: Sequence[tuple[float, float]]) -> float:
    """The backtest errors' standard deviation, robust to an outlier typed into the history (a value 1,000 times
    too big must not widen every interval a thousandfold): 1.4826 times the median absolute error (the standard
    deviation for normal errors) bounds which errors count."""
    errors = sorted(abs(actual - projected) for projected, actual in pairs)
    middle = len(errors) // 2
    robust = 1.4826 * (errors[middle] if len(errors) % 2 else (errors[middle - 1] + errors[middle]) / 2)
    # The errors' own spread, without those beyond five robust deviations (the typo's): the tails of honest
    # errors stay in, so the intervals cover as often as they say (the median alone made them too narrow).
    kept = [error for error in errors if error <= 5 * robust] or errors
    return max(robust, math.sqrt(math.fsum(error * error for error in kept) / len(kept)))


def _mape(pairs: Sequence[tuple[float, float]]) -> float:
    """Mean absolute percentage error; an actual of zero is compared with the mean size of the actuals."""
    scale = math.fsum(abs(actual) for _, actual in pairs) / len(pairs) or 1.0
    return 100 * math.fsum(abs(p - a) / (abs(a) if a else scale) for p, a in pairs) / len(pairs)


def forecast_period(
    *,
    history: Sequence[float | None],
    done: int,
    remaining: int,
    time_aggregation: str,
    target: float | None,
    direction: str,
    tolerance: float,
    season: int = 0,
    ahead: int = 0,
) -> Forecast | NoForecast:
    """The forecast of the current period of one series. ``history``: the KPI's native values, oldest first,
    None for a period without one (skipped); its last ``done`` values are the current period so far. With
    ``ahead`` (and ``done`` 0), a later period: it begins ``ahead`` periods after the history's last."""
    values = [float(v) for v in history if v is not None and math.isfinite(float(v))]
    if len(values) < MIN_HISTORY:
        return NoForecast(
            f"Not enough history: {len(values)} value{'s' if len(values) != 1 else ''}, {MIN_HISTORY} needed."
        )
    if (
        done > len(values)
        or done < 0
        or remaining < 0
        or done + remaining == 0
        or ahead < 0
        or (ahead and done)
    ):
        return NoForecast("No period to forecast.")
    if ahead + remaining > 2 * len(values):
        return NoForecast("Too far ahead: never more than twice the history's length.")
    tried = {}
    first = _first_origin(len(values), done, remaining, season, ahead)
    for name in METHODS:
        pairs = _backtest(values, name, first, done, remaining, season, time_aggregation, ahead)
        if pairs:
            tried[name] = pairs
    if not tried:
        return NoForecast("Not enough history to test a forecast this far ahead.")
    errors = {name: math.fsum(abs(p - a) for p, a in pairs) / len(pairs) for name, pairs in tried.items()}
    method = min(errors, key=errors.get)
    if "naive" in errors and errors[method] > (1 - NAIVE_MARGIN) * errors["naive"]:
        method = "naive"  # a method that barely beats "the last value stays" on the past is not trusted ahead
    pairs = tried[method]
    value = _project(values, method, done, remaining, season, time_aggregation, ahead)
    spread = _spread(pairs)
    if value is None or not math.isfinite(value) or not math.isfinite(spread):
        return NoForecast("The history gives no usable forecast.")
    if remaining == 0:
        spread = 0.0  # the period is complete: its value is known
    p_on = p_within = None
    if target is not None:
        p_on = _probability_at_least(target, value, spread, direction)
        edge = (
            target * (1 + tolerance / 100) if direction == Direction.LOWER else target * (1 - tolerance / 100)
        )
        p_within = _probability_at_least(edge, value, spread, direction)
    known = values[len(values) - done :] if done else []
    return Forecast(
        method=method,
        value=value,
        low_80=value - Z_80 * spread,
        high_80=value + Z_80 * spread,
        low_95=value - Z_95 * spread,
        high_95=value + Z_95 * spread,
        status=rollup_status(value=value, target=target, direction=direction, tolerance=tolerance)
        if target is not None
        else Status.NO_TARGET,
        p_on_target=p_on,
        p_within_tolerance=p_within,
        needed_per_period=_needed(known, remaining, target, time_aggregation),
        reached_after=_reached_after(
            values, method, known, remaining, season, target, direction, time_aggregation, ahead
        ),
        history_used=len(values),
        origins=len(pairs),
        backtest_error=_mape(pairs),
    )


def _needed(known, remaining, target, how) -> float | None:
    """What each remaining period must bring for the period to end on its target."""
    if target is None or remaining == 0:
        return None
    if how == TimeAggregation.SUM:
        return (target - math.fsum(known)) / remaining
    if how == TimeAggregation.AVG:
        return (target * (len(known) + remaining) - math.fsum(known)) / remaining
    return target


def _reached_after(values, method, known, remaining, season, target, direction, how, ahead=0) -> int | None:
    """For a ``sum`` KPI that grows toward its target: after how many of the remaining periods the projected
    running total reaches it (0: already there); None when not this period."""
    if target is None or how != TimeAggregation.SUM or direction == Direction.LOWER:
        return None
    total = math.fsum(known)
    if total >= target:
        return 0
    for step, value in enumerate((METHODS[method](values, ahead + remaining, season) or [])[ahead:], start=1):
        total += value
        if total >= target:
            return step
    return None
