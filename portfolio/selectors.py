"""Reads for the portfolio dashboards: a fixed number of queries whatever the portfolio's size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Count, Max, OuterRef, QuerySet, Subquery, Sum

from portfolio.models import KPI, Grain, KPITarget, Measurement, Portfolio, Rollup, Scope, Status
from products.models import Health, Product
from products.selectors import product_filter, sort_fields

SPARKLINE_POINTS = 12


def key_kpi() -> KPI | None:
    """The KPI shown beside every product in tables: the first one flagged as key, else the first KPI."""
    return KPI.objects.order_by("-is_key", "name").first()


def latest_value_subquery(kpi_id: int) -> Subquery:
    latest = Measurement.objects.filter(product=OuterRef("pk"), kpi_id=kpi_id).order_by("-period")
    return Subquery(latest.values("value")[:1])


@dataclass
class ProductRow:
    """One line of a product table: the product, its key KPI's recent values, and whether money shows."""

    product: Product
    key_values: list[float] = field(default_factory=list)
    key_target: float | None = None
    show_budget: bool = False

    @property
    def key_latest(self) -> float | None:
        return self.key_values[-1] if self.key_values else None

    @property
    def key_trend(self) -> str:
        if len(self.key_values) < 2:
            return "flat"
        previous, latest = self.key_values[-2], self.key_values[-1]
        return "up" if latest > previous else "down" if latest < previous else "flat"


def dashboard_products(*, filters: dict, kpi: KPI | None) -> QuerySet[Product]:
    products = product_filter(filters=filters)
    if filters.get("sort") == "key_kpi" and kpi is not None:
        products = products.annotate(key_kpi_value=latest_value_subquery(kpi.pk)).order_by(
            *sort_fields("key_kpi", filters.get("dir") or "asc")
        )
    return products


def product_rows(*, page_products: list[Product], kpi: KPI | None, budget_ids: set[int]) -> list[ProductRow]:
    """Rows for one page of products with their key KPI sparkline, in two queries."""
    rows = [ProductRow(product=p, show_budget=p.pk in budget_ids) for p in page_products]
    if kpi is None or not rows:
        return rows
    by_id = {row.product.pk: row for row in rows}
    latest = Measurement.objects.filter(kpi=kpi).aggregate(latest=Max("period"))["latest"]
    if latest is None:
        return rows
    since = latest - dt.timedelta(weeks=SPARKLINE_POINTS)
    values = (
        Measurement.objects.filter(kpi=kpi, product_id__in=by_id, period__gt=since)
        .order_by("product_id", "period")
        .values_list("product_id", "value")
    )
    for product_id, value in values:
        by_id[product_id].key_values.append(value)
    targets = dict(
        KPITarget.objects.filter(kpi=kpi, product_id__in=by_id).values_list("product_id", "target")
    )
    for row in rows:
        row.key_target = targets.get(row.product.pk, kpi.default_target)
    return rows


def paginate(queryset: QuerySet, *, page: int, per_page: int) -> Page:
    return Paginator(queryset, per_page).get_page(page)


@dataclass(frozen=True)
class KPIStatusCounts:
    on_target: int = 0
    at_risk: int = 0
    off_target: int = 0
    no_target: int = 0
    period: dt.date | None = None


def kpi_status_counts() -> KPIStatusCounts:
    """How many KPIs are on target, at risk, off target organisation-wide in their latest native period."""
    latest = (
        Rollup.objects.filter(scope=Scope.ORGANISATION, grain=Grain.NATIVE, kpi=OuterRef("kpi"))
        .order_by("-period")
        .values("period")[:1]
    )
    rows = (
        Rollup.objects.filter(scope=Scope.ORGANISATION, grain=Grain.NATIVE, period=Subquery(latest))
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict(rows)
    period = Rollup.objects.filter(scope=Scope.ORGANISATION, grain=Grain.NATIVE).aggregate(p=Max("period"))[
        "p"
    ]
    return KPIStatusCounts(
        on_target=counts.get(Status.ON_TARGET, 0),
        at_risk=counts.get(Status.AT_RISK, 0),
        off_target=counts.get(Status.OFF_TARGET, 0),
        no_target=counts.get(Status.NO_TARGET, 0),
        period=period,
    )


@dataclass(frozen=True)
class PortfolioTotals:
    products: int
    planned_budget: Decimal
    actual_spend: Decimal
    health: dict[str, int]

    @property
    def spend_ratio(self) -> float | None:
        if not self.planned_budget:
            return None
        return float(self.actual_spend / self.planned_budget)


def portfolio_totals(products: QuerySet[Product] | None = None) -> PortfolioTotals:
    """Headline numbers over some products (all by default), in two queries."""
    products = Product.objects.all() if products is None else products
    money = products.order_by().aggregate(
        n=Count("pk"), planned=Sum("planned_budget"), actual=Sum("actual_spend")
    )
    health = dict(products.order_by().values_list("health").annotate(n=Count("pk")))
    return PortfolioTotals(
        products=money["n"],
        planned_budget=money["planned"] or Decimal("0"),
        actual_spend=money["actual"] or Decimal("0"),
        health={choice.value: health.get(choice.value, 0) for choice in Health},
    )


def portfolios() -> QuerySet[Portfolio]:
    return Portfolio.objects.order_by("name")


def rollups_last_computed() -> dt.datetime | None:
    return Rollup.objects.aggregate(at=Max("computed_at"))["at"]


@dataclass
class KPICard:
    """A product's KPI: its history, effective target and the status of the latest value."""

    kpi: KPI
    target: float | None
    periods: list[dt.date] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    @property
    def latest(self) -> float | None:
        return self.values[-1] if self.values else None

    @property
    def latest_period(self) -> dt.date | None:
        return self.periods[-1] if self.periods else None

    @property
    def status(self) -> str:
        from portfolio.rollups import rollup_status

        if self.latest is None:
            return "no_data"
        return rollup_status(
            value=self.latest,
            target=self.target,
            direction=self.kpi.direction,
            tolerance=float(self.kpi.tolerance),
        )

    @property
    def sparkline(self) -> list[float]:
        return self.values[-SPARKLINE_POINTS:]


def product_kpi_cards(*, product: Product) -> list[KPICard]:
    """Every KPI the product measures, with its whole history, in three queries."""
    kpis = {kpi.pk: kpi for kpi in KPI.objects.order_by("-is_key", "name")}
    targets = dict(KPITarget.objects.filter(product=product).values_list("kpi_id", "target"))
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
    order = list(kpis)
    return sorted(cards.values(), key=lambda card: order.index(card.kpi.pk))
