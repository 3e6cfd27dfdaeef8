"""Reads of the stored forecasts for the director view: the scorecard's cells, a drill-down's cell and products,
and the rollup CSV. One query each, whatever the number of products (docs/kpis.md, "Forecasts")."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from portfolio.choices import Grain, Horizon
from portfolio.kpis.forecast.store import FORECAST_GRAINS
from portfolio.kpis.selectors.scopes import ExportFilters, ScopeColumn
from portfolio.models import KPI, ProductForecast, ScopeForecast
from portfolio.periods import quarter_label

#: The figures a line of forecast needs (``forecast_display.forecast_line`` reads them by name).
SUMMARY_FIELDS = ("period", "value", "low_80", "high_80", "p_on_target", "remaining", "reason")
#: The rollup CSV's forecast columns, in order (``exports.ROLLUP_COLUMNS``).
EXPORT_FIELDS = ("value", "low_80", "high_80", "low_95", "high_95", "p_on_target")


@dataclass(frozen=True)
class ForecastSummary:
    """One stored forecast's headline: the projected value of the period, its 80 % range and the chance it ends
    on target; without a forecast (``value`` None), ``reason`` says why."""

    period: dt.date | None
    value: float | None
    low_80: float | None = None
    high_80: float | None = None
    p_on_target: float | None = None
    remaining: int = 0  # the KPI's own periods of the period still to come; 0: the period is complete
    reason: str = ""

    @property
    def has_forecast(self) -> bool:
        return self.value is not None

    @property
    def open(self) -> bool:
        """A forecast of a period with something still to come (a complete period's value is measured)."""
        return self.value is not None and self.remaining > 0


def no_forecast(reason: str, period: dt.date | None = None) -> ForecastSummary:
    return ForecastSummary(period=period, value=None, reason=reason)


def scorecard_forecasts(
    *, grain: str, columns: Sequence[ScopeColumn], kpi_ids: Iterable[int]
) -> dict[tuple[str, str, int], ForecastSummary]:
    """The stored forecast of each (scope, key, KPI) of a scorecard's columns, in one query (none at the native
    grain, which has no forecasts). The caller keeps those whose period is the cell's."""
    kpi_ids = list(kpi_ids)
    if grain not in FORECAST_GRAINS or not columns or not kpi_ids:
        return {}
    rows = ScopeForecast.objects.filter(
        scope__in=sorted({column.scope for column in columns}),
        grain=grain,
        horizon=Horizon.CURRENT,
        kpi_id__in=kpi_ids,
        scope_key__in=sorted({column.key for column in columns}),
    ).values_list("scope", "scope_key", "kpi_id", *SUMMARY_FIELDS)
    return {(scope, key, kpi_id): ForecastSummary(*figures) for scope, key, kpi_id, *figures in rows}


def cell_forecast(
    *, kpi: KPI, column: ScopeColumn, grain: str, period: dt.date
) -> ScopeForecast | ForecastSummary:
    """The stored forecast of one scorecard cell (every field, for its explanation), or why there is none: the
    native grain, a period other than the KPI's current one, no product of the key with a history."""
    if grain not in FORECAST_GRAINS:
        return no_forecast("Only months and quarters are forecast: choose one of them as the grain.")
    stored = list(
        ScopeForecast.objects.filter(
            scope=column.scope, scope_key=column.key, grain=grain, horizon=Horizon.CURRENT, kpi=kpi
        )[:1]
    )
    if not stored:
        return no_forecast(f"No product of {column.label} has a history of {kpi.name} to forecast from.")
    forecast = stored[0]
    if forecast.period != period:
        return no_forecast(
            f"Only the KPI's current {grain}, {_bucket_label(forecast.period, grain)}, is forecast; "
            f"{_bucket_label(period, grain)} is not.",
            period,
        )
    return forecast


def _bucket_label(period: dt.date, grain: str) -> str:
    return quarter_label(period) if grain == Grain.QUARTER else f"{period:%b %Y}"


def product_forecasts(
    *, kpi: KPI, grain: str, period: dt.date, product_ids: Sequence[int]
) -> dict[int, ForecastSummary]:
    """Each product's stored forecast of the KPI's ``period`` at ``grain``, by product id, in one query (an index
    lookup per product: the unique (product, KPI, grain) index). Empty at the native grain."""
    if grain not in FORECAST_GRAINS or not product_ids:
        return {}
    rows = ProductForecast.objects.filter(
        product_id__in=list(product_ids), kpi=kpi, grain=grain, horizon=Horizon.CURRENT, period=period
    ).values_list("product_id", *SUMMARY_FIELDS)
    return {product_id: ForecastSummary(*figures) for product_id, *figures in rows}


def forecast_export_figures(
    filters: ExportFilters,
) -> dict[tuple[str, str, int, str, dt.date], tuple[float | None, ...]]:
    """The rollup CSV's forecast columns (``EXPORT_FIELDS``) by (scope, key, KPI id, grain, period), for the
    rows the same filters export (``scopes.rollup_export_rows``): one query, a row per scope key, KPI and grain.
    A number that is not finite is left out (None), so the file never holds NaN or infinity."""
    forecasts = filters.apply(ScopeForecast.objects.filter(horizon=Horizon.CURRENT))
    rows = forecasts.filter(value__isnull=False).values_list(
        "scope", "scope_key", "kpi_id", "grain", "period", *EXPORT_FIELDS
    )
    return {
        (scope, key, kpi_id, grain, period): tuple(_finite(number) for number in figures)
        for scope, key, kpi_id, grain, period, *figures in rows
    }


def _finite(number: float | None) -> float | None:
    return number if number is not None and math.isfinite(number) else None
