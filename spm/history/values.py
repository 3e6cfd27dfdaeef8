"""Stored values as a person reads them, for history entries and conflict messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.text import Truncator

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
EMPTY = "(empty)"

#: Display names of related rows, by (model, primary key).
Names = Mapping[tuple[type[models.Model], Any], str]


# --------------------------------------------------------------------------------------------------
# Values as a person reads them
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChange:
    """One field's change, ready to print: ``label: old → new`` (``old`` is empty for a created row)."""

    field: str
    label: str
    old: str
    new: str


def describe_value(model_field: models.Field, value: Any, names: Names | None = None) -> str:
    """A stored value as text: choice labels, related rows by name, money with two decimals, local dates."""
    if value is None or value == "":
        return EMPTY
    if model_field.is_relation:
        return (names or {}).get((model_field.related_model, value)) or f"#{value} (removed)"
    if model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.datetime):
        return local_time(value)
    if isinstance(value, dt.date):
        return date_format(value, "j M Y")
    return f"“{Truncator(str(value)).chars(80)}”"


def local_time(value: dt.datetime) -> str:
    return date_format(timezone.localtime(value), "j M Y, H:i")


def field_label(model_field: models.Field) -> str:
    label = str(model_field.verbose_name)
    return label[:1].upper() + label[1:]


def related_names(refs: Mapping[type[models.Model], set[Any]]) -> dict[tuple[type[models.Model], Any], str]:
    """Names of related rows, one query per related model (rows since deleted are simply missing)."""
    names: dict[tuple[type[models.Model], Any], str] = {}
    for model, pks in refs.items():
        pks = {pk for pk in pks if pk is not None}
        if pks:
            names.update(((model, row.pk), str(row)) for row in model._base_manager.filter(pk__in=pks))
    return names


def _collect_refs(
    refs: dict[type[models.Model], set[Any]], record: models.Model, field_names: Iterable[str]
) -> None:
    opts = record._meta
    for name in field_names:
        model_field = opts.get_field(name)
        if model_field.is_relation:
            refs[model_field.related_model].add(getattr(record, model_field.attname))
