"""Audit history pages: the history rows of several models merged newest first, one page at a time,
in a number of queries that does not grow with the history."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import models
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery, Value

from spm.history.values import (
    ACTIONS,
    FieldChange,
    Names,
    _collect_refs,
    describe_value,
    field_label,
    related_names,
)

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
