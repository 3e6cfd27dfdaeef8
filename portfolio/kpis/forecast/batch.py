"""The forecasts of many series in one vectorised pass: a recompute forecasts every product's KPIs at every grain
(some 60,000 series), and ``forecast_period`` at about 2 ms a series would take two minutes of it (docs/kpis.md,
"Forecasts").

Row ``i`` of the result is ``forecast_period`` of row ``i`` of the histories, the same method chosen and every
number equal to 1e-9 (tests/portfolio/kpis/test_forecast_batch.py); only the sums differ in their last bits, as
numpy adds where ``math.fsum`` rounds once. The series are grouped by length, and a group is computed as arrays
of rows x backtest origins: the origins are the same for every series of one length, and so is everything but the
values (which methods apply, the reasons without a forecast). The damped trend's state after ``history[:o]`` is a
prefix of one run over the whole row, so one pass over time per smoothing pair gives every origin's state.

Rows the vectorised pass cannot be trusted with go to ``forecast_period`` one by one: gaps or values that are not
finite numbers (it skips them, which changes the length), and arithmetic that overflows (its reasons and errors).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np

from portfolio.choices import Direction, TimeAggregation
from portfolio.kpis.forecast.methods import ALPHAS, BETAS, METHODS, PHI
from portfolio.kpis.forecast.projection import (
    MAX_ORIGINS,
    MIN_HISTORY,
    NAIVE_MARGIN,
    Z_80,
    Z_95,
    Forecast,
    NoForecast,
    _first_origin,
    forecast_period,
)
from portfolio.kpis.rules import rollup_status

_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math's own keeps the probabilities bit-equal


@dataclass(frozen=True)
class BatchForecast:
    """Per row of the input; arrays of length n. Where a row has no forecast (``ok`` false) its numbers are NaN,
    ``reached_after`` -1, ``history_used`` and ``origins`` 0."""

    ok: np.ndarray  # bool: a forecast exists
    reason: list[str]  # "" where ok, else forecast_period's NoForecast reason
    method: list[str]  # "" where not ok
    value: np.ndarray
    low_80: np.ndarray
    high_80: np.ndarray
    low_95: np.ndarray
    high_95: np.ndarray
    status: list[str]  # as Forecast.status; "" where not ok
    p_on_target: np.ndarray  # NaN where forecast_period gives None
    p_within_tolerance: np.ndarray
    needed_per_period: np.ndarray
    reached_after: np.ndarray  # int, -1 where None
    history_used: np.ndarray  # int
    origins: np.ndarray  # int
    backtest_error: np.ndarray


def forecast_batch(
    *,
    histories: Sequence[Sequence[float]],
    done: int,
    remaining: int,
    time_aggregation: str,
    targets: Sequence[float | None],
    direction: str,
    tolerance: float,
    season: int = 0,
    ahead: int = 0,
) -> BatchForecast:
    """``forecast_period`` of every row of ``histories`` (finite values without gaps, oldest first; any lengths),
    with its own target; the period's shape (and how far ``ahead`` it begins), the KPI's aggregation, direction,
    tolerance and season shared."""
    if len(targets) != len(histories):
        raise ValueError(f"{len(histories)} histories but {len(targets)} targets.")
    shape = {
        "done": done,
        "remaining": remaining,
        "time_aggregation": time_aggregation,
        "direction": direction,
        "tolerance": tolerance,
        "season": season,
        "ahead": ahead,
    }
    out = _Columns(len(histories))
    target = np.array([math.nan if t is None else float(t) for t in targets], dtype=float)
    for length, rows in _by_length(histories):
        reason = _length_reason(length, shape)
        if reason:
            out.reason[rows] = reason
            continue
        x = _matrix(histories, rows)
        regular = np.isfinite(x).all(axis=1)
        rows_left = rows[~regular]
        if regular.any():
            rows_here = rows[regular]
            with np.errstate(all="ignore"):  # an overflowing row is not trusted, and redone below
                trusted = _forecast_rows(x[regular], rows_here, target[rows_here], targets, shape, out)
            rows_left = np.concatenate([rows_left, rows_here[~trusted]])
        for i in rows_left.tolist():
            result = forecast_period(history=histories[i], target=targets[i], **shape)
            out.put(i, result)
    return out.frozen()


def _by_length(histories) -> list[tuple[int, np.ndarray]]:
    """The row numbers of each length (most rows share one: then a single group, in input order)."""
    if isinstance(histories, np.ndarray) and histories.ndim == 2:
        return [(histories.shape[1], np.arange(len(histories)))]
    groups = defaultdict(list)
    for i, history in enumerate(histories):
        groups[len(history)].append(i)
    return [(length, np.array(rows, dtype=np.intp)) for length, rows in groups.items()]


def _matrix(histories, rows: np.ndarray) -> np.ndarray:
    if len(rows) == len(histories):
        return np.asarray(histories, dtype=float).reshape(len(rows), -1)
    return np.array([histories[i] for i in rows.tolist()], dtype=float).reshape(len(rows), -1)


def _length_reason(length: int, shape: dict) -> str:
    """Why no series of this length has a forecast ("" when they may have one). These reasons depend on the
    length and the period's shape alone, so forecast_period says them once for the group, on a flat series."""
    done, remaining, ahead = shape["done"], shape["remaining"], shape["ahead"]
    last = length - ahead - remaining
    start = max(_first_origin(length, done, remaining, shape["season"], ahead), last - MAX_ORIGINS + 1)
    if not (
        length < MIN_HISTORY
        or done > length
        or done < 0
        or remaining < 0
        or done + remaining == 0
        or ahead < 0
        or (ahead and done)
        or ahead + remaining > 2 * length
        or start > last
    ):
        return ""
    result = forecast_period(history=[0.0] * length, target=None, **shape)
    assert isinstance(result, NoForecast), f"a series of {length} values has a forecast after all"
    return result.reason


