"""CSV imports of KPI definitions, products and KPI measurements (docs/imports.md).

Each importer reads exactly the columns of the matching export (``portfolio.exports`` and
``products.exports``), checks every row and writes all or nothing:

- every problem is a ``RowError(line, column, message)`` (the header is line 1);
- while any row is invalid nothing is written; a valid file is applied in one transaction;
- rows are matched on their natural key (product slug; KPI name; product, KPI and period), so importing the same
  file again changes nothing; the outcome counts rows created, updated and unchanged.

Products and KPIs are written through their services, one row at a time (a few thousand rows at most), and
their check runs those same writes in a transaction that is rolled back, so a preview refuses exactly what the
import would (a stage move that the lifecycle rules refuse, for one). Measurements, up to a million rows, are
streamed into a temporary table in batches (``COPY`` on PostgreSQL) and written with a few set-based statements,
with the same effects as ``portfolio.services.measurement_record``: the value, who recorded it and when, a
history row per created or changed value, the rollups marked stale once for the affected KPIs and periods, one
refresh requested after commit, and the products' health refreshed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import slug_re
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from lifecycle.models import StageTransition
from portfolio.exports import KPI_COLUMNS, MEASUREMENT_COLUMNS
from portfolio.forms import period_start
from portfolio.models import (
    KPI,
    Aggregation,
    Direction,
    Frequency,
    KPITarget,
    Measurement,
    Portfolio,
    TimeAggregation,
)
from portfolio.rollups import products_refresh_health
from portfolio.services import rollups_mark_stale
from products.exports import PRODUCT_COLUMNS
from products.imports import CsvReader, FileRejected, RowError, import_limits
from products.models import Focus, Health, ImportKind, Market, Product, Stage, User
from products.permissions import (
    can_create_product,
    can_reassign_product,
    import_kinds_allowed,
    product_ids_user_may_edit,
)
from products.services import product_update

# The first problems of a file are kept (and shown); all of them are counted.
MAX_ERRORS_KEPT = 1000
# Beyond this a number is almost surely a paste error (a date or an id in the value column).
VALUE_LIMIT = 1e15
MONEY_LIMIT = Decimal("999999999999.99")  # Product.planned_budget: 14 digits, 2 decimals
MEASUREMENT_BATCH = 10_000
# More (KPI, period) pairs than this are marked stale as whole KPIs: one mark per KPI instead of thousands.
STALE_PAIRS_LIMIT = 5000
# Health is refreshed for the products an import touched, or for all of them beyond this many.
HEALTH_PRODUCTS_LIMIT = 2000

Progress = Callable[[int], None]


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
    applied: bool = False

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, line: int, column: str, message: str) -> None:
        self.add_error(RowError(line, column, message))

    def add_error(self, error: RowError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(error)

    def summary(self) -> str:
        verb = "" if self.applied else "would be "
        text = f"{self.created:,} {verb}created, {self.updated:,} {verb}updated, {self.unchanged:,} unchanged"
        for name, count in self.extra.items():
            text += f"; {EXTRA_LABELS.get(name, name)}: {count:,}"
        return text


EXTRA_LABELS = {"targets": "KPI targets set", "stage_moves": "stage moves"}


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


def import_csv(request: ImportRequest) -> ImportOutcome:
    """Check (and, when ``request.apply``, write) a CSV file of ``request.kind``. Never raises for a bad file:
    its problems are in the outcome, and then nothing was written."""
    outcome = ImportOutcome()
    if request.kind not in import_kinds_allowed(request.user):
        outcome.add(1, "", "You may not import this kind of file.")
        return outcome
    importer = {
        ImportKind.MEASUREMENTS: _import_measurements,
        ImportKind.PRODUCTS: _import_products,
        ImportKind.KPIS: _import_kpis,
    }[request.kind]
    try:
        importer(request, outcome)
    except FileRejected as rejected:
        outcome.add_error(rejected.error)
        outcome.applied = False
    outcome.errors.sort()
    if not outcome.ok:
        outcome.applied = False
    return outcome


def _reader(request: ImportRequest, columns: tuple[str, ...], outcome: ImportOutcome) -> CsvReader:
    return CsvReader(request.chunks, columns, max_rows=import_limits()[1], on_problem=outcome.add_error)


# --------------------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell's value is wrong; the message says how to fix it."""


