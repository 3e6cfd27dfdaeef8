"""The demo's KPI histories: believable series that end where each product's planned status says, written in bulk."""

from __future__ import annotations

import calendar
import datetime as dt
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import repeat
from typing import TextIO

from django.db import connection
from django.db.backends.utils import CursorWrapper
from tqdm import tqdm

from portfolio.choices import Direction, Frequency
from portfolio.demo.kpi_specs import AT_RISK, END_BANDS, KPIS, OFF_TARGET, ON_TARGET, TROUBLED_WEIGHT, KPISpec
from portfolio.demo.plan import OrganisationPlan
from portfolio.models import KPI, Measurement
from products.models import Product

# Rows per executemany call on SQLite: large enough to amortise the call, small enough to stay light.
SQLITE_CHUNK_ROWS = 20_000
SQRT_6 = math.sqrt(6)

# --------------------------------------------------------------------------------------------------
# KPI history
# --------------------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def demo_periods(*, today: dt.date, months: int, frequency: str) -> list[dt.date]:
    """The periods of the last ``months`` months up to the current one: Mondays, or firsts of months."""
    if frequency == Frequency.MONTHLY:
        return [add_months(today.replace(day=1), -back) for back in range(months - 1, -1, -1)]
    start = add_months(today, -months)
    monday = start + dt.timedelta(days=(7 - start.weekday()) % 7)
    current = today - dt.timedelta(days=today.weekday())
    return [monday + dt.timedelta(weeks=week) for week in range((current - monday).days // 7 + 1)]


def season_shape(periods: Sequence[dt.date]) -> list[float]:
    """Each period's place in the year as a number from -1 (mid-June) to 1 (mid-December): the demo's
    seasonal KPIs swing with it (``KPISpec.season``)."""
    return [math.cos(2 * math.pi * (period.timetuple().tm_yday - 350) / 365.25) for period in periods]


def kpi_history(
    rng: random.Random,
    spec: KPISpec,
    *,
    target: float,
    status: str,
    periods: int,
    trend: float = 0.0,
    season: Sequence[float] = (),
) -> list[float]:
    """A plausible series of ``periods`` values whose last value has ``status`` against ``target``.

    A linear trend from an earlier level to the final one (volume KPIs grow; rates moved by about
    ``trend`` tolerances in the good direction), a yearly season for the KPIs that have one (``season``:
    ``season_shape`` of the periods, scaled by the spec's swing and pinned to the last period), a random walk
    pinned to zero at both ends (a Brownian bridge) for slow wandering, and noise per period. The last value
    is exact, so the product's health comes out as planned.
    """
    sign = 1 if spec.direction == Direction.HIGHER else -1
    tolerance = spec.tolerance_fraction
    standing = rng.uniform(*END_BANDS[status])  # in tolerances, positive on the good side of the target
    end = target * (1 + sign * standing * tolerance)
    if spec.volume:
        start = end * math.exp(-rng.gauss(0.25, 0.25))  # most products grew over the window
    else:
        start = target * (1 + sign * (standing - trend + rng.gauss(0, 0.8)) * tolerance)

    # This loop runs a million times for the big portfolio: two uniforms make a bell-shaped step
    # (u1 + u2 - 1 has standard deviation 1/sqrt(6)) at a fraction of random.gauss's cost.
    uniform, drift, noise = rng.random, spec.drift * SQRT_6, spec.noise * SQRT_6
    walk, position = [], 0.0
    for _ in range(periods):
        walk.append(position)
        position += (uniform() + uniform() - 1.0) * drift
    closing, steps = walk[-1], max(periods - 1, 1)
    floor, cap, decimals = spec.floor, spec.cap, spec.decimals
    swing = spec.season if len(season) == periods else 0.0
    seasonal = [swing * (place - season[-1]) for place in season] if swing else [0.0] * periods
    values = []
    for step in range(periods - 1):
        share = step / steps
        value = (start + (end - start) * share) * (
            1.0 + seasonal[step] + walk[step] - closing * share + (uniform() + uniform() - 1.0) * noise
        )
        if value < floor:
            value = floor
        elif cap is not None and value > cap:
            value = cap
        values.append(round(value, decimals))
    # Round the last value away from the boundary it must not cross: up when up is its side of the target.
    upward = (sign == 1) == (status == ON_TARGET)
    scale = 10**decimals
    last = (math.ceil if upward else math.floor)(end * scale) / scale
    last = max(last, floor) if cap is None else min(max(last, floor), cap)
    values.append(round(last, decimals))
    return values


def _kpi_statuses(rng: random.Random, profile: str, count: int, troubled: Sequence[int]) -> list[str]:
    """Per-KPI final status for a product: all on target, some at risk, or some off target.

    Misses fall more often on the portfolio's troubled KPIs, so some portfolio rollups turn amber or red.
    """
    statuses = [ON_TARGET] * count
    if profile == ON_TARGET:
        return statuses
    # Weighted sampling without replacement (Efraimidis-Spirakis): the largest u ** (1 / weight) win.
    keys = [rng.random() ** (1 / (TROUBLED_WEIGHT if index in troubled else 1)) for index in range(count)]
    chosen = sorted(range(count), key=keys.__getitem__, reverse=True)[:4]
    if profile == AT_RISK:
        for index in chosen[: rng.randint(1, 3)]:
            statuses[index] = AT_RISK
    else:
        for index in chosen[: rng.randint(1, 2)]:
            statuses[index] = OFF_TARGET
        for index in chosen[2 : 2 + rng.randint(0, 2)]:
            statuses[index] = AT_RISK
    return statuses


def _recorded_at(period: dt.date, frequency: str, anchor: dt.datetime) -> dt.datetime:
    """Values are entered the morning after their period ends (today's values: at the anchor)."""
    end = add_months(period, 1) if frequency == Frequency.MONTHLY else period + dt.timedelta(weeks=1)
    return min(dt.datetime.combine(end, dt.time(9), tzinfo=dt.UTC), anchor)


# One KPI's history for one product: (product id, KPI id, recorded-by id, frequency, values).
Series = tuple[int, int, int, str, list[float]]


def kpi_histories(
    plan: OrganisationPlan,
    *,
    product_rows: list[Product],
    kpis: list[KPI],
    seed: int,
    periods: dict[str, list[dt.date]],
    progress: TextIO | None,
) -> Iterator[list[Series]]:
    """Every KPI's history, one list per product (the progress bar counts products)."""
    specs = list(zip(KPIS, kpis, strict=True))
    seasons = {frequency: season_shape(frequency_periods) for frequency, frequency_periods in periods.items()}
    with tqdm(
        total=len(product_rows), desc="KPI history", unit="product", file=progress, disable=progress is None
    ) as bar:
        for product, plan_product in zip(product_rows, plan.products, strict=True):
            # One generator per product: its history does not depend on the products before it.
            rng = random.Random(f"measurements:{seed}:{plan_product.slug}")
            own_targets = dict(plan_product.targets)
            troubled = plan.troubled_kpis[plan_product.portfolio]
            statuses = _kpi_statuses(rng, plan_product.profile, len(specs), troubled)
            histories = []
            for (spec, kpi), status, trend in zip(specs, statuses, plan.kpi_trends, strict=True):
                target = own_targets.get(spec.name, spec.default_target)
                count = len(periods[spec.frequency])
                values = kpi_history(
                    rng,
                    spec,
                    target=target,
                    status=status,
                    periods=count,
                    trend=trend,
                    season=seasons[spec.frequency],
                )
                histories.append((product.pk, kpi.pk, product.owner_id, spec.frequency, values))
            yield histories
            bar.update(1)


MEASUREMENT_COLUMNS = ("product", "kpi", "period", "value", "recorded_at", "recorded_by")


def bulk_insert_measurements(
    histories: Iterable[list[Series]], *, periods: dict[str, list[dt.date]], anchor: dt.datetime
) -> int:
    """Insert measurements without building model instances: COPY on PostgreSQL, else executemany.

    Rows are built per series from period and timestamp cells prepared once per frequency.
    """
    recorded = {
        frequency: [_recorded_at(period, frequency, anchor) for period in frequency_periods]
        for frequency, frequency_periods in periods.items()
    }
    quote = connection.ops.quote_name
    table = quote(Measurement._meta.db_table)
    columns = ", ".join(quote(Measurement._meta.get_field(name).column) for name in MEASUREMENT_COLUMNS)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY's text format: tab-separated cells, one line per row, written a product at a time.
            cells = {
                frequency: [
                    (f"{period.isoformat()}\t", f"\t{at.isoformat()}\t")
                    for period, at in zip(periods[frequency], recorded[frequency], strict=True)
                ]
                for frequency in periods
            }
            with (
                _foreign_keys_checked_once(cursor, Measurement._meta.db_table),
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for product_histories in histories:
                    lines = []
                    for product_id, kpi_id, recorded_by_id, frequency, values in product_histories:
                        head, tail = f"{product_id}\t{kpi_id}\t", f"{recorded_by_id}\n"
                        lines += [
                            f"{head}{period}{value!r}{at}{tail}"
                            for (period, at), value in zip(cells[frequency], values, strict=True)
                        ]
                        count += len(values)
                    copy.write("".join(lines))
            return count
        ops = connection.ops
        adapted = {
            frequency: (
                [ops.adapt_datefield_value(period) for period in periods[frequency]],
                [ops.adapt_datetimefield_value(at) for at in recorded[frequency]],
            )
            for frequency in periods
        }
        # Identifiers come from the model's meta; the values are parameters.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(MEASUREMENT_COLUMNS))})"  # noqa: S608
        pending: list[tuple] = []
        for product_histories in histories:
            for product_id, kpi_id, recorded_by_id, frequency, values in product_histories:
                days, ats = adapted[frequency]
                n = len(values)
                pending += zip(
                    repeat(product_id, n),
                    repeat(kpi_id, n),
                    days,
                    values,
                    ats,
                    repeat(recorded_by_id, n),
                    strict=True,
                )
            if len(pending) >= SQLITE_CHUNK_ROWS:
                cursor.executemany(sql, pending)
                count += len(pending)
                pending = []
        if pending:
            cursor.executemany(sql, pending)
            count += len(pending)
    return count


@contextmanager
def _foreign_keys_checked_once(cursor: CursorWrapper, table: str) -> Iterator[None]:
    """PostgreSQL: drop ``table``'s foreign keys for a bulk load and add them back afterwards.

    Checked row by row, three foreign keys on 1M rows cost about 9 s at commit; added back, each is
    validated by one join (https://www.postgresql.org/docs/current/populate.html#POPULATE-RM-FKEYS).
    It all happens inside the seeding transaction, so no one ever sees the table without them.
    ALTER TABLE refuses tables with pending deferred checks (rows written earlier in this
    transaction), so those checks run first and constraints are deferred again afterwards.
    """
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    foreign_keys = cursor.fetchall()
    quote = connection.ops.quote_name
    for name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    yield
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
