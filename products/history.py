"""Audit history and edit conflicts: the pieces every app shares.

django-simple-history writes a historical row (who, when, created / changed / deleted, every tracked field) on
each save and delete of Product, Membership, StageTransition, KPI, KPITarget and Measurement, whoever makes
it: views, services, the admin, commands. ``HistoryRequestMiddleware`` tells it who is signed in; without a
request (a command, an import) a model's ``get_user`` falls back to the row's own "who" field. Bulk writes
(``bulk_create``, ``bulk_update``, ``QuerySet.update``, raw SQL) bypass it: the demo seeder's data has no
history, nor does the product health the rollups store (see docs/history.md).

Here, in the bottom app (so no higher model is named):

- ``history_page``: the history rows of several models merged newest first, one page at a time, in a number of
  queries that does not grow with the history;
- ``describe_value`` and ``FieldChange``: stored values as a person reads them;
- ``version_claim``, ``EditConflict``, ``edit_conflict`` and ``rebased_data``: optimistic concurrency on a
  ``version`` column, and a conflicted form's input carried over onto the latest save.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import CharField, F, OuterRef, Q, QuerySet, Subquery, Value
from django.http import QueryDict
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.text import Truncator

ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
EMPTY = "(empty)"
#: Product fields a history entry or a conflict message shows, in the order of the product page.
PRODUCT_FIELDS = (
    "name",
    "slug",
    "description",
    "portfolio",
    "owner",
    "market",
    "focus",
    "stage",
    "stage_entered_at",
    "planned_budget",
    "actual_spend",
)
#: Shown only to people who may see the product's budget (``products.permissions.can_see_budget``).
MONEY_FIELDS = frozenset({"planned_budget", "actual_spend"})

#: Display names of related rows, by (model, primary key).
Names = Mapping[tuple[type[models.Model], Any], str]


def history_user_or(field_name: str) -> Callable[..., Any]:
    """A ``get_user`` for ``HistoricalRecords``: the signed-in user, or else (a command, an import) the person
    the row itself names, e.g. a measurement's ``recorded_by``."""

    def get_user(*, instance: models.Model, request: Any = None, **kwargs: Any) -> Any:
        if request is not None:
            return request.user
        return getattr(instance, field_name, None)

    return get_user


def history_model(model: type[models.Model]) -> type[models.Model]:
    """The historical model django-simple-history made for ``model``."""
    return getattr(model, model._meta.simple_history_manager_attribute).model


@contextmanager
def history_paused() -> Iterator[None]:
    """Record no history inside the block. Process-wide (django-simple-history reads the setting on each
    write): for bulk maintenance in a command, such as the demo seeder wiping the data it replaces, never for
    a request."""
    previous = getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
    settings.SIMPLE_HISTORY_ENABLED = False
    try:
        yield
    finally:
        settings.SIMPLE_HISTORY_ENABLED = previous


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