def parse_number(text: str, *, required: bool = True) -> float | None:
    """A finite number within ±10^15, written with a dot for decimals and no thousands separators."""
    if not text:
        if required:
            raise CellError("A number is required here.")
        return None
    try:
        number = float(text)
    except ValueError:
        hint = ""
        if "," in text:
            hint = " Write numbers without thousands separators and with a dot for decimals (1234.5)."
        elif text.endswith("%"):
            hint = " Leave out the % sign."
        raise CellError(f"“{text}” is not a number.{hint}") from None
    if not math.isfinite(number):
        raise CellError(f"“{text}” is not a finite number.")
    if abs(number) > VALUE_LIMIT:
        raise CellError(
            f"{text} is out of range: values are at most ±10^15 (a date or an id in this column?)."
        )
    return number


def parse_date(text: str) -> dt.date:
    if not text:
        raise CellError("A date is required here (YYYY-MM-DD).")
    try:
        return dt.date.fromisoformat(text[:10] if text.endswith(("T00:00:00", " 00:00:00")) else text)
    except ValueError:
        raise CellError(f"“{text}” is not a date: write it as YYYY-MM-DD, e.g. 2026-03-02.") from None


def parse_choice(text: str, choices: type, noun: str) -> str:
    """A stored choice value; its label (any case) is accepted too."""
    lowered = text.lower()
    for value, label in choices.choices:
        if lowered in (value, label.lower()):
            return value
    if not text:
        raise CellError(f"A {noun} is required here.")
    allowed = ", ".join(choices.values)
    raise CellError(f"“{text}” is not a {noun}: use one of {allowed}.")


def parse_money(text: str) -> Decimal | None:
    """A non-negative amount with at most 2 decimals; blank means no change (None)."""
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CellError(
            f"“{text}” is not an amount: write it like 125000.50, without currency or separators."
        ) from None
    if not amount.is_finite():
        raise CellError(f"“{text}” is not an amount.")
    if amount < 0:
        raise CellError(f"{text} is out of range: amounts cannot be negative.")
    if amount > MONEY_LIMIT:
        raise CellError(f"{text} is out of range: amounts go up to {MONEY_LIMIT:,}.")
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError(f"{text} has more than 2 decimals.")
    return amount.quantize(Decimal("0.01"))


def _unknown(noun: str, text: str, known: Iterable[str]) -> str:
    if not text:
        return f"The {noun} is missing."
    close = difflib.get_close_matches(text, list(known), n=1, cutoff=0.75)
    hint = f" Did you mean “{close[0]}”?" if close else ""
    return f"Unknown {noun} “{text}”.{hint}"


def _duplicate(first_line: int, key: str) -> str:
    return f"Duplicate row: line {first_line} has the same {key}. Keep one of them."


# --------------------------------------------------------------------------------------------------
# Measurements: product, kpi, period, value, target
# --------------------------------------------------------------------------------------------------


