"""CSV exports of the director view: rollups, KPI definitions, measurements. Streamed row by row.

The columns are contracts (outside checks read them): KPIs are named by their ``name`` in all three files,
products by their slug, periods as ISO dates. Numbers are written at full precision (``repr`` of the float, as
``csv`` does), never rounded: rounding is for display. A missing target is an empty cell. Cells go through
``spm.csvfiles.writer.csv_cell``, so text a spreadsheet would run as a formula is defused the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping

from django.db.models import QuerySet
from django.utils import timezone

from portfolio.models import KPI, Measurement, Rollup
from portfolio.periods import native_periods_in
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
    "native_periods",
    "native_periods_in_bucket",
    # The stored forecast of the row's period, for the KPI's current month or quarter only (empty elsewhere).
    "forecast",
    "forecast_low_80",
    "forecast_high_80",
    "forecast_low_95",
    "forecast_high_95",
    "p_on_target",
)
#: A row without a forecast: the six forecast columns empty.
NO_FORECAST = (None,) * 6
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


def rollup_csv_rows(
    rollups: QuerySet[Rollup],
    *,
    kpi_names: Mapping[int, str],
    kpi_frequencies: Mapping[int, str],
    forecasts: Mapping[tuple, tuple] | None = None,
    today: dt.date | None = None,
) -> Iterator[tuple]:
    """One row per rollup in ``ROLLUP_COLUMNS`` order, read in chunks; KPI names and frequencies come from the
    mappings (a few rows) rather than a join per rollup.

    ``native_periods`` and ``native_periods_in_bucket`` make a like-for-like comparison possible outside the
    app: how many of the KPI's own periods the bucket holds that have begun by ``today`` (a quarter to date: 9
    weeks), and how many it holds in all (13). A ``sum``-over-time value divided by the first is its value per
    period (docs/kpis.md). The forecast columns come from ``forecasts`` by (scope, key, KPI id, grain, period)
    (``selectors.forecasts.forecast_export_figures``): only a KPI's current month or quarter has them.
    """
    forecasts = forecasts or {}
    today = today or timezone.localdate()
    counts: dict[tuple, tuple[int, int]] = {}

    def periods(period: dt.date, grain: str, frequency: str) -> tuple[int, int]:
        key = (period, grain, frequency)
        if key not in counts:
            counts[key] = (
                native_periods_in(period, grain, frequency, until=today),
                native_periods_in(period, grain, frequency),
            )
        return counts[key]

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
    for scope, key, kpi_id, grain, period, *rest in values.iterator(chunk_size=CHUNK_SIZE):
        yield (
            scope,
            key,
            kpi_names[kpi_id],
            grain,
            period,
            *rest,
            *periods(period, grain, kpi_frequencies[kpi_id]),
            *forecasts.get((scope, key, kpi_id, grain, period), NO_FORECAST),
        )


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
