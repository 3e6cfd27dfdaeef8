"""Template filters for the Import menu item (the rule is ``products.permissions.can_import``)."""

from django import template

from products.permissions import can_import

register = template.Library()


@register.filter
def may_import(user) -> bool:
    """Whether to show the Import menu item: by role, without a query."""
    return can_import(user)