def _import_measurements(request: ImportRequest, outcome: ImportOutcome) -> None:
    products = dict(Product.objects.values_list("slug", "pk"))
    kpis = {
        name: (pk, frequency, default)
        for name, pk, frequency, default in KPI.objects.values_list(
            "name", "pk", "frequency", "default_target"
        )
    }
    defaults = {pk: default for pk, _frequency, default in kpis.values()}
    editable = product_ids_user_may_edit(request.user, products.values())
    own_targets = {(p, k): t for p, k, t in KPITarget.objects.values_list("product_id", "kpi_id", "target")}
    latest_period = timezone.localdate() + dt.timedelta(days=366)
    # The file's target per product and KPI, and the line that gave it.
    targets: dict[tuple[int, int], tuple[float, int]] = {}
    reader = _reader(request, MEASUREMENT_COLUMNS, outcome)
    # A period's check depends on its text and the KPI's frequency only: done once per pair, not per row.
    periods: dict[tuple[str, str], str | CellError] = {}

    def period_of(text: str, frequency: str) -> str | CellError:
        key = (text, frequency)
        if key not in periods:
            try:
                period = parse_date(text)
                _check_period(period, frequency, latest_period)
                periods[key] = period.isoformat()
            except CellError as error:
                periods[key] = error
        return periods[key]

    with _MeasurementStaging() as staging:
        batch: list[tuple] = []
        for line, (slug, kpi_name, period_text, value_text, target_text) in reader:
            product_id = products.get(slug)
            kpi = kpis.get(kpi_name)
            period = period_of(period_text, kpi[1]) if kpi is not None else None
            try:
                value = float(value_text)
                target = float(target_text) if target_text else None
            except ValueError:
                value = target = None
            fast = (
                product_id in editable
                and kpi is not None
                and type(period) is str
                and value is not None
                and -VALUE_LIMIT <= value <= VALUE_LIMIT  # also false for NaN and infinities
                and (not target_text or (target is not None and -VALUE_LIMIT <= target <= VALUE_LIMIT))
            )
            if not fast:
                # Some cell is wrong: find every problem of the row, with its message.
                errors = outcome.error_count
                if product_id is None:
                    outcome.add(line, "product", _unknown("product slug", slug, products))
                elif product_id not in editable:
                    outcome.add(
                        line, "product", f"You may not edit {slug}, so you may not import its measurements."
                    )
                if kpi is None:
                    outcome.add(line, "kpi", _unknown("KPI", kpi_name, kpis))
                    try:
                        parse_date(period_text)
                    except CellError as error:
                        outcome.add(line, "period", str(error))
                elif isinstance(period, CellError):
                    outcome.add(line, "period", str(period))
                for column, text, required in (("value", value_text, True), ("target", target_text, False)):
                    try:
                        parse_number(text, required=required)
                    except CellError as error:
                        outcome.add(line, column, str(error))
                if outcome.error_count != errors:
                    continue
            pair = (product_id, kpi[0])
            if target is not None:
                seen = targets.setdefault(pair, (target, line))
                if seen[0] != target:
                    outcome.add(
                        line,
                        "target",
                        f"Target {target:g} differs from {seen[0]:g} on line {seen[1]} for the same product and "
                        "KPI: a product has one target per KPI.",
                    )
                    continue
            batch.append((line, product_id, kpi[0], period, value))
            if len(batch) >= MEASUREMENT_BATCH:
                staging.write(batch)
                batch = []
                request.progress(reader.rows)
        staging.write(batch)
        outcome.rows = reader.rows
        request.progress(reader.rows)
        duplicates, count = staging.duplicates(limit=MAX_ERRORS_KEPT)
        for line, first in duplicates:
            outcome.add(line, "", _duplicate(first, "product, KPI and period"))
        outcome.error_count += count - len(duplicates)
        if not outcome.ok:
            return
        target_changes = {
            pair: target
            for pair, (target, _line) in targets.items()
            if target != own_targets.get(pair, defaults[pair[1]])
        }
        if target_changes:
            outcome.extra["targets"] = len(target_changes)
        if not request.apply:
            outcome.created, outcome.updated, outcome.unchanged = staging.counts()
            return
        with transaction.atomic():
            written = staging.write_measurements(by=request.user, at=timezone.now(), reason=request.reason)
            outcome.created, outcome.updated, outcome.unchanged = (
                written.created,
                written.updated,
                written.unchanged,
            )
            _write_targets(target_changes, by=request.user, reason=request.reason)
            kpi_periods = written.kpi_periods
            product_ids = written.product_ids | {product for product, _kpi in target_changes}
            _mark_stale(kpi_periods, whole_kpis={kpi for _product, kpi in target_changes})
            if product_ids:
                products_refresh_health(
                    product_ids=() if len(product_ids) > HEALTH_PRODUCTS_LIMIT else product_ids
                )
        outcome.applied = True


FREQUENCY_WORDS = {
    Frequency.WEEKLY: "weekly, so its periods start on a Monday",
    Frequency.MONTHLY: "monthly, so its periods start on the 1st",
    Frequency.QUARTERLY: "quarterly, so its periods start on 1 January, April, July or October",
}


def _check_period(period: dt.date, frequency: str, latest: dt.date) -> None:
    start = period_start(period, frequency)
    if start != period:
        raise CellError(
            f"{period.isoformat()} does not start a period: this KPI is {FREQUENCY_WORDS[frequency]} "
            f"(use {start.isoformat()})."
        )
    if period > latest:
        raise CellError(f"{period.isoformat()} is out of range: more than a year ahead (check the year).")
    if period.year < 1900:
        raise CellError(f"{period.isoformat()} is out of range: check the year.")