def _forecast_rows(x, rows, target, targets, shape, out) -> np.ndarray:
    """Forecast the rows of ``x`` (one length, finite) into ``out``; False where a row overflowed somewhere, to be
    left to forecast_period."""
    count, length = x.shape
    done, remaining, how = shape["done"], shape["remaining"], shape["time_aggregation"]
    season, direction, tolerance = shape["season"], shape["direction"], shape["tolerance"]
    ahead = shape["ahead"]
    last = length - ahead - remaining
    start = max(_first_origin(length, done, remaining, season, ahead), last - MAX_ORIGINS + 1)
    # The backtest origins, then the whole history: the last column is the forecast itself.
    cut = np.append(np.arange(start, last + 1), length)
    size = done + remaining
    known = [x[:, cut - done + j] for j in range(done)]
    known_total = _running_sum(known)
    projected, finals = {}, {}
    for name in METHODS:
        future = _FUTURES[name](x, cut, ahead + remaining, season) if remaining else []
        if future is None:
            continue  # the method does not apply at the first origin, so not to this series (as in _backtest)
        future = future[ahead:]
        projected[name] = _period(known_total, known[-1] if known else None, future, how, size)
        finals[name] = [step[:, -1] for step in future]
    actual = _period(
        None if known_total is None else known_total[:, :-1],
        known[-1][:, :-1] if known else None,
        [x[:, cut[:-1] + ahead + step] for step in range(remaining)],
        how,
        size,
    )
    errors = {name: np.abs(values[:, :-1] - actual) for name, values in projected.items()}
    mean_error = {name: error.sum(axis=1) / error.shape[1] for name, error in errors.items()}

    # min(errors, key=errors.get): the first smallest in METHODS' order; then naive unless clearly beaten.
    names = list(projected)
    chosen = np.zeros(count, dtype=np.intp)
    best = mean_error[names[0]]
    for number, name in enumerate(names[1:], start=1):
        better = mean_error[name] < best
        chosen = np.where(better, number, chosen)
        best = np.where(better, mean_error[name], best)
    back_to_naive = best > (1 - NAIVE_MARGIN) * mean_error["naive"]
    chosen = np.where(back_to_naive, names.index("naive"), chosen)

    every = np.arange(count)
    error = np.stack([errors[name] for name in names])[chosen, every]
    value = np.stack([projected[name][:, -1] for name in names])[chosen, every]
    spread = _spread(error)
    trusted = np.isfinite(value) & np.isfinite(spread) & np.isfinite(actual).all(axis=1)
    for values in projected.values():
        trusted &= np.isfinite(values).all(axis=1)
    if remaining == 0:
        spread = np.zeros(count)  # the period is complete: its value is known

    has_target = ~np.isnan(target)
    lower = direction == Direction.LOWER
    edge = target * (1 + tolerance / 100) if lower else target * (1 - tolerance / 100)
    p_on = np.where(has_target, _probability_at_least(target, value, spread, lower), np.nan)
    p_within = np.where(has_target, _probability_at_least(edge, value, spread, lower), np.nan)
    known_now = np.zeros(count) if known_total is None else known_total[:, -1]  # fsum([]) is 0.0
    if remaining == 0:
        needed = np.full(count, np.nan)
    elif how == TimeAggregation.SUM:
        needed = (target - known_now) / remaining
    elif how == TimeAggregation.AVG:
        needed = (target * (done + remaining) - known_now) / remaining
    else:
        needed = target.copy()
    reached = np.full(count, -1)
    if how == TimeAggregation.SUM and not lower:
        steps = np.stack([np.stack(finals[name]) for name in names])[chosen, :, every] if remaining else []
        total = known_now
        reached[total >= target] = 0
        for step in range(remaining):
            total = total + steps[:, step]
            reached[(reached < 0) & (total >= target)] = step + 1

    here = rows[trusted]
    value, spread = value[trusted], spread[trusted]
    out.ok[here] = True
    out.reason[here] = ""
    out.method[here] = np.array(names, dtype=object)[chosen[trusted]]
    out.value[here] = value
    out.low_80[here] = value - Z_80 * spread
    out.high_80[here] = value + Z_80 * spread
    out.low_95[here] = value - Z_95 * spread
    out.high_95[here] = value + Z_95 * spread
    out.status[here] = [
        rollup_status(value=v, target=targets[i], direction=direction, tolerance=tolerance)
        for v, i in zip(value.tolist(), here.tolist(), strict=True)
    ]
    out.p_on_target[here] = p_on[trusted]
    out.p_within_tolerance[here] = p_within[trusted]
    out.needed_per_period[here] = needed[trusted]
    out.reached_after[here] = reached[trusted]
    out.history_used[here] = length
    out.origins[here] = len(cut) - 1
    out.backtest_error[here] = _mape(error[trusted], actual[trusted])
    return trusted


