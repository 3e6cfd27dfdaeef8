"""KPI rollups: SQL aggregation for the numbers, pure functions for status.

The rules (see docs/kpis.md):
1. per product, values within a grain bucket combine by the KPI's time aggregation (sum, avg, last);
2. across the products of a scope that have a value, by the KPI's aggregation (sum, avg, min, max);
3. targets combine exactly like values; a rollup has no target when any contributing product has none;
4. status compares value with target within the KPI's tolerance, in the KPI's direction.

Every number is computed by the database with ``INSERT … SELECT``: no Python loop over measurements.
Per grain, one statement writes every scope: PostgreSQL groups with GROUPING SETS in one pass, SQLite with a
UNION ALL. Months are computed per product once (a temporary table) and quarters are built from them.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from portfolio.alerts.services import (
    forecast_misses_notify,
    kpi_cells_worse_notify,
    products_health_worse_notify,
)
from portfolio.choices import Grain, Scope
from portfolio.kpis.forecast.store import (
    ComputedForecasts,
    forecasts_compute,
    forecasts_recombine,
    forecasts_recompute,
)
from portfolio.kpis.rollup_sql import (
    EFFECTIVE_TARGET,
    MONTHS_TABLE,
    PRODUCTS_TABLE,
    ROLLUP_COLUMNS,
    SCOPE_COLUMNS,
    calendar_sql,
    months_table_sql,
    native_sql,
    products_table_sql,
    status_sql,
)
from portfolio.kpis.rules import HEALTH_BY_SEVERITY, SEVERITY_OF_HEALTH
from portfolio.models import Rollup, RollupState
from portfolio.periods import bucket_end, grain_bucket
from products.models import Product


@dataclass(frozen=True)
class RollupSelection:
    """Which rollups to recompute: some KPIs (all when empty) and the buckets around some native periods
    (all when empty). Months and quarters are recomputed for the whole quarter of each period."""

    kpi_ids: tuple[int, ...] = ()
    periods: tuple[dt.date, ...] = ()
    scope: str = ""  # one scope only (its given keys); empty: every scope
    scope_keys: tuple[str, ...] = ()

    @property
    def scopes(self) -> tuple[str, ...]:
        return (self.scope,) if self.scope else tuple(Scope)

    def measurement_filter(self, grain: str) -> tuple[str, list]:
        clauses, params = [], []
        if self.scope and self.scope != Scope.ORGANISATION and self.scope_keys:
            expression = f"kp.{SCOPE_COLUMNS[self.scope][0]}"
            clauses.append(f"{expression} IN ({', '.join(['%s'] * len(self.scope_keys))})")
            params.extend(self.scope_keys)
        if self.kpi_ids:
            clauses.append(f"m.kpi_id IN ({', '.join(['%s'] * len(self.kpi_ids))})")
            params.extend(self.kpi_ids)
        if self.periods:
            ranges = []
            for start in sorted({grain_bucket(p, grain) for p in self.periods}):
                ranges.append("(m.period >= %s AND m.period < %s)")
                params.extend([start, bucket_end(start, grain)])
            clauses.append("(" + " OR ".join(ranges) + ")")
        return (" AND ".join(clauses) or "1=1"), params

    def delete_rollups(self) -> None:
        # The scope condition, even when it names every scope, lets the unique index (scope first) find the rows.
        rollups = Rollup.objects.filter(scope__in=self.scopes)
        if self.scope and self.scope_keys:
            rollups = rollups.filter(scope_key__in=self.scope_keys)
        if self.kpi_ids:
            rollups = rollups.filter(kpi_id__in=self.kpi_ids)
        if self.periods:
            quarters = sorted({grain_bucket(p, Grain.QUARTER) for p in self.periods})
            native = Rollup.objects.none()
            for start in quarters:
                native |= rollups.filter(
                    grain__in=[Grain.MONTH, Grain.QUARTER],
                    period__gte=start,
                    period__lt=bucket_end(start, Grain.QUARTER),
                )
            native |= rollups.filter(grain=Grain.NATIVE, period__in=self.periods)
            rollups = native
        rollups._raw_delete(rollups.db)


# --------------------------------------------------------------------------------------------------
# Recompute
# --------------------------------------------------------------------------------------------------

RECOMPUTE_STEPS = 5
#: The PostgreSQL advisory lock key that serialises rollup writers (any constant 64-bit number, ours alone).
ROLLUP_WRITERS_LOCK = 0x5350_4D52_4F4C_4C55  # "SPMROLLU"


def rollups_recompute(
    *,
    kpi_ids: Iterable[int] = (),
    periods: Iterable[dt.date] = (),
    scope: str = "",
    scope_keys: Iterable[str] = (),
    product_ids: Iterable[int] = (),
    progress: Callable[[str], None] | None = None,
    staged: StagedRollups | None = None,
) -> None:
    """Replace the rollups of the given KPIs and periods (everything when both are empty), or of one scope's
    keys, and their forecasts (``portfolio.kpis.forecast.store``), in one transaction, then refresh product
    health. Readers see the old rows or the new, never a mix.
    ``staged``: every rollup computed beforehand by ``rollups_staged`` (a full recompute only). ``product_ids``:
    with one KPI, the products whose measurements changed (only their forecasts are redone; empty: all)."""
    selection = RollupSelection(
        kpi_ids=tuple(sorted(set(kpi_ids))),
        periods=tuple(sorted(set(periods))),
        scope=scope,
        scope_keys=tuple(sorted(set(scope_keys))),
    )
    now = timezone.now()

    def step(name: str) -> None:
        if progress:
            progress(name)

    everything = not (selection.kpi_ids or selection.periods or selection.scope)
    if staged is not None and not everything:
        raise ValueError("Staged rollups replace every rollup; this recompute is narrower.")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One recompute at a time: each deletes and re-inserts rows another may be replacing, so the
            # second waits here until the first commits. Released with the transaction. (SQLite transactions
            # here are IMMEDIATE: writers are serialised already.)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_WRITERS_LOCK])
            _recompute_settings(cursor)
        if staged is not None:
            # Empty the table rather than delete its rows: inserting 234,000 rows past as many deleted-but-
            # not-yet-vacuumed index entries costs three times as much. TRUNCATE holds an exclusive lock until
            # this transaction commits, so readers wait (about a second) rather than see half of anything.
            cursor.execute("TRUNCATE portfolio_rollup")
        else:
            selection.delete_rollups()
        if staged is not None:
            # Computed beforehand on two connections at once (rollups_staged): copied in, in this transaction.
            now = staged.computed_at
            cursor.execute(
                f"INSERT INTO portfolio_rollup ({ROLLUP_COLUMNS}) SELECT {ROLLUP_COLUMNS} FROM {STAGING_TABLE} "
                # In the unique index's order: each index page is written once, not revisited at random.
                "ORDER BY scope, grain, kpi_id, period, scope_key"
            )
            for name in ("native periods", "months", "quarters"):
                step(name)
        else:
            _products_table(cursor)
            where, params = selection.measurement_filter(Grain.NATIVE)
            cursor.execute(native_sql(where, selection.scopes), [*params, now])
            step("native periods")
            where, params = selection.measurement_filter(Grain.QUARTER)
            cursor.execute(f"DROP TABLE IF EXISTS {MONTHS_TABLE}")
            cursor.execute(months_table_sql(where), params)
            cursor.execute(calendar_sql(Grain.MONTH, selection.scopes), [now])
            step("months")
            cursor.execute(calendar_sql(Grain.QUARTER, selection.scopes), [now])
            cursor.execute(f"DROP TABLE {MONTHS_TABLE}")
            cursor.execute(f"DROP TABLE {PRODUCTS_TABLE}")
            step("quarters")
        if selection.scope and not (selection.kpi_ids or selection.periods):
            # A product moved between keys: its own forecasts stand, the scopes' are regrouped.
            forecasts_recombine(scope=selection.scope, scope_keys=selection.scope_keys, now=now)
        else:
            computed = staged.forecasts if staged is not None else None
            forecasts_recompute(
                kpi_ids=selection.kpi_ids, product_ids=product_ids, now=now, computed=computed
            )
            # KPIs newly forecast to miss their quarter, and cells newly worse: events, in this transaction.
            forecast_misses_notify(kpi_ids=selection.kpi_ids, product_ids=product_ids, now=now)
            kpi_cells_worse_notify(kpi_ids=selection.kpi_ids, now=now)
        step("forecasts")
        if not selection.periods:
            # Period-restricted recomputes follow measurement writes, whose service refreshes the health of
            # the products it touched; everything wider may change any product's health.
            products_refresh_health()
        RollupState.objects.update_or_create(pk=1, defaults={"computed_at": now})
        step("product health")
    if connection.vendor == "postgresql" and everything and staged is None:
        # Every row was replaced: fresh planner statistics, or the director view's queries may scan the table.
        # (After a staged recompute, rollups_staged vacuums and analyses once the copy has committed.)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE portfolio_rollup")


def products_refresh_health(*, product_ids: Iterable[int] = ()) -> None:
    """Store each product's health (all products, or some): the worst status among its KPIs' latest values.

    The latest period per product and KPI comes from the (product, KPI, period) unique index; no sort of the
    measurement table.
    """
    product_ids = sorted(set(product_ids))
    only = f"WHERE m.product_id IN ({', '.join(['%s'] * len(product_ids))})" if product_ids else ""
    status = status_sql("m.value", EFFECTIVE_TARGET)
    severity = (
        f"CASE {status} WHEN 'off_target' THEN 3 WHEN 'at_risk' THEN 2 WHEN 'on_target' THEN 1 ELSE 0 END"
    )
    sql = f"""
        SELECT l.product_id, MAX({severity})
        FROM (SELECT m.product_id, m.kpi_id, MAX(m.period) AS period FROM portfolio_measurement m {only}
              GROUP BY m.product_id, m.kpi_id) l
        JOIN portfolio_measurement m ON m.product_id = l.product_id AND m.kpi_id = l.kpi_id AND m.period = l.period
        JOIN portfolio_kpi k ON k.id = m.kpi_id
        LEFT JOIN portfolio_kpitarget t ON t.product_id = m.product_id AND t.kpi_id = m.kpi_id
        GROUP BY l.product_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, product_ids)
        severities = dict(cursor.fetchall())
    products = Product.objects.only("pk", "health", "name", "slug")
    if product_ids:
        products = products.filter(pk__in=product_ids)
    changed, worse = [], []
    for product in products:
        severity = severities.get(product.pk, 0)
        health = HEALTH_BY_SEVERITY[severity]
        if product.health != health:
            if 0 < SEVERITY_OF_HEALTH[product.health] < severity:
                worse.append((product, product.health, health))
            product.health = health
            changed.append(product)
    Product.objects.bulk_update(changed, ["health"], batch_size=500)
    # Worse than a known health (a first value is not news: its author just entered it): one event each.
    products_health_worse_notify(worse, now=timezone.now())