# --------------------------------------------------------------------------------------------------
# A page of history, merged across models
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistorySource:
    """One model's history rows that belong on a page, e.g. the measurements of one product.

    ``records`` is a queryset of the historical model; ``subject`` names a row for a person ("Revenue for
    5 Jan 2026") from a record and the names of related rows; ``fields`` are the fields a change shows, in
    order; ``subject_fields`` are foreign keys ``subject`` reads (their names are looked up with the rest);
    ``hidden`` are fields this reader may not see; ``labels`` replace fields' own labels ("kpi": "KPI").
    """

    kind: str
    records: QuerySet
    subject: Callable[[Any, Names], str]
    fields: tuple[str, ...]
    subject_fields: tuple[str, ...] = ()
    hidden: frozenset[str] = frozenset()
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded write: who, when, what, and for a change the fields with their old and new values.

    For a created row ``changes`` lists its first values (``old`` empty). ``earlier_unknown``: a change whose
    row has no earlier record (seeded data has no history), so only the new values are known.
    ``hidden_changes``: some changed fields are not shown to this reader.
    """

    kind: str
    action: str
    at: dt.datetime
    who: Any
    subject: str
    changes: tuple[FieldChange, ...] = ()
    hidden_changes: bool = False
    earlier_unknown: bool = False


@dataclass(frozen=True)
class HistoryPage:
    page: Page
    entries: list[HistoryEntry] = field(default_factory=list)


def history_page(sources: list[HistorySource], *, page: int | str | None, per_page: int = 25) -> HistoryPage:
    """One page of the sources' history, newest first.

    Queries: one count and one page of keys (a ``UNION ALL`` of the sources), then per source on the page its
    rows and their previous versions, then one per related model named: constant whatever the history's size.
    """
    keys = [
        source.records.order_by()
        .annotate(history_kind=Value(source.kind, output_field=CharField()))
        .values_list("history_kind", "history_id", "history_date")
        for source in sources
    ]
    merged = keys[0].union(*keys[1:], all=True).order_by("-history_date", "-history_id")
    current = Paginator(merged, per_page).get_page(page)

    by_kind = {source.kind: source for source in sources}
    ids: dict[str, list[int]] = defaultdict(list)
    for kind, history_id, _ in current.object_list:
        ids[kind].append(history_id)

    records: dict[tuple[str, int], Any] = {}
    previous: dict[tuple[str, int], Any] = {}
    refs: dict[type[models.Model], set[Any]] = defaultdict(set)
    for kind, history_ids in ids.items():
        source = by_kind[kind]
        rows = _with_previous_id(source.records.model).filter(history_id__in=history_ids)
        rows = list(rows.select_related("history_user"))
        wanted = [
            row.previous_history_id for row in rows if row.history_type == "~" and row.previous_history_id
        ]
        earlier = {row.history_id: row for row in source.records.model.objects.filter(history_id__in=wanted)}
        for row in rows:
            records[kind, row.history_id] = row
            _collect_refs(refs, row, (*source.fields, *source.subject_fields))
            if row.previous_history_id in earlier:
                previous[kind, row.history_id] = earlier[row.previous_history_id]
                _collect_refs(refs, earlier[row.previous_history_id], source.fields)
    names = related_names(refs)

    entries = []
    for kind, history_id, _ in current.object_list:
        record = records.get((kind, history_id))
        if record is not None:
            entries.append(_entry(by_kind[kind], record, previous.get((kind, history_id)), names))
    return HistoryPage(page=current, entries=entries)


def _with_previous_id(model: type[models.Model]) -> QuerySet:
    """Historical rows annotated with the history id of the same object's previous version."""
    pk_name = model.instance_type._meta.pk.attname
    earlier = (
        model.objects.filter(**{pk_name: OuterRef(pk_name)})
        .filter(
            Q(history_date__lt=OuterRef("history_date"))
            | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
        )
        .order_by("-history_date", "-history_id")
        .values("history_id")[:1]
    )
    return model.objects.annotate(previous_history_id=Subquery(earlier))


def _entry(source: HistorySource, record: Any, before: Any, names: Names) -> HistoryEntry:
    opts = record._meta
    action = ACTIONS.get(record.history_type, record.history_type)
    shown = [name for name in source.fields if name not in source.hidden]
    changes: list[FieldChange] = []
    hidden_changes = False
    earlier_unknown = False
    if action == "changed" and before is not None:
        delta = record.diff_against(before, included_fields=source.fields)
        by_field = {change.field: change for change in delta.changes}
        hidden_changes = any(name in source.hidden for name in by_field)
        for name in shown:
            if name in by_field:
                model_field = opts.get_field(name)
                changes.append(
                    FieldChange(
                        name,
                        source.labels.get(name) or field_label(model_field),
                        describe_value(model_field, by_field[name].old, names),
                        describe_value(model_field, by_field[name].new, names),
                    )
                )
    elif action != "deleted":
        earlier_unknown = action == "changed"
        for name in shown:
            model_field = opts.get_field(name)
            value = getattr(record, model_field.attname)
            if value is not None and value != "":
                changes.append(
                    FieldChange(
                        name,
                        source.labels.get(name) or field_label(model_field),
                        "",
                        describe_value(model_field, value, names),
                    )
                )
        hidden_changes = earlier_unknown and bool(source.hidden)
    return HistoryEntry(
        kind=source.kind,
        action=action,
        at=record.history_date,
        who=record.history_user,
        subject=source.subject(record, names),
        changes=tuple(changes),
        hidden_changes=hidden_changes,
        earlier_unknown=earlier_unknown,
    )


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
