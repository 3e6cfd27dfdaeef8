"""CSV imports of KPI definitions, products and KPI measurements (docs/imports.md).

Each importer reads exactly the columns of the matching export (``portfolio.kpis.exports`` and
``products.exports``), checks every row and writes all or nothing:

- every problem is a ``RowError(line, column, message)`` (the header is line 1);
- while any row is invalid nothing is written; a valid file is applied in one transaction;
- rows are matched on their natural key (product slug; KPI name; product, KPI and period), so importing the same
  file again changes nothing; the outcome counts rows created, updated and unchanged.

Products and KPIs are written through their services, one row at a time (a few thousand rows at most), and
their check runs those same writes in a transaction that is rolled back, so a preview refuses exactly what the
import would (a stage move that the lifecycle rules refuse, for one). Measurements, up to a million rows, are
streamed into a temporary table in batches (``COPY`` on PostgreSQL) and written with a few set-based statements,
with the same effects as ``portfolio.kpis.services.measurement_record``: the value, who recorded it and when, a
history row per created or changed value, the rollups marked stale once for the affected KPIs and periods, one
refresh requested after commit, and the products' health refreshed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import transaction

from products.models import User
from spm.csvfiles.reader import CsvReader, RowError, import_limits

# The first problems of a file are kept (and shown); all of them are counted.
MAX_ERRORS_KEPT = 1000
# The first changes to existing rows are kept (and shown, old -> new); ``updated`` counts them all.
MAX_CHANGES_KEPT = 500

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RowChange:
    """One changed cell of a row that updates existing data: what it was, what the file makes it."""

    line: int
    row: str  # the row's key as a person reads it: "checkout · Revenue · the week of 30 Nov 2026"
    column: str
    old: str
    new: str

    def as_list(self) -> list:
        return [self.line, self.row, self.column, self.old, self.new]


def cell_text(value: object) -> str:
    """A value as the file writes it: numbers without an exponent or a trailing ".0", nothing as "(empty)"."""
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, float):
        return f"{value:.15g}" if abs(value) < 1e15 else repr(value)
    return str(value)


@dataclass
class ImportOutcome:
    """What an import found and did (or, for a check, would do)."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    extra: dict[str, int] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    changes: list[RowChange] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def errors_room(self) -> int:
        """How many more errors this outcome keeps (it counts them all)."""
        return max(MAX_ERRORS_KEPT - len(self.errors), 0)

    def add(self, line: int, column: str, message: str) -> None:
        self.add_error(RowError(line, column, message))

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(error)

    def note_change(self, line: int, row: str, column: str, old: object, new: object) -> None:
        """Keep one changed cell (the first ``MAX_CHANGES_KEPT`` of them) for the check to list."""
        if len(self.changes) < MAX_CHANGES_KEPT:
            self.changes.append(RowChange(line, row, column, cell_text(old), cell_text(new)))

    def summary(self) -> str:
        verb = "" if self.applied else "would be "
        text = f"{self.created:,} {verb}created, {self.updated:,} {verb}updated, {self.unchanged:,} unchanged"
        for name, count in self.extra.items():
            text += f"; {EXTRA_LABELS.get(name, name)}: {count:,}"
        return text


EXTRA_LABELS = {
    "targets": "KPI targets set",
    "stage_moves": "stage moves",
    "moved_to_period_start": "days inside a period, counted for the period that holds them",
}


class _Rollback(Exception):
    """Raised inside the import's transaction to undo a check (or an import with problems)."""


@dataclass
class ImportRequest:
    """One import: the file's bytes, who imports, whether to write, and how to report progress."""

    kind: str
    chunks: Iterable[bytes]
    user: User
    apply: bool
    reason: str = "CSV import"  # the history rows' change reason
    progress: Progress = lambda rows: None


def csv_reader(request: ImportRequest, columns: tuple[str, ...], outcome: ImportOutcome) -> CsvReader:
    return CsvReader(request.chunks, columns, max_rows=import_limits()[1], on_problem=outcome.add_error)


@contextmanager
def checked_or_applied(request: ImportRequest, outcome: ImportOutcome) -> Iterator[None]:
    """Run the block's writes in one transaction, kept only when applying a file without problems."""
    try:
        with transaction.atomic():
            yield
            if request.apply and outcome.ok:
                outcome.applied = True
            else:
                raise _Rollback
    except _Rollback:
        pass


# --------------------------------------------------------------------------------------------------
# Progress
# --------------------------------------------------------------------------------------------------


def throttled(report: Progress, *, seconds: float = 0.5) -> Progress:
    """A progress callback that passes at most one report per ``seconds`` on (the first always)."""
    last = [0.0]

    def progress(rows: int) -> None:
        now = time.monotonic()
        if now - last[0] >= seconds:
            last[0] = now
            report(rows)

    return progress
