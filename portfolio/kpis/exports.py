"""CSV exports of the director view: rollups, KPI definitions, measurements. Streamed row by row.

The columns are contracts (outside checks read them): KPIs are named by their ``name`` in all three files,
products by their slug, periods as ISO dates. Numbers are written at full precision (``repr`` of the float, as
``csv`` does), never rounded: rounding is for display. A missing target is an empty cell. Cells go through
``spm.csvfiles.writer.csv_cell``, so text a spreadsheet would run as a formula is defused the same way everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from django.db.models import QuerySet

from portfolio.models import KPI, Measurement, Rollup
from spm.csvfiles.writer import CHUNK_SIZE

ROLLUP_COLUMNS = (
    "scope",
    "scope_key",
    "kpi",
    "grain",
    "period",
    "value",
    "target",
    "status",
    "products",
    "computed_at",
)
KPI_COLUMNS = (
    "kpi",
    "unit",
    "direction",
    "aggregation",
    "time_aggregation",
    "target",
    "tolerance",
    "frequency",
)
MEASUREMENT_COLUMNS = ("product", "kpi", "period", "value", "target")


def rollup_csv_rows(rollups: QuerySet[Rollup], *, kpi_names: Mapping[int, str]) -> Iterator[tuple]:
    """One row per rollup in ``ROLLUP_COLUMNS`` order, read in chunks; KPI names come from ``kpi_names``
    (a few rows) rather than a join per rollup."""
    values = rollups.values_list(
        "scope",
        "scope_key",
        "kpi_id",
        "grain",
        "period",
        "value",
        "target",
        "status",
        "products",
        "computed_at",
    )
    for scope, key, kpi_id, *rest in values.iterator(chunk_size=CHUNK_SIZE):
        yield (scope, key, kpi_names[kpi_id], *rest)


def kpi_csv_rows(kpis: Iterable[KPI]) -> Iterator[tuple]:
    """One row per KPI in ``KPI_COLUMNS`` order; ``target`` is the default target, ``tolerance`` in percent."""
    for kpi in kpis:
        yield (
            kpi.name,
            kpi.unit,
            kpi.direction,
            kpi.aggregation,
            kpi.time_aggregation,
            kpi.default_target,
            float(kpi.tolerance),
            kpi.frequency,
        )


def measurement_csv_rows(
    measurements: QuerySet[Measurement],
    *,
    kpis: Iterable[KPI],
    own_targets: Mapping[tuple[int, int], float],
) -> Iterator[tuple]:
    """One row per measurement in ``MEASUREMENT_COLUMNS`` order, with its effective target (the product's own,
    from ``own_targets`` by (product id, KPI id), else the KPI's default).

    Read in the order of the (product, KPI, period) unique index, so the database streams without sorting and
    memory stays bounded by the chunk size whatever the number of measurements.
    """
    by_id = {kpi.pk: kpi for kpi in kpis}
    values = measurements.order_by("product_id", "kpi_id", "period").values_list(
        "product_id", "product__slug", "kpi_id", "period", "value"
    )
    for product_id, slug, kpi_id, period, value in values.iterator(chunk_size=CHUNK_SIZE):
        kpi = by_id[kpi_id]
        yield (slug, kpi.name, period, value, own_targets.get((product_id, kpi_id), kpi.default_target))
