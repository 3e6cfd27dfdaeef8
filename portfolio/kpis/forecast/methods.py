"""The candidate forecasting methods for one KPI series: each takes the history (oldest first, no gaps) and how
many periods ahead, and returns one point forecast per period, or None where it does not apply.

They are a few lines each, so plain Python rather than a library (docs/libraries.md): naive (the last value
stays), seasonal naive (the value a season ago; only with two full seasons of history), drift (the line from
the first value to the last, extended) and Holt's damped trend (exponential smoothing of level and trend, the
trend fading by ``PHI`` a period; its smoothing weights chosen from a small grid by one-step-ahead error on the
history). ``projection`` tries each on the series' own past and keeps the one that would have erred least.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Method = Callable[[Sequence[float], int, int], list[float] | None]

PHI = 0.9  # how much of the trend is left after a period: the forecast levels off instead of running away
ALPHAS = (0.2, 0.5, 0.8)  # weight of the newest value in the level
BETAS = (0.05, 0.2)  # weight of the newest change in the trend


def naive(history: Sequence[float], steps: int, season: int) -> list[float]:
    return [history[-1]] * steps


def seasonal_naive(history: Sequence[float], steps: int, season: int) -> list[float] | None:
    if season < 2 or len(history) < 2 * season:
        return None
    start = len(history) - season
    return [history[start + step % season] for step in range(steps)]


def drift(history: Sequence[float], steps: int, season: int) -> list[float]:
    slope = (history[-1] - history[0]) / (len(history) - 1)
    return [history[-1] + slope * (step + 1) for step in range(steps)]


def _damped_run(history: Sequence[float], alpha: float, beta: float) -> tuple[float, float, float]:
    """Level and trend after the history, and the sum of squared one-step-ahead errors on the way."""
    level, trend = history[0], history[1] - history[0]
    squared = 0.0
    for value in history[1:]:
        expected = level + PHI * trend
        squared += (value - expected) ** 2
        previous = level
        level = alpha * value + (1 - alpha) * expected
        trend = beta * (level - previous) + (1 - beta) * PHI * trend
    return level, trend, squared


def damped_trend(history: Sequence[float], steps: int, season: int) -> list[float] | None:
    if len(history) < 4:
        return None
    level, trend, _ = min(
        (_damped_run(history, alpha, beta) for alpha in ALPHAS for beta in BETAS), key=lambda run: run[2]
    )
    forecasts, damping = [], 0.0
    for step in range(steps):
        damping += PHI ** (step + 1)
        forecasts.append(level + damping * trend)
    return forecasts


#: In order of simplicity: on a tie in the backtest the simpler method wins.
METHODS: dict[str, Method] = {
    "naive": naive,
    "seasonal naive": seasonal_naive,
    "drift": drift,
    "damped trend": damped_trend,
}
