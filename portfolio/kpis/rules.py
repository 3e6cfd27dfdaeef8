"""KPI rules as pure functions: a value's status against its target and tolerance, a gap to target. Which
values, targets and periods can be true is ``portfolio.validity``'s (below the models, whose ``clean`` asks it)."""

from __future__ import annotations

from portfolio.choices import Direction, Status
from products.choices import Health

# --------------------------------------------------------------------------------------------------
# Pure rules
# --------------------------------------------------------------------------------------------------


def rollup_status(*, value: float, target: float | None, direction: str, tolerance: float) -> str:
    """On target, at risk (within tolerance % of the target) or off target; no target without one."""
    if target is None:
        return Status.NO_TARGET
    if direction == "lower":
        if value <= target:
            return Status.ON_TARGET
        if value <= target * (1 + tolerance / 100):
            return Status.AT_RISK
        return Status.OFF_TARGET
    if value >= target:
        return Status.ON_TARGET
    if value >= target * (1 - tolerance / 100):
        return Status.AT_RISK
    return Status.OFF_TARGET


HEALTH_BY_SEVERITY = {0: Health.NO_DATA, 1: Health.ON_TARGET, 2: Health.AT_RISK, 3: Health.OFF_TARGET}
SEVERITY_OF_HEALTH = {health: severity for severity, health in HEALTH_BY_SEVERITY.items()}
# Worse is bigger. "No target" is not on this scale: a change to or from it is never called worse.
STATUS_SEVERITY = {Status.ON_TARGET: 1, Status.AT_RISK: 2, Status.OFF_TARGET: 3}


def product_gap(*, value: float, target: float | None, direction: str) -> float | None:
    """How far a value falls short of its target in the KPI's direction (negative: better than target)."""
    if target is None:
        return None
    return value - target if direction == Direction.LOWER else target - value