def rollups_recompute_all(*, progress: Callable[[str], None] | None = None) -> None:
    """Recompute every rollup of every KPI (rollups of KPIs without measurements disappear)."""
    with rollups_staged() as staged:
        rollups_recompute(progress=progress, staged=staged)


# --------------------------------------------------------------------------------------------------
# A full recompute on PostgreSQL: two connections at once
# --------------------------------------------------------------------------------------------------

STAGING_TABLE = "spm_rollup_staging"


@dataclass(frozen=True)
class StagedRollups:
    """Every rollup, computed into the staging table at ``computed_at``, and every forecast, being computed on a
    third connection once the staging is done (``forecasts`` waits for them); ``rollups_recompute(staged=…)``
    copies them in."""

    computed_at: dt.datetime
    forecasts_done: Callable[[], ComputedForecasts] | None = None

    @property
    def forecasts(self) -> ComputedForecasts | None:
        return self.forecasts_done() if self.forecasts_done is not None else None


def _recompute_settings(cursor) -> None:
    # Room for the hash aggregates to stay in memory; this transaction only.
    cursor.execute("SET LOCAL work_mem = '256MB'")
    # JIT compiling these statements costs more than it saves (up to a second, when the planner's estimates
    # for the temporary tables run high).
    cursor.execute("SET LOCAL jit = off")
    # Rollups are derived: a crash that loses the last recompute loses nothing the next one won't redo, so
    # the commit need not wait for its WAL to reach the disk.
    cursor.execute("SET LOCAL synchronous_commit = off")