def _write_targets(changes: dict[tuple[int, int], float], *, by: User, reason: str) -> None:
    """Set the products' own KPI targets that the file changes (with history, versions moved on)."""
    if not changes:
        return
    now = timezone.now()
    existing = []
    for target in KPITarget.objects.filter(
        product_id__in={p for p, _k in changes}, kpi_id__in={k for _p, k in changes}
    ):
        pair = (target.product_id, target.kpi_id)
        if pair in changes:
            target.target = changes[pair]
            target.version += 1
            target.updated_at = now
            existing.append(target)
    known = {(t.product_id, t.kpi_id) for t in existing}
    new = [
        KPITarget(product_id=p, kpi_id=k, target=t) for (p, k), t in changes.items() if (p, k) not in known
    ]
    bulk_update_with_history(
        existing,
        KPITarget,
        ["target", "version", "updated_at"],
        default_user=by,
        default_change_reason=reason,
    )
    bulk_create_with_history(new, KPITarget, default_user=by, default_change_reason=reason)


def _mark_stale(kpi_periods: set[tuple[int, dt.date]], *, whole_kpis: set[int]) -> None:
    """One stale mark set and one refresh request (after commit) for everything the import changed."""
    kpi_ids = {kpi for kpi, _period in kpi_periods} | whole_kpis
    if not kpi_ids:
        return
    periods = {period for _kpi, period in kpi_periods}
    if whole_kpis or len(kpi_ids) * len(periods) > STALE_PAIRS_LIMIT:
        rollups_mark_stale(kpi_ids=kpi_ids)
    else:
        # The KPIs x periods cross product covers every changed pair (and a few neighbours: harmless).
        rollups_mark_stale(kpi_ids=kpi_ids, periods=periods)


