"""Optimistic concurrency on a ``version`` column, and a conflicted form's input carried over onto the
latest save."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.db import models
from django.db.models import F
from django.http import QueryDict

from spm.history.values import FieldChange, describe_value, field_label, local_time, related_names

# --------------------------------------------------------------------------------------------------
# Edit conflicts: the version column
# --------------------------------------------------------------------------------------------------


def version_claim(*, model: type[models.Model], pk: Any, expected: int) -> bool:
    """Move a row's version on from ``expected``, in one statement:
    ``UPDATE … SET version = version + 1 WHERE id = %s AND version = %s``.

    False (nothing written) when someone saved the row since ``expected`` was read.
    """
    return model._base_manager.filter(pk=pk, version=expected).update(version=F("version") + 1) == 1


class EditConflict(Exception):
    """Someone saved a row after the editor loaded it, so the row's version moved on.

    ``changes``: with ``since_loaded``, what changed between the version the editor loaded and the current
    one (old → new, from the history); without (the loaded version has no history row, e.g. seeded data), the
    current values that differ from the editor's input. ``loaded_values``: the stored values of the loaded
    version by field name (None without ``since_loaded``). ``saved_by`` and ``saved_at`` name the latest save.
    """

    def __init__(
        self,
        *,
        current: models.Model,
        changes: list[FieldChange],
        since_loaded: bool,
        loaded_values: dict[str, Any] | None = None,
        saved_by: Any = None,
        saved_at: dt.datetime | None = None,
    ) -> None:
        self.current = current
        self.changes = changes
        self.since_loaded = since_loaded
        self.loaded_values = loaded_values if since_loaded else None
        self.saved_by = saved_by
        self.saved_at = saved_at
        super().__init__(self.message())

    @property
    def noun(self) -> str:
        return f"this {self.current._meta.verbose_name}"

    def summary(self) -> str:
        """``Name changed “A” → “B”; Market changed B2B → B2C`` (or the current values, see the class)."""
        if self.since_loaded:
            return "; ".join(f"{c.label} changed {c.old} → {c.new}" for c in self.changes)
        return "; ".join(f"{c.label} is now {c.new}" for c in self.changes)

    def message(self) -> str:
        """One paragraph for a form's error list (the admin's)."""
        who = f" ({self.saved_by or 'someone'}, {local_time(self.saved_at)})" if self.saved_at else ""
        text = f"Someone else saved {self.noun} while you were editing{who}"
        summary = self.summary()
        if summary:
            text += f": {summary}."
        else:
            text += ", without changing the fields shown here."
        if self.since_loaded:
            return text + (
                " Your changes are kept, and the fields you had not changed now show the saved values:"
                " review them and save again to apply your changes on top of the latest version."
            )
        return text + " Your input is kept as typed: review it and save again to apply it on top."


def edit_conflict(
    *,
    current: models.Model,
    loaded_version: int,
    fields: Iterable[str],
    submitted: Mapping[str, Any] | None = None,
    error: type[EditConflict] = EditConflict,
) -> EditConflict:
    """The conflict between an edit loaded at ``loaded_version`` and the row as it is now (``current``).

    The loaded state comes from the history row of that version; when there is none, ``submitted`` (the
    editor's input) stands in, and the conflict lists the current values that differ from it. ``error`` is the
    exception class to build (a model's own subclass).
    """
    fields = [name for name in fields if name != "version"]
    opts = current._meta
    history = getattr(current, opts.simple_history_manager_attribute).order_by("-history_date", "-history_id")
    latest = history.select_related("history_user").first()
    loaded = history.filter(version=loaded_version).first()
    compared: list[tuple[models.Field, Any, Any]] = []
    for name in fields:
        model_field = opts.get_field(name)
        now = getattr(current, model_field.attname)
        if loaded is not None:
            then = getattr(loaded, model_field.attname)
        elif submitted is not None and name in submitted:
            then = submitted[name]
            then = then.pk if isinstance(then, models.Model) else then
        else:
            continue
        if then != now:
            compared.append((model_field, then, now))
    refs: dict[type[models.Model], set[Any]] = defaultdict(set)
    for model_field, then, now in compared:
        if model_field.is_relation:
            refs[model_field.related_model].update((then, now))
    names = related_names(refs)
    changes = [
        FieldChange(
            model_field.name,
            field_label(model_field),
            describe_value(model_field, then, names),
            describe_value(model_field, now, names),
        )
        for model_field, then, now in compared
    ]
    return error(
        current=current,
        changes=changes,
        since_loaded=loaded is not None,
        loaded_values=(
            {name: getattr(loaded, opts.get_field(name).attname) for name in fields} if loaded else None
        ),
        saved_by=latest.history_user if latest else None,
        saved_at=latest.history_date if latest else None,
    )


def rebased_data(form: forms.BaseForm, conflict: EditConflict) -> tuple[QueryDict, list[tuple[str, str]]]:
    """A conflicted form's input on top of the latest save, to bind again: the current version, and for each
    field someone else changed that this editor left as loaded, the value saved meanwhile; the editor's own
    edits stay. Also returns a note per changed field (field name, text) to show beside it.

    Without the loaded values (no history row of that version) or for a multi-part widget (a split date and
    time), the editor's input stays as typed.
    """
    data = form.data.copy()
    data[form.add_prefix("version")] = str(conflict.current.version)
    notes = []
    for change in conflict.changes:
        if change.field not in form.fields:
            continue
        bound = form[change.field]
        untouched = (
            conflict.loaded_values is not None
            and not isinstance(bound.field.widget, forms.MultiWidget)
            and not bound.field.has_changed(conflict.loaded_values[change.field], bound.data)
        )
        if untouched:
            now = getattr(conflict.current, conflict.current._meta.get_field(change.field).attname)
            value = bound.field.prepare_value(now)
            data[form.add_prefix(change.field)] = "" if value is None else str(value)
            notes.append((change.field, f"Now the value saved meanwhile: {change.new} (was {change.old})."))
        else:
            notes.append((change.field, f"Saved meanwhile: {change.new}. The form keeps your input."))
    return data, notes