def _running_sum(terms):
    """The terms added left to right (None for none): the same terms give the same total bit for bit, so
    methods that project alike tie exactly, as they do with math.fsum."""
    total = None
    for term in terms:
        total = term if total is None else total + term
    return total


def _period(known_total, known_last, future, how, size):
    """The period's value at every origin (aggregate(known + future, how), as arrays)."""
    if how == TimeAggregation.SUM:
        return _running_sum([known_total, *future] if known_total is not None else future)
    if how == TimeAggregation.AVG:
        return _running_sum([known_total, *future] if known_total is not None else future) / size
    return future[-1] if future else known_last


def _naive(x, cut, steps, season):
    return [x[:, cut - 1]] * steps


def _seasonal_naive(x, cut, steps, season):
    if season < 2 or cut[0] < 2 * season:
        return None
    return [x[:, cut - season + step % season] for step in range(steps)]


def _drift(x, cut, steps, season):
    newest = x[:, cut - 1]
    slope = (newest - x[:, :1]) / (cut - 1)
    return [newest + slope * (step + 1) for step in range(steps)]


def _damped_trend(x, cut, steps, season):
    if cut[0] < 4:
        return None
    level, trend = _damped_states(x, cut)
    forecasts, damping = [], 0.0
    for step in range(steps):
        damping += PHI ** (step + 1)
        forecasts.append(level + damping * trend)
    return forecasts


_FUTURES = {  # methods.METHODS as arrays: each row's future after each origin, one array per step ahead
    "naive": _naive,
    "seasonal naive": _seasonal_naive,
    "drift": _drift,
    "damped trend": _damped_trend,
}


