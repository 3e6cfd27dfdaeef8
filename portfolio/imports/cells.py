"""Reading one CSV cell: numbers, dates, choices and money, with the messages a person reads."""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Iterable
from decimal import Decimal

from portfolio.strategy.rules import BudgetInvalid
from portfolio.strategy.rules import parse_money as rules_parse_money

# Beyond this a number is almost surely a paste error (a date or an id in the value column).
VALUE_LIMIT = 1e15


# --------------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell's value is wrong; the message says how to fix it."""


def parse_number(text: str, *, required: bool = True) -> float | None:
    """A finite number within ±10^15, written with a dot for decimals and no thousands separators."""
    if not text:
        if required:
            raise CellError("A number is required here.")
        return None
    try:
        number = float(text)
    except ValueError:
        hint = ""
        if "," in text:
            hint = " Write numbers without thousands separators and with a dot for decimals (1234.5)."
        elif text.endswith("%"):
            hint = " Leave out the % sign."
        raise CellError(f"“{text}” is not a number.{hint}") from None
    if not math.isfinite(number):
        raise CellError(f"“{text}” is not a finite number.")
    if abs(number) > VALUE_LIMIT:
        raise CellError(
            f"{text} is out of range: values are at most ±10^15 (a date or an id in this column?)."
        )
    return number


def parse_date(text: str) -> dt.date:
    if not text:
        raise CellError("A date is required here (YYYY-MM-DD).")
    try:
        return dt.date.fromisoformat(text[:10] if text.endswith(("T00:00:00", " 00:00:00")) else text)
    except ValueError:
        raise CellError(f"“{text}” is not a date: write it as YYYY-MM-DD, e.g. 2026-03-02.") from None


def parse_choice(text: str, choices: type, noun: str) -> str:
    """A stored choice value; its label (any case) is accepted too."""
    lowered = text.lower()
    for value, label in choices.choices:
        if lowered in (value, label.lower()):
            return value
    if not text:
        raise CellError(f"A {noun} is required here.")
    allowed = ", ".join(choices.values)
    raise CellError(f"“{text}” is not a {noun}: use one of {allowed}.")


def parse_money(text: str) -> Decimal | None:
    """An amount (``portfolio.strategy.rules.parse_money``, the forms' rule); blank means no change (None)."""
    if not text:
        return None
    try:
        return rules_parse_money(text)
    except BudgetInvalid as error:
        raise CellError(str(error)) from None


def unknown_message(noun: str, text: str, known: Iterable[str]) -> str:
    if not text:
        return f"The {noun} is missing."
    close = difflib.get_close_matches(text, list(known), n=1, cutoff=0.75)
    hint = f" Did you mean “{close[0]}”?" if close else ""
    return f"Unknown {noun} “{text}”.{hint}"


def duplicate_message(first_line: int, key: str) -> str:
    return f"Duplicate row: line {first_line} has the same {key}. Keep one of them."
