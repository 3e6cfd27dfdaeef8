"""A period's forecast in the KPI's own periods, for a trend chart that plots native values (docs/kpis.md,
"Forecasts").

A stored forecast is the whole period's value (a quarter's total, average or last value); a product's trend chart
plots weeks or months. Placing a quarter's total among weekly values would read as one huge week, so the chart
shows what the forecast means for the periods still to come:

- ``sum`` and ``avg``: the level the remaining periods average if the period ends on the forecast. The period's
  value is linear in that average (``sum``: recorded + remaining * level; ``avg``: (recorded + remaining * level)
  / periods), so each end of a range maps to an end of the level's range exactly: the band is the range of the
  remaining periods' average, flat over them.
- ``last``: the period's value is its last period's: the band widens from the latest value to the forecast's
  ranges at the period's end (a fan; only its end is a stated forecast).

Pure functions, no database.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

from portfolio.choices import Grain, TimeAggregation
from portfolio.periods import period_end

RANGES = ("low_95", "low_80", "value", "high_80", "high_95")


@dataclass(frozen=True)
class NativeOutlook:
    """The forecast over the native periods still to come (``periods``, oldest first). ``level`` and the ranges
    are per native period: the remaining periods' average (``fan`` False), or the last period's value
    (``fan`` True, reached from ``start`` at the latest recorded period)."""

    periods: list[dt.date]
    level: float
    low_80: float
    high_80: float
    low_95: float
    high_95: float
    fan: bool
    start: float | None = None  # the latest recorded value, where a fan starts


def native_outlook(
    *,
    forecast,
    known: Sequence[float],
    last_period: dt.date | None,
    frequency: str,
    time_aggregation: str,
    start: float | None = None,
) -> NativeOutlook | None:
    """The outlook of a stored forecast (``ProductForecast``: value, ranges, ``done``, ``remaining``) whose
    period's recorded values are ``known`` (the last ``done`` of the series) and whose series ends at
    ``last_period`` with the value ``start``. None when there is nothing to come (no forecast, or a complete
    period)."""
    if forecast is None or forecast.value is None or not forecast.remaining or last_period is None:
        return None
    if forecast.grain == Grain.NATIVE:
        return None
    remaining = int(forecast.remaining)
    periods, day = [], last_period
    for _ in range(remaining):
        day = period_end(day, Grain.NATIVE, frequency)
        periods.append(day)
    recorded = math.fsum(known)
    count = len(known) + remaining

    def level(period_value: float) -> float:
        if time_aggregation == TimeAggregation.SUM:
            return (period_value - recorded) / remaining
        if time_aggregation == TimeAggregation.AVG:
            return (period_value * count - recorded) / remaining
        return period_value

    low_95, low_80, value, high_80, high_95 = (level(getattr(forecast, name)) for name in RANGES)
    return NativeOutlook(
        periods=periods,
        level=value,
        low_80=low_80,
        high_80=high_80,
        low_95=low_95,
        high_95=high_95,
        fan=time_aggregation not in (TimeAggregation.SUM, TimeAggregation.AVG),
        start=start,
    )
