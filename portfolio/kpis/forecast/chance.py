"""A stored forecast read against another target than its own: a key result's (docs/kpis.md, "Forecasts").

A forecast's ``p_on_target`` is the chance against the target it was stored with (the product's, or the scope's
rollup target). A key result sets its own target for the objective's scope, which may be higher or lower: the
chance against it comes from the same forecast, its value and spread, the spread read back from the 95 % range
(``spread = (high_95 - value) / 1.96``) and the error taken as normal, as the forecast's own chance is. Pure
functions, no database.
"""

from __future__ import annotations

import math

from portfolio.choices import Direction, TimeAggregation
from portfolio.kpis.forecast.projection import Z_95


def period_target(target: float, *, time_aggregation: str, native_periods: int) -> float:
    """A target set per native period (a key result's, as its rollup is read: the latest week's value) as the
    target of a whole period of ``native_periods`` of them: a ``sum`` KPI adds up its periods (100 a week is
    1,300 a 13-week quarter); an average or a last value keeps its target."""
    if time_aggregation == TimeAggregation.SUM:
        return target * native_periods
    return target


def chance_of_target(*, value: float, high_95: float, target: float, direction: str) -> float:
    """P(the period ends on the good side of ``target``): the value ~ Normal(``value``, spread), the spread from
    the 95 % range. Without a spread (a complete period) the answer is 1 or 0."""
    spread = (high_95 - value) / Z_95
    if not math.isfinite(spread) or spread <= 0:
        good = value <= target if direction == Direction.LOWER else value >= target
        return 1.0 if good else 0.0
    below = 0.5 * (1 + math.erf((target - value) / spread / math.sqrt(2)))
    return below if direction == Direction.LOWER else 1 - below
