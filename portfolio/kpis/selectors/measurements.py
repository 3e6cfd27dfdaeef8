"""Reads of measurements: a product's recent values, the measurement list and its pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import (
    QuerySet,
)

from portfolio.kpis.rules import rollup_status
from portfolio.kpis.selectors.scopes import period_range_filter
from portfolio.models import KPI, KPITarget, Measurement
from products.models import Product
from spm.admin_tools.paginator import CappedCountPaginator


def product_recent_measurements(*, product: Product, limit: int = 8) -> list[Measurement]:
    """The values most recently recorded for a product, newest first, with who recorded them."""
    return list(
        Measurement.objects.filter(product=product)
        .select_related("kpi", "recorded_by")
        .order_by("-recorded_at", "-pk")[:limit]
    )


def measurement_list(
    *,
    product: Product | None = None,
    kpi: KPI | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> QuerySet[Measurement]:
    """Measurements matching the filters (all when none), newest period first (the period index's order)."""
    measurements = Measurement.objects.filter(period_range_filter(period_from, period_to))
    if product is not None:
        measurements = measurements.filter(product=product)
    if kpi is not None:
        measurements = measurements.filter(kpi=kpi)
    return measurements.order_by("-period", "-pk")


def own_kpi_targets(
    *, product: Product | None = None, kpi: KPI | None = None
) -> dict[tuple[int, int], float]:
    """Products' own targets by (product id, KPI id); where a product has none, its KPI's default applies."""
    targets = KPITarget.objects.all()
    if product is not None:
        targets = targets.filter(product=product)
    if kpi is not None:
        targets = targets.filter(kpi=kpi)
    return {(p, k): t for p, k, t in targets.order_by().values_list("product_id", "kpi_id", "target")}


@dataclass(frozen=True)
class MeasurementRow:
    measurement: Measurement
    target: float | None  # the effective target: the product's own, else the KPI's default

    @property
    def status(self) -> str:
        m = self.measurement
        return rollup_status(
            value=m.value, target=self.target, direction=m.kpi.direction, tolerance=float(m.kpi.tolerance)
        )


MEASUREMENTS_PER_PAGE = 100
MEASUREMENT_ROW_FIELDS = (
    "product_id",
    "kpi_id",
    "period",
    "value",
    "product__slug",
    "product__name",
    "kpi__name",
    "kpi__unit",
    "kpi__direction",
    "kpi__tolerance",
    "kpi__default_target",
    "kpi__frequency",
)


def measurement_page(
    measurements: QuerySet[Measurement], *, page: int, per_page: int = MEASUREMENTS_PER_PAGE
) -> tuple[Page, list[MeasurementRow]]:
    """One page of measurements with their product, KPI and effective target, in four queries: the (capped) count, the
    page's ids (read from the index alone, so a deep page skips index entries rather than joined rows), those
    measurements with their product and KPI, and their products' own targets."""
    # Never a COUNT(*) of a million rows per page view: the planner's estimate for the whole table on
    # PostgreSQL, else a count capped at 10,000 ("more than 10,000").
    page_obj = CappedCountPaginator(measurements.values_list("pk", flat=True), per_page).get_page(page)
    ids = list(page_obj.object_list)
    # Unordered (the model's ordering would sort the joined rows by names only to fill a dict), and only what a row
    # shows: the product's slug and name, the KPI's words and status rules.
    by_id = (
        Measurement.objects.select_related("product", "kpi")
        .only(*MEASUREMENT_ROW_FIELDS)
        .order_by()
        .in_bulk(ids)
    )
    items = [by_id[pk] for pk in ids if pk in by_id]
    own = {}
    if items:
        own = {
            (p, k): t
            for p, k, t in KPITarget.objects.filter(
                product_id__in={m.product_id for m in items}, kpi_id__in={m.kpi_id for m in items}
            )
            .order_by()
            .values_list("product_id", "kpi_id", "target")
        }
    rows = [MeasurementRow(m, own.get((m.product_id, m.kpi_id), m.kpi.default_target)) for m in items]
    return page_obj, rows