class _MeasurementStaging:
    """A temporary table of the file's valid rows: duplicates, counts and writes are set-based SQL over it."""

    TABLE = "spm_import_measurement"

    def __enter__(self) -> _MeasurementStaging:
        self.postgres = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.TABLE}")
            types = ("bigint", "double precision") if self.postgres else ("integer", "real")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {self.TABLE} (line integer NOT NULL, product_id {types[0]} NOT NULL, "
                f"kpi_id {types[0]} NOT NULL, period date NOT NULL, value {types[1]} NOT NULL, "
                f"existing_id {types[0]}, existing_value {types[1]})"
            )
        self.indexed = False
        self.rows = 0
        return self

    def __exit__(self, *exc) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.TABLE}")
        except Exception:  # noqa: S110 — an aborted transaction drops it with the connection's rollback
            pass

    def write(self, rows: list[tuple]) -> None:
        if not rows:
            return
        self.rows += len(rows)
        with connection.cursor() as cursor:
            if self.postgres:
                text = "".join(
                    f"{line}\t{product}\t{kpi}\t{period}\t{value!r}\n"
                    for line, product, kpi, period, value in rows
                )
                with cursor.cursor.copy(
                    f"COPY {self.TABLE} (line, product_id, kpi_id, period, value) FROM STDIN"
                ) as copy:
                    copy.write(text)
            else:
                cursor.executemany(
                    f"INSERT INTO {self.TABLE} (line, product_id, kpi_id, period, value) VALUES (%s, %s, %s, %s, %s)",
                    rows,
                )

    def _index(self, cursor) -> None:
        if not self.indexed:
            cursor.execute(f"CREATE INDEX {self.TABLE}_key ON {self.TABLE} (product_id, kpi_id, period)")
            if self.postgres:
                cursor.execute(f"ANALYZE {self.TABLE}")
            self.indexed = True

    def duplicates(self, *, limit: int) -> tuple[list[tuple[int, int]], int]:
        """(line, the first line with the same key) of the first ``limit`` repeated rows, and how many there are."""
        with connection.cursor() as cursor:
            self._index(cursor)
            repeated = (
                f"SELECT line, first_line FROM (SELECT line, MIN(line) OVER (PARTITION BY product_id, kpi_id, period) "
                f"AS first_line FROM {self.TABLE}) d WHERE line <> first_line"
            )
            cursor.execute(f"{repeated} ORDER BY line LIMIT %s", [limit])
            rows = cursor.fetchall()
            if len(rows) < limit:
                return rows, len(rows)
            cursor.execute(f"SELECT COUNT(*) FROM ({repeated}) r")
            return rows, cursor.fetchone()[0]

    JOIN = "m.product_id = s.product_id AND m.kpi_id = s.kpi_id AND m.period = s.period"

    def counts(self) -> tuple[int, int, int]:
        """(created, updated, unchanged) if the rows were written now."""
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*), SUM(CASE WHEN m.id IS NULL THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN m.value = s.value THEN 1 ELSE 0 END) "
                f"FROM {self.TABLE} s LEFT JOIN portfolio_measurement m ON {self.JOIN}"
            )
            total, created, unchanged = (int(n or 0) for n in cursor.fetchone())
        return created, total - created - unchanged, unchanged

    def write_measurements(self, *, by: User, at: dt.datetime, reason: str) -> Written:
        """Insert the new values, update the changed ones and record a history row for each; leave equal
        values alone. Returns the counts and what changed."""
        if self.postgres:
            return self._write_postgres(by=by, at=at, reason=reason)
        return self._write_portable(by=by, at=at, reason=reason)

    def _write_postgres(self, *, by: User, at: dt.datetime, reason: str) -> Written:
        # One statement: the update, the insert and their history rows, answering the counts, the changed
        # (KPI, period) pairs and products. Every sub-statement sees the table as it was before it.
        history = Measurement.history.model._meta.db_table
        params = {"at": at, "by": by.pk, "reason": reason[:100]}
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH updated AS (
                    UPDATE portfolio_measurement m
                    SET value = s.value, recorded_at = %(at)s, recorded_by_id = %(by)s
                    FROM {self.TABLE} s WHERE {self.JOIN} AND m.value <> s.value
                    RETURNING m.id, m.product_id, m.kpi_id, m.period, m.value
                ), created AS (
                    INSERT INTO portfolio_measurement (product_id, kpi_id, period, value, recorded_at, recorded_by_id)
                    SELECT s.product_id, s.kpi_id, s.period, s.value, %(at)s, %(by)s FROM {self.TABLE} s
                    WHERE NOT EXISTS (SELECT 1 FROM portfolio_measurement m WHERE {self.JOIN})
                    ON CONFLICT (product_id, kpi_id, period) DO UPDATE
                    SET value = excluded.value, recorded_at = excluded.recorded_at, recorded_by_id = excluded.recorded_by_id
                    RETURNING id, product_id, kpi_id, period, value
                ), changed AS (
                    SELECT *, '~' AS kind FROM updated UNION ALL SELECT *, '+' AS kind FROM created
                ), recorded AS (
                    INSERT INTO {history} (id, product_id, kpi_id, period, value, recorded_at, recorded_by_id,
                                           history_date, history_change_reason, history_type, history_user_id)
                    SELECT id, product_id, kpi_id, period, value, %(at)s, %(by)s, %(at)s, %(reason)s, kind, %(by)s
                    FROM changed
                )
                SELECT kind, NULL::bigint, NULL::date, COUNT(*) FROM changed GROUP BY kind
                UNION ALL SELECT 'pair', kpi_id, period, NULL FROM changed GROUP BY kpi_id, period
                UNION ALL SELECT 'product', product_id, NULL, NULL FROM changed GROUP BY product_id
                """,
                params,
            )
            rows = cursor.fetchall()
        counts = {kind: count for kind, _id, _period, count in rows if kind in ("+", "~")}
        created, updated = counts.get("+", 0), counts.get("~", 0)
        return Written(
            created=created,
            updated=updated,
            unchanged=self.rows - created - updated,
            kpi_periods={(kpi, period) for kind, kpi, period, _n in rows if kind == "pair"},
            product_ids={product for kind, product, _period, _n in rows if kind == "product"},
        )

    CHANGED = "(s.existing_id IS NULL OR s.existing_value <> s.value)"

    def _write_portable(self, *, by: User, at: dt.datetime, reason: str) -> Written:
        at_db = connection.ops.adapt_datetimefield_value(at)
        history = Measurement.history.model._meta.db_table
        table = self.TABLE
        with connection.cursor() as cursor:
            # Note each row's current measurement first: what is created, changed or equal.
            cursor.execute(
                f"UPDATE {table} SET existing_id = m.id, existing_value = m.value "
                f"FROM portfolio_measurement m WHERE m.product_id = {table}.product_id "
                f"AND m.kpi_id = {table}.kpi_id AND m.period = {table}.period"
            )
            cursor.execute(
                f"SELECT SUM(CASE WHEN existing_id IS NULL THEN 1 ELSE 0 END), "
                f"SUM(CASE WHEN existing_value = value THEN 1 ELSE 0 END) FROM {table}"
            )
            created, unchanged = (int(n or 0) for n in cursor.fetchone())
            cursor.execute(
                f"INSERT INTO portfolio_measurement (product_id, kpi_id, period, value, recorded_at, recorded_by_id) "
                f"SELECT s.product_id, s.kpi_id, s.period, s.value, %s, %s FROM {table} s "
                f"WHERE s.existing_id IS NULL "
                f"ON CONFLICT (product_id, kpi_id, period) DO UPDATE SET value = excluded.value, "
                f"recorded_at = excluded.recorded_at, recorded_by_id = excluded.recorded_by_id",
                [at_db, by.pk],
            )
            cursor.execute(
                f"UPDATE portfolio_measurement SET value = s.value, recorded_at = %s, recorded_by_id = %s "
                f"FROM {table} s WHERE portfolio_measurement.id = s.existing_id AND s.existing_value <> s.value",
                [at_db, by.pk],
            )
            cursor.execute(
                f"INSERT INTO {history} (id, product_id, kpi_id, period, value, recorded_at, recorded_by_id, "
                f"history_date, history_change_reason, history_type, history_user_id) "
                f"SELECT m.id, m.product_id, m.kpi_id, m.period, m.value, m.recorded_at, m.recorded_by_id, %s, %s, "
                f"CASE WHEN s.existing_id IS NULL THEN '+' ELSE '~' END, %s "
                f"FROM {table} s JOIN portfolio_measurement m ON {self.JOIN} WHERE {self.CHANGED}",
                [at_db, reason[:100], by.pk],
            )
            cursor.execute(f"SELECT DISTINCT s.kpi_id, s.period FROM {table} s WHERE {self.CHANGED}")
            kpi_periods = {(kpi, dt.date.fromisoformat(str(period))) for kpi, period in cursor.fetchall()}
            cursor.execute(f"SELECT DISTINCT s.product_id FROM {table} s WHERE {self.CHANGED}")
            product_ids = {row[0] for row in cursor.fetchall()}
        return Written(
            created=created,
            updated=self.rows - created - unchanged,
            unchanged=unchanged,
            kpi_periods=kpi_periods,
            product_ids=product_ids,
        )


@dataclass(frozen=True)
class Written:
    """What writing the staged measurements did."""

    created: int
    updated: int
    unchanged: int
    kpi_periods: set[tuple[int, dt.date]]
    product_ids: set[int]


# --------------------------------------------------------------------------------------------------
# Products: slug, name, portfolio, stage, market, focus, owner, health, planned_budget, actual_spend
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRow:
    line: int
    slug: str
    name: str
    portfolio: Portfolio
    stage: str
    market: str
    focus: str
    owner: User
    planned_budget: Decimal | None  # None: no change (the export leaves money blank where it is hidden)
    actual_spend: Decimal | None


@contextmanager
def _checked_or_applied(request: ImportRequest, outcome: ImportOutcome) -> Iterator[None]:
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


def _import_products(request: ImportRequest, outcome: ImportOutcome) -> None:
    user = request.user
    portfolios = {p.slug: p for p in Portfolio.objects.all()}
    people = {u.username: u for u in User.objects.filter(is_active=True)}
    existing = {p.slug: p for p in Product.objects.select_related("portfolio", "owner")}
    editable = product_ids_user_may_edit(user, [p.pk for p in existing.values()])
    rows: list[ProductRow] = []
    seen: dict[str, int] = {}
    reader = _reader(request, PRODUCT_COLUMNS, outcome)
    for line, cells in reader:
        row = _product_row(line, cells, portfolios=portfolios, people=people, outcome=outcome)
        if row is None:
            continue
        if row.slug in seen:
            outcome.add(line, "slug", _duplicate(seen[row.slug], "slug"))
            continue
        seen[row.slug] = line
        product = existing.get(row.slug)
        if product is None:
            if not can_create_product(user, row.portfolio):
                outcome.add(
                    line,
                    "slug",
                    f"There is no product “{row.slug}”, and you may not create products in {row.portfolio.name}.",
                )
                continue
        elif product.pk not in editable:
            outcome.add(line, "slug", f"You may not edit {row.slug}.")
            continue
        elif (row.owner != product.owner or row.portfolio != product.portfolio) and not can_reassign_product(
            user, product, row.portfolio
        ):
            column = "owner" if row.owner != product.owner else "portfolio"
            outcome.add(
                line,
                column,
                f"You may not change the {column} of {row.slug}: that is for its director or a VP.",
            )
            continue
        rows.append(row)
        if len(rows) % 500 == 0:
            request.progress(reader.rows)
    outcome.rows = reader.rows
    request.progress(reader.rows)
    if not outcome.ok:
        return
    with _checked_or_applied(request, outcome):
        for row in rows:
            _write_product(row, existing.get(row.slug), request=request, outcome=outcome)


def _product_row(
    line: int, cells: list[str], *, portfolios: dict, people: dict, outcome: ImportOutcome
) -> ProductRow | None:
    slug, name, portfolio_slug, stage, market, focus, owner, health, planned, actual = cells
    errors = outcome.error_count
    if not slug:
        outcome.add(line, "slug", "The slug is missing.")
    elif not slug_re.match(slug) or len(slug) > 80:
        outcome.add(
            line,
            "slug",
            f"“{slug}” is not a slug: use at most 80 letters, digits, hyphens and underscores "
            f"(e.g. {slugify(slug)[:80] or 'my-product'}).",
        )
    if not name:
        outcome.add(line, "name", "The name is missing.")
    elif len(name) > 120:
        outcome.add(line, "name", f"The name is {len(name)} characters long; at most 120.")
    if portfolio_slug not in portfolios:
        outcome.add(line, "portfolio", _unknown("portfolio", portfolio_slug, portfolios))
    if owner not in people:
        outcome.add(line, "owner", _unknown("owner (username)", owner, people))
    parsed = {}
    for column, text, choices, noun in (
        ("stage", stage, Stage, "lifecycle stage"),
        ("market", market, Market, "market"),
        ("focus", focus, Focus, "focus"),
    ):
        try:
            parsed[column] = parse_choice(text, choices, noun)
        except CellError as error:
            outcome.add(line, column, str(error))
    if health:  # derived from the KPIs: read, never written
        try:
            parse_choice(health, Health, "health status")
        except CellError as error:
            outcome.add(line, "health", str(error))
    money = {}
    for column, text in (("planned_budget", planned), ("actual_spend", actual)):
        try:
            money[column] = parse_money(text)
        except CellError as error:
            outcome.add(line, column, str(error))
    if outcome.error_count != errors:
        return None
    return ProductRow(
        line=line,
        slug=slug,
        name=name,
        portfolio=portfolios[portfolio_slug],
        owner=people[owner],
        **parsed,
        **money,
    )


def _write_product(
    row: ProductRow, product: Product | None, *, request: ImportRequest, outcome: ImportOutcome
) -> None:
    """Create or update one product through the services; a refused stage move is the row's problem."""
    from lifecycle.services import StageMoveRefused, product_move_stage

    user = request.user
    try:
        with transaction.atomic():
            if product is None:
                product = Product(
                    slug=row.slug,
                    name=row.name,
                    portfolio=row.portfolio,
                    owner=row.owner,
                    market=row.market,
                    focus=row.focus,
                    stage=Stage.PROBLEM,
                    planned_budget=row.planned_budget or Decimal("0"),
                    actual_spend=row.actual_spend or Decimal("0"),
                )
                product._history_user = user
                product.save()
                StageTransition.objects.create(
                    product=product, from_stage="", to_stage=Stage.PROBLEM, by=user
                )
                action = "created"
            else:
                changes = {
                    "name": row.name,
                    "portfolio": row.portfolio,
                    "owner": row.owner,
                    "market": row.market,
                    "focus": row.focus,
                }
                if row.planned_budget is not None:
                    changes["planned_budget"] = row.planned_budget
                if row.actual_spend is not None:
                    changes["actual_spend"] = row.actual_spend
                changed = {name: value for name, value in changes.items() if getattr(product, name) != value}
                if changed:
                    product = product_update(product=product, changes=changed, by=user)
                action = "updated" if changed else "unchanged"
            if product.stage != row.stage:
                product_move_stage(product=product, to=row.stage, by=user, note=request.reason)
                outcome.extra["stage_moves"] = outcome.extra.get("stage_moves", 0) + 1
                action = "created" if action == "created" else "updated"
    except (StageMoveRefused, PermissionDenied) as refused:
        outcome.add(row.line, "stage", f"The move to {Stage(row.stage).label} is refused: {_reason(refused)}")
        return
    except ValidationError as invalid:
        outcome.add(row.line, "", _reason(invalid))
        return
    setattr(outcome, action, getattr(outcome, action) + 1)


