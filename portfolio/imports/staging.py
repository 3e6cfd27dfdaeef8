"""Measurement rows staged in a temporary table, so a large import is checked and written by SQL."""

from __future__ import annotations

import datetime as dt

from django.db import connection

from portfolio.imports.products import Written
from portfolio.models import KPI, Measurement
from products.models import Product, User


def _date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


class MeasurementStaging:
    """A temporary table of the file's valid rows: duplicates, counts and writes are set-based SQL over it."""

    TABLE = "spm_import_measurement"

    def __enter__(self) -> MeasurementStaging:
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

    def changes(self, *, limit: int) -> list[tuple[int, str, str, str, dt.date, float, float]]:
        """The first ``limit`` rows (by line) that would replace a different value: (line, product slug, KPI
        name, KPI frequency, period, current value, the file's value)."""
        if limit <= 0:
            return []
        with connection.cursor() as cursor:
            self._index(cursor)
            cursor.execute(
                f"SELECT s.line, p.slug, k.name, k.frequency, s.period, m.value, s.value "
                f"FROM {self.TABLE} s JOIN portfolio_measurement m ON {self.JOIN} "
                f"JOIN {Product._meta.db_table} p ON p.id = s.product_id "
                f"JOIN {KPI._meta.db_table} k ON k.id = s.kpi_id "
                f"WHERE m.value <> s.value ORDER BY s.line LIMIT %s",
                [limit],
            )
            return [
                (line, slug, name, frequency, _date(period), old, new)
                for line, slug, name, frequency, period, old, new in cursor.fetchall()
            ]

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
