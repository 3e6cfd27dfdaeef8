"""Which values, targets and periods can be true: pure functions, one source for every write path.

The product page's form, the admin (through the models' ``clean``), the CSV imports and the services
(``portfolio.kpis.services.measurement_record``) all ask these, so each refuses the same input with the same
message (docs/kpis.md, "Valid values and periods").
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from portfolio.periods import period_start

# period that cannot be true is refused the same way by the form, the admin, the CSV import and the services.
# --------------------------------------------------------------------------------------------------

PERCENT_UNIT = "%"
MONEY_UNITS = frozenset({"€", "$", "£"})
#: No value is stored beyond this size (a float keeps 15 significant digits; beyond it a typo, not a KPI).
VALUE_LIMIT = 1e15


@dataclass(frozen=True)
class ValidRange:
    """The values a KPI can take: ``low`` and ``high`` inclusive, None for no bound."""

    low: float | None
    high: float | None

    def __contains__(self, value: float) -> bool:
        if not math.isfinite(value) or abs(value) > VALUE_LIMIT:
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def words(self, unit: str = "") -> str:
        """“0% to 100%”, “at least €0”, “-100 NPS to 100 NPS”."""

        def amount(number: float) -> str:
            if unit in MONEY_UNITS:
                return f"{'-' if number < 0 else ''}{unit}{abs(number):g}"
            return f"{number:g}{unit}" if unit == PERCENT_UNIT else f"{number:g} {unit}".rstrip()

        if self.low is not None and self.high is not None:
            return f"{amount(self.low)} to {amount(self.high)}"
        if self.low is not None:
            return f"at least {amount(self.low)}"
        if self.high is not None:
            return f"at most {amount(self.high)}"
        return "any number"


def default_range(unit: str) -> ValidRange:
    """A KPI without its own bounds: a percentage lies in 0 to 100; anything else (money, counts, durations) is
    not negative. A KPI that may go below zero (a net score, a growth rate) sets its own minimum."""
    return ValidRange(0.0, 100.0) if unit.strip() == PERCENT_UNIT else ValidRange(0.0, None)


def valid_range(*, unit: str, min_value: float | None, max_value: float | None) -> ValidRange:
    """The KPI's own bounds where it has them, the unit's default for the others."""
    default = default_range(unit)
    return ValidRange(
        default.low if min_value is None else min_value, default.high if max_value is None else max_value
    )


def range_problem(*, min_value: float | None, max_value: float | None) -> str | None:
    """What is wrong with a KPI's own bounds, or None."""
    for bound in (min_value, max_value):
        if bound is not None and (not math.isfinite(bound) or abs(bound) > VALUE_LIMIT):
            return "Enter bounds no larger than 10^15."
    if min_value is not None and max_value is not None and min_value >= max_value:
        return f"The minimum ({min_value:g}) must be below the maximum ({max_value:g})."
    return None


def value_problem(
    value: float, *, kpi_name: str, unit: str, valid: ValidRange, what: str = "value"
) -> str | None:
    """Why ``value`` cannot be a value (or target) of the KPI, or None when it can."""
    if not math.isfinite(value):
        return f"Enter a number for the {what}."
    if value in valid:
        return None
    return f"{value:g} is not a possible {what} of {kpi_name}: it must be {valid.words(unit)}."


FREQUENCY_NOUNS = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}


def period_problem(period: dt.date, *, frequency: str, today: dt.date) -> str | None:
    """Why no value can be recorded for the period that starts on ``period``, or None. The current period
    (to date) is open; a later one has not begun. ``today`` is the local date (settings.TIME_ZONE)."""
    current = period_start(today, frequency)
    if period > current:
        noun = FREQUENCY_NOUNS.get(frequency, "period")
        return (
            f"The {noun} of {period:%-d %b %Y} has not begun: the latest that can be recorded is the current "
            f"{noun}, which starts on {current:%-d %b %Y}."
        )
    if period.year < 1900:
        return f"{period.isoformat()} is out of range: check the year."
    return None
