"""Reads for KPI cards: a product's KPIs with their latest values and this quarter's forecasts, the key KPI, the
KPI overview."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import (
    OuterRef,
    Subquery,
)

from portfolio.choices import Frequency, Grain, Horizon, Scope
from portfolio.kpis.forecast.outlook import NativeOutlook, native_outlook
from portfolio.kpis.rules import rollup_status
from portfolio.kpis.selectors.scorecard import RollupPoint
from portfolio.models import KPI, KPITarget, Measurement, ProductForecast, Rollup
from products.models import Product

#: The forecast a product's KPI card shows: the quarter's, as the dashboard's tile and the key results' do.
CARD_FORECAST_GRAIN = Grain.QUARTER
SPARKLINE_POINTS = 12
# How far back a sparkline reaches: about SPARKLINE_POINTS periods of the KPI's own frequency.
SPARKLINE_SPAN = {
    Frequency.WEEKLY: dt.timedelta(weeks=SPARKLINE_POINTS),
    Frequency.MONTHLY: dt.timedelta(days=31 * SPARKLINE_POINTS),
    Frequency.QUARTERLY: dt.timedelta(days=92 * SPARKLINE_POINTS),
}


def key_kpi() -> KPI | None:
    """The KPI shown beside every product in tables: the first one flagged as key, else the first KPI."""
    return KPI.objects.order_by("-is_key", "name").first()


def latest_value_subquery(kpi_id: int) -> Subquery:
    latest = Measurement.objects.filter(product=OuterRef("pk"), kpi_id=kpi_id).order_by("-period")
    return Subquery(latest.values("value")[:1])


@dataclass
class KPICard:
    """A product's KPI: its history, effective target, the status of the latest value and the stored forecast of
    the KPI's current quarter (None before the first rollup recompute)."""

    kpi: KPI
    target: float | None
    periods: list[dt.date] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    forecast: ProductForecast | None = None
    next_forecast: ProductForecast | None = None  # the period after the current one

    @property
    def latest(self) -> float | None:
        return self.values[-1] if self.values else None

    @property
    def latest_period(self) -> dt.date | None:
        return self.periods[-1] if self.periods else None

    @property
    def status(self) -> str:
        if self.latest is None:
            return "no_data"
        return rollup_status(
            value=self.latest,
            target=self.target,
            direction=self.kpi.direction,
            tolerance=float(self.kpi.tolerance),
        )

    @property
    def rows(self) -> list[tuple[dt.date, float]]:
        return list(zip(self.periods, self.values, strict=True))

    @property
    def sparkline(self) -> list[float]:
        return self.values[-SPARKLINE_POINTS:]

    @cached_property
    def outlook(self) -> NativeOutlook | None:
        """The forecast over the KPI's periods still to come, for its trend chart (None: nothing to come)."""
        forecast = self.forecast
        if forecast is None or not self.values:
            return None
        return native_outlook(
            forecast=forecast,
            known=self.values[len(self.values) - forecast.done :] if forecast.done else [],
            last_period=self.latest_period,
            frequency=self.kpi.frequency,
            time_aggregation=self.kpi.time_aggregation,
            start=self.latest,
        )


def product_kpi_cards(*, product: Product) -> list[KPICard]:
    """Every KPI the product measures, with its whole history and the forecasts of this quarter and the next (each
    KPI with its measured forecast accuracy), in four queries (the forecasts: one, through the forecasts' unique
    index on product, KPI, grain and horizon)."""
    kpis = {
        kpi.pk: kpi for kpi in KPI.objects.order_by("-is_key", "name").select_related("forecast_accuracy")
    }
    # No ORDER BY: the model's ordering (by KPI and product name) would join both tables for a dict.
    targets = dict(KPITarget.objects.filter(product=product).order_by().values_list("kpi_id", "target"))
    cards: dict[int, KPICard] = {}
    history = (
        Measurement.objects.filter(product=product)
        .order_by("kpi_id", "period")
        .values_list("kpi_id", "period", "value")
    )
    for kpi_id, period, value in history:
        card = cards.get(kpi_id)
        if card is None:
            kpi = kpis[kpi_id]
            card = cards[kpi_id] = KPICard(kpi=kpi, target=targets.get(kpi_id, kpi.default_target))
        card.periods.append(period)
        card.values.append(value)
    for forecast in ProductForecast.objects.filter(product=product, grain=CARD_FORECAST_GRAIN).order_by():
        if forecast.kpi_id in cards:
            if forecast.horizon == Horizon.CURRENT:
                cards[forecast.kpi_id].forecast = forecast
            else:
                cards[forecast.kpi_id].next_forecast = forecast
    order = list(kpis)
    return sorted(cards.values(), key=lambda card: order.index(card.kpi.pk))


@dataclass(frozen=True)
class KPIOverview:
    """A KPI definition with its latest organisation-level rollup (native period)."""

    kpi: KPI
    latest: RollupPoint | None


def kpi_overview() -> list[KPIOverview]:
    """Every KPI with the status of its latest organisation-wide native period, in two queries: the KPIs with
    their latest rollup's id (an index lookup per KPI), then those rollups."""
    latest = Rollup.objects.filter(scope=Scope.ORGANISATION, grain=Grain.NATIVE, kpi=OuterRef("pk")).order_by(
        "-period"
    )
    kpis = list(
        KPI.objects.order_by("-is_key", "name").annotate(latest_rollup=Subquery(latest.values("pk")[:1]))
    )
    rollups = Rollup.objects.in_bulk([k.latest_rollup for k in kpis if k.latest_rollup])
    overview = []
    for kpi in kpis:
        rollup = rollups.get(kpi.latest_rollup)
        point = (
            RollupPoint(rollup.period, rollup.value, rollup.target, rollup.status, rollup.products)
            if rollup
            else None
        )
        overview.append(KPIOverview(kpi=kpi, latest=point))
    return overview
