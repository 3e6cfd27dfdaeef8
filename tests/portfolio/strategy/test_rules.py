"""Money as people type it: one rule for the forms, the admin and the CSV import."""

from decimal import Decimal

import pytest

from portfolio.strategy.rules import BudgetInvalid, parse_money


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("125000", Decimal("125000.00")),
        ("125000.5", Decimal("125000.50")),
        (" 1,250,000.50 ", Decimal("1250000.50")),
        ("0", Decimal("0.00")),
        ("999,999,999,999.99", Decimal("999999999999.99")),
    ],
)
def test_an_amount_is_read_exactly(typed, amount):
    assert parse_money(typed) == amount


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (
            "125,50",
            "“125,50” is not an amount: write it like 125000.50 or 125,000.50, without a currency sign.",
        ),
        ("€5", "“€5” is not an amount: write it like 125000.50 or 125,000.50, without a currency sign."),
        ("1e5", "“1e5” is not an amount: write it like 125000.50 or 125,000.50, without a currency sign."),
        (
            "12,34,567",
            "“12,34,567” is not an amount: write it like 125000.50 or 125,000.50, without a currency sign.",
        ),
        ("", "“” is not an amount: write it like 125000.50 or 125,000.50, without a currency sign."),
        ("-5", "-5 is out of range: amounts cannot be negative."),
        ("-1,000", "-1,000 is out of range: amounts cannot be negative."),
        ("1.234", "1.234 has more than 2 decimals."),
        ("1000000000000", "1000000000000 is out of range: amounts go up to 999,999,999,999.99."),
    ],
)
def test_a_careless_amount_is_refused_with_a_message_quoting_it(typed, message):
    with pytest.raises(BudgetInvalid) as refusal:
        parse_money(typed)
    assert str(refusal.value) == message
