"""Numbers in the admin with their thousands grouped ("2,010,207.50"), without ``USE_THOUSAND_SEPARATOR``.

Django's admin writes a number field as ``number_format(value, decimal_places)``, which groups thousands only when
``USE_THOUSAND_SEPARATOR`` is on. That setting is project-wide: it would group the numbers of the app's pages too,
where numbers go into URLs, CSV, form values, data attributes and JSON. So the admin groups its own columns: a
list's money and count columns are ``NumberColumn``\\ s, which sort by their field like the plain column did, and
a read-only number on a change page is a ``NumberColumn`` under another name (the admin shows a model field's own
name with Django's formatting). Edit forms are untouched: their inputs show and accept plain numbers
(``2010207.50``), as the app's forms do. docs/ARCHITECTURE.md ("Formats").
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.formats import number_format


def grouped(value: Decimal | float | int | None, places: int | None = None) -> str | None:
    """``value`` with its thousands grouped in the language's format and ``places`` decimals. Without ``places`` a
    decimal keeps its stored places and a float shows to 12 significant digits, none when whole (a sum of floats
    stored as ``4403379.219999999`` reads ``4,403,379.22``; ``100.0`` reads ``100``). None stays None, so the admin
    shows its empty value."""
    if value is None:
        return None
    if places is None and isinstance(value, float):
        value = float(f"{value:.12g}")
        if value.is_integer():
            value = int(value)
    return number_format(value, decimal_pos=places, force_grouping=True)


class NumberColumn:
    """A ``list_display`` or ``readonly_fields`` entry showing the number field ``field_name`` grouped.

    ``NumberColumn("planned")`` sorts by ``planned`` (``ordering``, default the field), is headed by ``description``
    (default the field's name in words, as Django heads a field) and keeps the field's name for its cells' CSS
    class (``field-planned``). A decimal field keeps its stored places (``2,010,207.50``), a float its significant
    digits (``grouped``), unless ``places`` says how many decimals.
    """

    def __init__(
        self,
        field_name: str,
        description: str | None = None,
        *,
        ordering: str | None = None,
        places: int | None = None,
    ) -> None:
        self.field_name = field_name
        self.__name__ = field_name  # the admin's CSS class for the column: field-<name>
        self.short_description = description or field_name.replace("_", " ")
        self.admin_order_field = ordering or field_name
        self.places = places

    def __call__(self, obj: models.Model) -> str | None:
        return grouped(getattr(obj, self.field_name), self.places)

    def __repr__(self) -> str:
        return f"NumberColumn({self.field_name!r})"
