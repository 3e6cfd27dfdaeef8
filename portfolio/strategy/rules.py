"""Strategy rules as pure functions (docs/strategy.md): burn against plan, RICE and WSJF scores and their valid
ranges, the currency, and the refusals the strategy services raise.

Burn against plan:
- plan to date = the planned money of the quarters that have ended, plus the current quarter's planned money
  prorated by the days elapsed in it. variance = actual - plan to date.
- status from actual / plan to date: above 110 % over plan, above 105 % at risk, below 80 % under plan, else
  on plan; no plan to date and no spend is "no plan", spend without a plan is over plan.

Prioritization:
- RICE = reach x impact x (confidence / 100) / effort   (reach per quarter, effort in person-months)
- WSJF = (business value + time criticality + risk reduction) / job size
Both are rounded half-up to two decimals. Inputs are validated against the ranges in ``RANGES``; a value
outside raises ``ScoreInvalid`` with one readable message per field, and nothing is saved.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.conf import settings

from portfolio.periods import add_quarters

if TYPE_CHECKING:
    from portfolio.models import PlanChange

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
OVER_PLAN = Decimal("1.10")
AT_RISK = Decimal("1.05")
UNDER_PLAN = Decimal("0.80")


class BudgetInvalid(ValueError):
    pass


# ---------------------------------------------------------------------------------------------------------
# Burn against plan (pure)
# ---------------------------------------------------------------------------------------------------------


def elapsed_fraction(quarter: dt.date, today: dt.date) -> Decimal:
    """How much of ``quarter`` has passed on ``today``: 0 before it, 1 after it, the share of days within."""
    end = add_quarters(quarter, 1)
    if today < quarter:
        return Decimal(0)
    if today >= end:
        return Decimal(1)
    return Decimal((today - quarter).days) / Decimal((end - quarter).days)


def plan_to_date(*, ended: Decimal, current: Decimal, fraction: Decimal) -> Decimal:
    return (ended + current * fraction).quantize(CENT, rounding=ROUND_HALF_UP)


def burn_status(*, plan_to_date: Decimal, actual: Decimal) -> str:
    """on_plan, at_risk, over_plan, under_plan or no_plan (thresholds in the module docstring).."""
    if plan_to_date <= 0:
        return "over_plan" if actual > 0 else "no_plan"
    ratio = actual / plan_to_date
    if ratio > OVER_PLAN:
        return "over_plan"
    if ratio > AT_RISK:
        return "at_risk"
    if ratio < UNDER_PLAN:
        return "under_plan"
    return "on_plan"


BURN_LABELS = {
    "on_plan": "On plan",
    "at_risk": "Over by 5-10%",
    "over_plan": "Over plan",
    "under_plan": "Under plan",
    "no_plan": "No plan",
}
# Colours of the shared status badges (status_badge.html / spm.css) for each burn status.
BURN_BADGE = {
    "on_plan": "on_target",
    "at_risk": "at_risk",
    "over_plan": "off_target",
    "under_plan": "no_target",
    "no_plan": "no_data",
}


#: The largest amount a money field stores (14 digits, 2 decimals).
MONEY_MAX = Decimal("999999999999.99")
_PLAIN_AMOUNT = re.compile(r"\d+(\.\d+)?")
_GROUPED_AMOUNT = re.compile(r"\d{1,3}(,\d{3})+(\.\d+)?")


def parse_money(raw: object) -> Decimal:
    """An amount of money as a person types it, the one rule for every way in (forms, admin, CSV import):
    digits with an optional decimal point, thousands grouped by commas or not (``1250000``, ``1,250,000.50``);
    zero or more, at most 2 decimals, at most ``MONEY_MAX``. Anything else raises ``BudgetInvalid`` with a
    message that quotes the input; nothing is rounded or guessed (``125,50`` is refused: read as a decimal
    comma it is 125.50, as a separator 12,550)."""
    text = str(raw).strip()
    if _GROUPED_AMOUNT.fullmatch(text):
        text = text.replace(",", "")
    if text.startswith("-") and _PLAIN_AMOUNT.fullmatch(text[1:].replace(",", "")):
        raise BudgetInvalid(f"{raw} is out of range: amounts cannot be negative.")
    if not _PLAIN_AMOUNT.fullmatch(text):
        raise BudgetInvalid(
            f"“{raw}” is not an amount: write it like 125000.50 or 125,000.50, without a currency sign."
        )
    value = Decimal(text)
    if value != value.quantize(CENT):
        raise BudgetInvalid(f"{raw} has more than 2 decimals.")
    if value > MONEY_MAX:
        raise BudgetInvalid(f"{raw} is out of range: amounts go up to {MONEY_MAX:,}.")
    return value.quantize(CENT)


IMPACT_CHOICES = (Decimal("0.25"), Decimal("0.5"), Decimal("1"), Decimal("2"), Decimal("3"))
IMPACT_LABELS = {
    Decimal("0.25"): "minimal",
    Decimal("0.5"): "low",
    Decimal("1"): "medium",
    Decimal("2"): "high",
    Decimal("3"): "massive",
}
# The modified Fibonacci scale of SAFe's WSJF estimates.
FIBONACCI = (1, 2, 3, 5, 8, 13, 20)
RICE_FIELDS = ("reach", "impact", "confidence", "effort")
WSJF_FIELDS = ("business_value", "time_criticality", "risk_reduction", "job_size")
SCORE_FIELDS = RICE_FIELDS + WSJF_FIELDS
RANGES = {
    "reach": "a whole number from 0 to 100,000,000 (people or events per quarter)",
    "impact": "one of 0.25, 0.5, 1, 2, 3",
    "confidence": "a whole percentage from 0 to 100",
    "effort": "person-months, more than 0 and at most 10,000",
    "business_value": "one of 1, 2, 3, 5, 8, 13, 20",
    "time_criticality": "one of 1, 2, 3, 5, 8, 13, 20",
    "risk_reduction": "one of 1, 2, 3, 5, 8, 13, 20",
    "job_size": "one of 1, 2, 3, 5, 8, 13, 20",
}
MAX_REACH = 100_000_000
MAX_EFFORT = Decimal("10000")


class ScoreInvalid(ValueError):
    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in problems.items()))
        self.problems = problems


def rice_score(*, reach: int, impact: Decimal, confidence: int, effort: Decimal) -> Decimal:
    """Reach x impact x confidence% / effort, to the cent. Effort must be positive."""
    value = Decimal(reach) * Decimal(impact) * Decimal(confidence) / Decimal(100) / Decimal(effort)
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def wsjf_score(*, business_value: int, time_criticality: int, risk_reduction: int, job_size: int) -> Decimal:
    """Cost of delay (business value + time criticality + risk reduction) over job size, to the cent."""
    cost_of_delay = Decimal(business_value + time_criticality + risk_reduction)
    return (cost_of_delay / Decimal(job_size)).quantize(CENT, rounding=ROUND_HALF_UP)


def validate_scores(values: dict[str, object]) -> dict[str, object]:
    """The eight inputs checked against ``RANGES`` and normalised (ints, Decimals); raises ``ScoreInvalid``."""
    problems: dict[str, str] = {}
    clean: dict[str, object] = {}
    for name in SCORE_FIELDS:
        raw = values.get(name)
        try:
            number = Decimal(str(raw).strip())
        except (ArithmeticError, ValueError):
            problems[name] = f"must be {RANGES[name]}"
            continue
        if not number.is_finite():
            problems[name] = f"must be {RANGES[name]}"
            continue
        if name == "impact":
            ok = number in IMPACT_CHOICES
            clean[name] = number.quantize(CENT)
        elif name == "effort":
            ok = Decimal(0) < number <= MAX_EFFORT
            clean[name] = number.quantize(CENT, rounding=ROUND_HALF_UP)
            ok = ok and clean[name] > 0
        elif name == "reach":
            ok = number == number.to_integral_value() and 0 <= number <= MAX_REACH
            clean[name] = int(number) if ok else None
        elif name == "confidence":
            ok = number == number.to_integral_value() and 0 <= number <= 100
            clean[name] = int(number) if ok else None
        else:
            ok = number == number.to_integral_value() and int(number) in FIBONACCI
            clean[name] = int(number) if ok else None
        if not ok:
            problems[name] = f"must be {RANGES[name]}"
    if problems:
        raise ScoreInvalid(problems)
    return clean


def scores_for(values: dict[str, object]) -> tuple[Decimal, Decimal]:
    """(RICE, WSJF) of validated inputs."""
    return (
        rice_score(**{name: values[name] for name in RICE_FIELDS}),
        wsjf_score(**{name: values[name] for name in WSJF_FIELDS}),
    )


RANKINGS = {"rice": "RICE", "wsjf": "WSJF"}


class AlignmentInvalid(ValueError):
    pass


class ScenarioRefused(ValueError):
    """A change the scenario cannot take (not a draft, a line of another scenario, a bad value)."""


class LivePlanChanged(Exception):
    """The live plan of the scenario's scope changed after the copy; approving needs a confirmation."""

    def __init__(self, *, changes: list[PlanChange], conflicts: list[dict], version: int) -> None:
        super().__init__(f"The live plan changed {len(changes)} time(s) since this scenario was copied.")
        self.changes = changes
        self.conflicts = conflicts
        self.version = version


#: Symbols of the currencies people type; another ISO code is shown as the code and a space.
CURRENCY_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF ", "INR": "₹"}


def currency_code() -> str:
    """The ISO code of the one currency every money figure is in (``settings.SPM_CURRENCY``, read when called)."""
    return getattr(settings, "SPM_CURRENCY", "EUR")


def currency_symbol() -> str:
    code = currency_code()
    return CURRENCY_SYMBOLS.get(code, f"{code} ")
