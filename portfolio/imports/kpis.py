"""Importing KPI definitions."""

from __future__ import annotations

from decimal import Decimal

from portfolio.choices import Aggregation, Direction, Frequency, TimeAggregation
from portfolio.imports.cells import CellError, duplicate_message, parse_choice, parse_number
from portfolio.imports.outcome import ImportOutcome, ImportRequest, checked_or_applied, csv_reader
from portfolio.kpis.engine import products_refresh_health
from portfolio.kpis.exports import KPI_COLUMNS
from portfolio.kpis.services import rollups_mark_stale
from portfolio.models import KPI
from portfolio.validity import valid_range, value_problem

# --------------------------------------------------------------------------------------------------
# KPI definitions: kpi, unit, direction, aggregation, time_aggregation, target, tolerance, frequency
# --------------------------------------------------------------------------------------------------

# Changing these changes what the KPI's rollups (or statuses) are.
KPI_ROLLUP_FIELDS = ("direction", "aggregation", "time_aggregation", "default_target", "tolerance")


def import_kpis(request: ImportRequest, outcome: ImportOutcome) -> None:
    existing = {kpi.name: kpi for kpi in KPI.objects.all()}
    measured = set(KPI.objects.filter(measurements__isnull=False).values_list("pk", flat=True).distinct())
    rows: list[tuple[int, str, dict]] = []
    seen: dict[str, int] = {}
    reader = csv_reader(request, KPI_COLUMNS, outcome)
    for line, cells in reader:
        name, unit, direction, aggregation, time_aggregation, target, tolerance, frequency = cells
        errors = outcome.error_count
        if not name:
            outcome.add(line, "kpi", "The KPI name is missing.")
        elif len(name) > 80:
            outcome.add(line, "kpi", f"The KPI name is {len(name)} characters long; at most 80.")
        elif name in seen:
            outcome.add(line, "kpi", duplicate_message(seen[name], "KPI name"))
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
        else:
            # The target must be a possible value: the KPI's own bounds (kept by an import) or its unit's.
            known = existing.get(name)
            bounds = valid_range(
                unit=unit,
                min_value=known.min_value if known else None,
                max_value=known.max_value if known else None,
            )
            default = fields["default_target"]
            if default is not None and (
                problem := value_problem(
                    default, kpi_name=name or "this KPI", unit=unit, valid=bounds, what="target"
                )
            ):
                outcome.add(line, "target", problem)
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
    with checked_or_applied(request, outcome):
        for line, name, fields in rows:
            kpi = existing.get(name)
            if kpi is None:
                kpi = KPI(name=name, **fields)
                kpi._history_user = request.user
                kpi.save()
                outcome.created += 1
                continue
            changed = [column for column, value in fields.items() if getattr(kpi, column) != value]
            for column in changed:
                outcome.note_change(line, name, column, getattr(kpi, column), fields[column])
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
