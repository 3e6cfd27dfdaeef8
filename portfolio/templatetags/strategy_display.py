"""Strategy pages in templates: money in the configured currency (``settings.SPM_CURRENCY``): ``{{ amount|money }}`` gives
``€1,250,000``, ``{{ amount|money_compact }}`` gives ``€1.3M``, ``{{ amount|money_signed }}`` gives ``+€12,000``.
Amounts are Decimals; nothing here turns them into floats except the compact form's rounding for display."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from portfolio.periods import quarter_label
from portfolio.strategy.rules import currency_code, currency_symbol

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


@register.filter
def money(value, places: int = 0) -> str:
    amount = _decimal(value)
    if amount is None:
        return "\u2013"
    places = int(places)
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency_symbol()}{abs(amount):,.{places}f}"


@register.filter
def money_signed(value) -> str:
    amount = _decimal(value)
    if amount is None:
        return "\u2013"
    return ("+" if amount > 0 else "") + money(amount)


@register.filter
def money_compact(value) -> str:
    amount = _decimal(value)
    if amount is None:
        return "\u2013"
    sign = "-" if amount < 0 else ""
    amount = abs(amount)
    for limit, suffix in ((Decimal("1e9"), "B"), (Decimal("1e6"), "M"), (Decimal("1e3"), "k")):
        if amount >= limit:
            scaled = (amount / limit).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            return f"{sign}{currency_symbol()}{scaled.normalize():f}{suffix}"
    return f"{sign}{currency_symbol()}{amount.quantize(Decimal(1)):f}"


@register.simple_tag
def currency() -> str:
    return currency_code()


@register.filter
def plain_number(value) -> str:
    """A Decimal for an input's value attribute: no grouping, no exponent."""
    amount = _decimal(value)
    return "" if amount is None else f"{amount:f}"


@register.filter
def dict_get(mapping, key):
    """``mapping[key]`` in a template (None when missing)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter(name="quarter_label")
def quarter_label_filter(day) -> str:
    """``{{ line.quarter|quarter_label }}``: “Q4 2026”."""
    return quarter_label(day) if day else ""