def _reason(error: Exception) -> str:
    messages = getattr(error, "messages", None)
    return " ".join(messages) if messages else str(error)


# --------------------------------------------------------------------------------------------------
# KPI definitions: kpi, unit, direction, aggregation, time_aggregation, target, tolerance, frequency
# --------------------------------------------------------------------------------------------------

# Changing these changes what the KPI's rollups (or statuses) are.
KPI_ROLLUP_FIELDS = ("direction", "aggregation", "time_aggregation", "default_target", "tolerance")


def _import_kpis(request: ImportRequest, outcome: ImportOutcome) -> None:
    existing = {kpi.name: kpi for kpi in KPI.objects.all()}
    measured = set(KPI.objects.filter(measurements__isnull=False).values_list("pk", flat=True).distinct())
    rows: list[tuple[int, str, dict]] = []
    seen: dict[str, int] = {}
    reader = _reader(request, KPI_COLUMNS, outcome)
    for line, cells in reader:
        name, unit, direction, aggregation, time_aggregation, target, tolerance, frequency = cells
        errors = outcome.error_count
        if not name:
            outcome.add(line, "kpi", "The KPI name is missing.")
        elif len(name) > 80:
            outcome.add(line, "kpi", f"The KPI name is {len(name)} characters long; at most 80.")
        elif name in seen:
            outcome.add(line, "kpi", _duplicate(seen[name], "KPI name"))
        if len(unit) > 20:
            outcome.add(line, "unit", f"The unit is {len(unit)} characters long; at most 20.")
        fields: dict = {"unit": unit}
        for column, text, choices, noun in (
            ("direction", direction, Direction, "direction"),
            ("aggregation", aggregation, Aggregation, "aggregation"),
            ("time_aggregation", time_aggregation, TimeAggregation, "time aggregation"),
            ("frequency", frequency, Frequency, "frequency"),
        ):
            try:
                fields[column] = parse_choice(text, choices, noun)
            except CellError as error:
                outcome.add(line, column, str(error))
        try:
            fields["default_target"] = parse_number(target, required=False)
        except CellError as error:
            outcome.add(line, "target", str(error))
        try:
            percent = parse_number(tolerance)
            if not 0 <= percent <= 100:
                raise CellError(f"{tolerance} is out of range: the tolerance is a percentage from 0 to 100.")
            fields["tolerance"] = Decimal(str(percent)).quantize(Decimal("0.01"))
        except CellError as error:
            outcome.add(line, "tolerance", str(error))
        kpi = existing.get(name)
        if (
            kpi is not None
            and "frequency" in fields
            and fields["frequency"] != kpi.frequency
            and kpi.pk in measured
        ):
            outcome.add(
                line,
                "frequency",
                f"{name} has measurements recorded {kpi.frequency}: its frequency cannot change in an import "
                "(its periods would no longer start where they do).",
            )
        if outcome.error_count == errors:
            seen[name] = line
            rows.append((line, name, fields))
    outcome.rows = reader.rows
    request.progress(reader.rows)
    if not outcome.ok:
        return
    stale: set[int] = set()
    with _checked_or_applied(request, outcome):
        for _line, name, fields in rows:
            kpi = existing.get(name)
            if kpi is None:
                kpi = KPI(name=name, **fields)
                kpi._history_user = request.user
                kpi.save()
                outcome.created += 1
                continue
            changed = [column for column, value in fields.items() if getattr(kpi, column) != value]
            if not changed:
                outcome.unchanged += 1
                continue
            for column in changed:
                setattr(kpi, column, fields[column])
            kpi._history_user = request.user
            kpi.save(update_fields=[*changed, "updated_at"])
            outcome.updated += 1
            if set(changed) & set(KPI_ROLLUP_FIELDS):
                stale.add(kpi.pk)
        if stale:
            rollups_mark_stale(kpi_ids=stale)
            products_refresh_health()


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
