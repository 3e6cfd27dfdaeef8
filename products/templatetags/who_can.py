"""``{% load who_can %}``: the sentences of ``products.who_can`` for templates, where a control is missing."""

from django import template

from products import who_can

register = template.Library()

register.filter("who_can_edit", who_can.who_can_edit)
register.filter("who_can_record", who_can.who_can_record)
register.filter("who_can_plan", who_can.who_can_plan)


@register.simple_tag
def money_access() -> str:
    return who_can.MONEY_ACCESS