def _products_table(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {PRODUCTS_TABLE}")
    cursor.execute(products_table_sql())
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {PRODUCTS_TABLE}")  # temporary tables have no statistics otherwise
    else:
        cursor.execute(f"CREATE INDEX {PRODUCTS_TABLE}_product ON {PRODUCTS_TABLE} (product_id)")


def _stage_native(now: dt.datetime) -> None:
    with connection.cursor() as cursor:
        _recompute_settings(cursor)
        _products_table(cursor)
        cursor.execute(native_sql("1=1", table=STAGING_TABLE), [now])


def _stage_calendar(now: dt.datetime) -> None:
    with connection.cursor() as cursor:
        _recompute_settings(cursor)
        _products_table(cursor)
        cursor.execute(months_table_sql("1=1"))
        cursor.execute(calendar_sql(Grain.MONTH, table=STAGING_TABLE), [now])
        cursor.execute(calendar_sql(Grain.QUARTER, table=STAGING_TABLE), [now])


def _stage_forecasts(now: dt.datetime) -> ComputedForecasts:
    with connection.cursor() as cursor:
        _recompute_settings(cursor)
    return forecasts_compute()


def _on_own_connection(
    work: Callable[[dt.datetime], object], now: dt.datetime, errors: list, results: dict | None = None
) -> None:
    """Run ``work`` in a thread's own database connection and transaction (Django's connections are
    per thread), keeping its result (by the work's name) and any error for the caller."""
    try:
        with transaction.atomic():
            result = work(now)
        if results is not None:
            results[work.__name__] = result
    except BaseException as error:  # handed to the calling thread, which raises it
        errors.append(error)
    finally:
        connection.close()


@contextmanager
def rollups_staged() -> Iterator[StagedRollups | None]:
    """On PostgreSQL, outside any transaction: compute every rollup into an unlogged staging table on two
    connections at once (native periods on one; months and quarters on the other), so that a full recompute
    uses two cores. Yields what ``rollups_recompute(staged=…)`` then copies in, in the caller's transaction;
    yields None where that cannot help (SQLite, or inside a transaction whose uncommitted writes the other
    connections could not see): the recompute then computes in its own transaction, as any other.

    Full recomputes are serialised for the whole time (a session advisory lock on the rollup writers' key)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield None
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [ROLLUP_WRITERS_LOCK])
    forecaster = None
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE UNLOGGED TABLE IF NOT EXISTS {STAGING_TABLE} (scope varchar(12), scope_key varchar(150), "
                "kpi_id bigint, grain varchar(7), period date, value double precision, target double precision, "
                "status varchar(10), products integer, computed_at timestamptz)"
            )
            cursor.execute(f"TRUNCATE {STAGING_TABLE}")
        now, errors, results = timezone.now(), [], {}
        stagers = [
            threading.Thread(
                target=_on_own_connection, args=(work, now, errors, results), name=f"rollups-{work.__name__}"
            )
            for work in (_stage_native, _stage_calendar)
        ]
        for worker in stagers:
            worker.start()
        for worker in stagers:
            worker.join()
        if errors:
            raise errors[0]
        # Forecasts read measurements only: computed (in Python, mostly) while the caller copies the staged rows
        # in, on the core that copy leaves idle, until the caller needs them. Computed beside the staging, they
        # slowed it by more than they took (two cores, three busy connections): 3 s of a 14 s recompute.
        forecaster = threading.Thread(
            target=_on_own_connection, args=(_stage_forecasts, now, errors, results), name="rollups-forecasts"
        )
        forecaster.start()

        def forecasts_done() -> ComputedForecasts:
            forecaster.join()
            if errors:
                raise errors[0]
            return results["_stage_forecasts"]

        yield StagedRollups(computed_at=now, forecasts_done=forecasts_done)
    finally:
        if forecaster is not None:
            forecaster.join()  # never left running past the lock, whatever happened
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {STAGING_TABLE}")
            # Every row is new: fresh planner statistics.
            cursor.execute("ANALYZE portfolio_rollup, portfolio_productforecast, portfolio_scopeforecast")
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ROLLUP_WRITERS_LOCK])