def _damped_states(x, cut):
    """methods._damped_run for every smoothing pair over every row at once, in its arithmetic order; the state
    after each origin's past (a prefix of the run) of the pair with the smallest squared error so far (the first
    on a tie, as min)."""
    count, length = x.shape
    alpha = np.repeat(ALPHAS, len(BETAS))[:, None]  # the pairs in the order of "for alpha ... for beta ..."
    beta = np.tile(BETAS, len(ALPHAS))[:, None]
    keep_alpha, keep_trend = 1 - alpha, (1 - beta) * PHI
    columns = x.T.copy()
    level = np.repeat(columns[:1], len(alpha), axis=0)
    trend = np.repeat(columns[1:2] - columns[:1], len(alpha), axis=0)
    squared = np.zeros_like(level)
    at = {int(past): column for column, past in enumerate(cut)}
    levels, trends = np.empty((count, len(cut))), np.empty((count, len(cut)))
    for t in range(1, length):
        value = columns[t]
        expected = level + PHI * trend
        squared += (value - expected) ** 2
        previous = level
        level = alpha * value + keep_alpha * expected
        trend = beta * (level - previous) + keep_trend * trend
        if t + 1 in at:
            pick = np.zeros(count, dtype=np.intp)
            best = squared[0]
            for pair in range(1, len(alpha)):
                better = squared[pair] < best
                pick = np.where(better, pair, pick)
                best = np.where(better, squared[pair], best)
            every = np.arange(count)
            levels[:, at[t + 1]] = level[pick, every]
            trends[:, at[t + 1]] = trend[pick, every]
    return levels, trends


def _spread(errors: np.ndarray) -> np.ndarray:
    """projection._spread per row: 1.4826 x the median error bounds which errors count in their RMS."""
    errors = np.sort(errors, axis=1)
    origins = errors.shape[1]
    middle = origins // 2
    median = errors[:, middle] if origins % 2 else (errors[:, middle - 1] + errors[:, middle]) / 2
    robust = 1.4826 * median
    kept = errors <= 5 * robust[:, None]
    kept[~kept.any(axis=1)] = True
    squares = np.where(kept, errors * errors, 0.0)
    return np.maximum(robust, np.sqrt(squares.sum(axis=1) / kept.sum(axis=1)))


def _mape(errors: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """projection._mape per row: an actual of zero is compared with the mean size of the actuals."""
    origins = actual.shape[1]
    scale = np.abs(actual).sum(axis=1) / origins
    scale[scale == 0] = 1.0
    size = np.where(actual != 0, np.abs(actual), scale[:, None])
    return 100 * (errors / size).sum(axis=1) / origins


def _probability_at_least(threshold, centre, spread, lower: bool) -> np.ndarray:
    """projection._probability_at_least per row (NaN where there is no threshold)."""
    good = centre <= threshold if lower else centre >= threshold
    result = good.astype(float)
    live = (spread > 0) & ~np.isnan(threshold)
    z = (threshold[live] - centre[live]) / spread[live]
    below = 0.5 * (1 + _erf(z / math.sqrt(2)).astype(float))
    result[live] = below if lower else 1 - below
    return result


class _Columns:
    """The result being filled in: arrays by row, the texts as object arrays until frozen into lists."""

    def __init__(self, count: int):
        self.ok = np.zeros(count, dtype=bool)
        for name in ("reason", "method", "status"):
            setattr(self, name, np.full(count, "", dtype=object))
        for name in ("value", "low_80", "high_80", "low_95", "high_95", "p_on_target", "p_within_tolerance"):
            setattr(self, name, np.full(count, np.nan))
        self.needed_per_period = np.full(count, np.nan)
        self.backtest_error = np.full(count, np.nan)
        self.reached_after = np.full(count, -1)
        self.history_used = np.zeros(count, dtype=int)
        self.origins = np.zeros(count, dtype=int)

    def put(self, i: int, result: Forecast | NoForecast) -> None:
        """One row from forecast_period itself."""
        if isinstance(result, NoForecast):
            self.reason[i] = result.reason
            return
        self.ok[i] = True
        for field in fields(Forecast):
            number = getattr(result, field.name)
            if number is None:
                number = -1 if field.name == "reached_after" else math.nan
            getattr(self, field.name)[i] = number

    def frozen(self) -> BatchForecast:
        texts = {"reason", "method", "status"}
        return BatchForecast(
            **{
                field.name: getattr(self, field.name).tolist()
                if field.name in texts
                else getattr(self, field.name)
                for field in fields(BatchForecast)
            }
        )
