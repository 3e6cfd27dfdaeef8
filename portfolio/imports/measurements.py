"""Importing measurements (and targets): check every row, then write in one transaction."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from portfolio.imports.cells import (
    CellError,
    duplicate_message,
    parse_date,
    parse_number,
    unknown_message,
)
from portfolio.imports.outcome import MAX_CHANGES_KEPT, ImportOutcome, ImportRequest, csv_reader
from portfolio.imports.staging import MeasurementStaging
from portfolio.kpis.engine import products_refresh_health
from portfolio.kpis.exports import MEASUREMENT_COLUMNS
from portfolio.kpis.services import rollups_mark_stale
from portfolio.models import KPI, KPITarget
from portfolio.periods import period_name, period_start
from portfolio.validity import period_problem
from products.models import Product, User
from products.permissions import (
    product_ids_user_may_edit,
)

MEASUREMENT_BATCH = 10_000
# More (KPI, period) pairs than this are marked stale as whole KPIs: one mark per KPI instead of thousands.
STALE_PAIRS_LIMIT = 5000
# Health is refreshed for the products an import touched, or for all of them beyond this many.
HEALTH_PRODUCTS_LIMIT = 2000


# --------------------------------------------------------------------------------------------------
# Measurements: product, kpi, period, value, target
# --------------------------------------------------------------------------------------------------


def import_measurements(request: ImportRequest, outcome: ImportOutcome) -> None:
    products = dict(Product.objects.values_list("slug", "pk"))
    kpis = {
        kpi.name: (kpi.pk, kpi.frequency, kpi.default_target, kpi)
        for kpi in KPI.objects.only("name", "unit", "frequency", "default_target", "min_value", "max_value")
    }
    defaults = {pk: default for pk, _frequency, default, _kpi in kpis.values()}
    # The values each KPI can take (portfolio.kpis.rules): the same rule as the form, the admin and the services.
    valid = {pk: kpi.valid_range for pk, _frequency, _default, kpi in kpis.values()}
    editable = product_ids_user_may_edit(request.user, products.values())
    own_targets = {(p, k): t for p, k, t in KPITarget.objects.values_list("product_id", "kpi_id", "target")}
    today = timezone.localdate()
    moved = 0  # rows that gave a day inside a period: they count for that period, as on the form
    # The file's target per product and KPI, and the line that gave it.
    targets: dict[tuple[int, int], tuple[float, int]] = {}
    reader = csv_reader(request, MEASUREMENT_COLUMNS, outcome)
    # A period's check depends on its text and the KPI's frequency only: done once per pair, not per row.
    periods: dict[tuple[str, str], str | CellError] = {}

    def period_of(text: str, frequency: str) -> str | CellError:
        key = (text, frequency)
        if key not in periods:
            try:
                day = parse_date(text)
                period = period_start(day, frequency)
                if problem := period_problem(period, frequency=frequency, today=today):
                    raise CellError(problem)
                periods[key] = period.isoformat()
            except CellError as error:
                periods[key] = error
        return periods[key]

    with MeasurementStaging() as staging:
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
                and value in valid[kpi[0]]  # also false for NaN, infinities and typos past 10^15
                and (not target_text or (target is not None and target in valid[kpi[0]]))
            )
            if not fast:
                # Some cell is wrong: find every problem of the row, with its message.
                errors = outcome.error_count
                if product_id is None:
                    outcome.add(line, "product", unknown_message("product slug", slug, products))
                elif product_id not in editable:
                    outcome.add(
                        line, "product", f"You may not edit {slug}, so you may not import its measurements."
                    )
                if kpi is None:
                    outcome.add(line, "kpi", unknown_message("KPI", kpi_name, kpis))
                    try:
                        parse_date(period_text)
                    except CellError as error:
                        outcome.add(line, "period", str(error))
                elif isinstance(period, CellError):
                    outcome.add(line, "period", str(period))
                for column, text, required in (("value", value_text, True), ("target", target_text, False)):
                    try:
                        number = parse_number(text, required=required)
                    except CellError as error:
                        outcome.add(line, column, str(error))
                        continue
                    problem = (
                        kpi[3].value_problem(number, what=column) if kpi and number is not None else None
                    )
                    if problem:
                        outcome.add(line, column, problem)
                if outcome.error_count != errors:
                    continue
            if period != period_text:
                moved += 1
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
        duplicates, count = staging.duplicates(limit=outcome.errors_room)
        for line, first in duplicates:
            outcome.add(line, "", duplicate_message(first, "product, KPI and period"))
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
        if moved:
            outcome.extra["moved_to_period_start"] = moved
        _note_changes(
            outcome,
            staging,
            targets=targets,
            target_changes=target_changes,
            own_targets=own_targets,
            defaults=defaults,
            names={pk: name for name, (pk, *_rest) in kpis.items()},
            slugs={pk: slug for slug, pk in products.items()},
        )
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


def _note_changes(
    outcome: ImportOutcome,
    staging: MeasurementStaging,
    *,
    targets: dict[tuple[int, int], tuple[float, int]],
    target_changes: dict[tuple[int, int], float],
    own_targets: dict[tuple[int, int], float],
    defaults: dict[int, float | None],
    names: dict[int, str],
    slugs: dict[int, str],
) -> None:
    """The changes to existing data, old -> new, by line: values that replace a different one, then targets."""
    for line, slug, name, frequency, period, old, new in staging.changes(limit=MAX_CHANGES_KEPT):
        outcome.note_change(line, f"{slug} · {name} · {period_name(period, frequency)}", "value", old, new)
    for (product, kpi), new in sorted(target_changes.items(), key=lambda item: targets[item[0]][1]):
        old = own_targets.get((product, kpi), defaults[kpi])
        outcome.note_change(
            targets[(product, kpi)][1], f"{slugs[product]} · {names[kpi]}", "target", old, new
        )


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
