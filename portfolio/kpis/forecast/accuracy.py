"""How accurate the forecasts are, published rather than assumed: hide the last periods of each series, forecast
them from what came before, compare (``manage.py forecast_backtest``, docs/kpis.md "Forecasts").

Per series: the absolute percentage error of the forecast of the hidden periods (in the KPI's time aggregation)
and of the naive forecast (the last value stays), and whether the truth fell inside the 80 % and 95 % intervals.
Per KPI: the mean of those errors, the share of series where the forecast did at least as well as naive, and
the measured coverage of each interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from portfolio.kpis.forecast.projection import Forecast, aggregate, forecast_period

SEASONS = {"weekly": 52, "monthly": 12, "quarterly": 4}  # a KPI frequency's season, in its own periods


@dataclass(frozen=True)
class SeriesCheck:
    error: float  # absolute percentage error of the forecast, in %
    naive_error: float
    inside_80: bool
    inside_95: bool


@dataclass(frozen=True)
class KPIAccuracy:
    name: str
    series: int
    skipped: int  # series without a forecast (too short)
    mape: float
    naive_mape: float
    at_least_naive: float  # share of series (0-1) where the forecast erred no more than naive
    coverage_80: float
    coverage_95: float


def _percent_error(projected: float, actual: float, scale: float) -> float:
    return 100 * abs(projected - actual) / (abs(actual) if actual else scale or 1.0)


def check_series(
    values: Sequence[float], *, hidden: int, time_aggregation: str, frequency: str
) -> SeriesCheck | None:
    """Forecast the last ``hidden`` values from the ones before; None when the rest is too short to forecast."""
    past, future = list(values[:-hidden]), list(values[-hidden:])
    result = forecast_period(
        history=past,
        done=0,
        remaining=hidden,
        time_aggregation=time_aggregation,
        target=None,
        direction="higher",
        tolerance=0,
        season=SEASONS.get(frequency, 0),
    )
    if not isinstance(result, Forecast):
        return None
    truth = aggregate(future, time_aggregation)
    naive = aggregate([past[-1]] * hidden, time_aggregation)
    scale = math.fsum(abs(v) for v in values) / len(values)
    return SeriesCheck(
        error=_percent_error(result.value, truth, scale),
        naive_error=_percent_error(naive, truth, scale),
        inside_80=result.low_80 <= truth <= result.high_80,
        inside_95=result.low_95 <= truth <= result.high_95,
    )


def kpi_accuracy(name: str, checks: Iterable[SeriesCheck | None]) -> KPIAccuracy | None:
    checks = list(checks)
    done = [check for check in checks if check is not None]
    if not done:
        return None
    count = len(done)
    return KPIAccuracy(
        name=name,
        series=count,
        skipped=len(checks) - count,
        mape=math.fsum(c.error for c in done) / count,
        naive_mape=math.fsum(c.naive_error for c in done) / count,
        at_least_naive=sum(c.error <= c.naive_error + 1e-9 for c in done) / count,
        coverage_80=sum(c.inside_80 for c in done) / count,
        coverage_95=sum(c.inside_95 for c in done) / count,
    )
