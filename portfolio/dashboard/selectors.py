"""Reads for the portfolio dashboards: a fixed number of queries whatever the portfolio's size."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import Page
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    FilteredRelation,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.utils import timezone

from portfolio.alerts.catalogue import FORECAST_MISS_CHANCE
from portfolio.choices import Frequency, Grain, Horizon, Scope, Status
from portfolio.kpis.selectors.cards import SPARKLINE_POINTS, SPARKLINE_SPAN, key_kpi, latest_value_subquery
from portfolio.models import KPI, KPITarget, Measurement, Rollup, ScopeForecast
from portfolio.strategy.rules import ZERO
from portfolio.strategy.selectors.investment import YEAR_MONEY_COLUMNS, year_money_row, year_money_sums
from portfolio.strategy.selectors.money import MoneyRow
from products.choices import Health, Stage
from products.models import Product, User
from products.permissions import is_leadership, product_ids_with_budget_access, products_with_budget_access
from products.selectors import member_counts, product_filter, sort_fields
from spm.web.pagination import paginate

MONEY_SORTS = {"planned": "planned_budget", "actual": "actual_spend"}
FILTER_NAMES = ("q", "portfolio", "stage", "market", "focus", "health", "owner", "member")
# Filters that name one rollup scope: with exactly one of them (and no other filter) the KPI tiles read that
# scope's rollups; the filter's value is the rollup's scope key.
ROLLUP_SCOPES = {
    "portfolio": Scope.PORTFOLIO,
    "stage": Scope.STAGE,
    "market": Scope.MARKET,
    "focus": Scope.FOCUS,
    "owner": Scope.OWNER,
}


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

    @property
    def spend_ratio(self) -> float | None:
        """Actual spend as a share of planned budget (None without a budget or without access to it)."""
        if not self.show_budget or not self.product.planned_budget:
            return None
        return float(self.product.actual_spend / self.product.planned_budget)


def budget_scope(user: User) -> QuerySet[Product] | None:
    """The products whose money the user may see, as a lazy queryset; None when they see every product's."""
    if is_leadership(user):
        return None
    return products_with_budget_access(user, Product.objects.all())


def dashboard_products(
    *, filters: dict, kpi: KPI | None, budget_visible: QuerySet[Product] | None = None
) -> QuerySet[Product]:
    """``product_filter`` plus the sorts it cannot do alone: by the key KPI's latest value, and by money.

    ``budget_visible`` (from ``budget_scope``) limits a money sort to the products whose money the user may
    see; the others follow by name, so the order of the rows never reveals a budget they may not read.
    Missing values sort last in both directions.
    """
    products = product_filter(filters=filters)
    sort, direction = filters.get("sort") or "name", filters.get("dir") or "asc"
    if sort == "key_kpi" and kpi is not None:
        key = F("key_kpi_value")
        products = products.annotate(key_kpi_value=latest_value_subquery(kpi.pk))
    elif sort in MONEY_SORTS and budget_visible is not None:
        key = F("visible_money")
        products = products.annotate(
            visible_money=Case(
                When(pk__in=budget_visible.values("pk"), then=F(MONEY_SORTS[sort])),
                default=Value(None),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            )
        )
    else:
        return products
    first = key.desc(nulls_last=True) if direction == "desc" else key.asc(nulls_last=True)
    return products.order_by(first, *sort_fields(sort, direction)[1:])


def product_rows(*, page_products: list[Product], kpi: KPI | None, budget_ids: set[int]) -> list[ProductRow]:
    """Rows for one page of products with their key KPI sparkline, in three queries whatever the page size.

    A sparkline holds the KPI's values over its last ``SPARKLINE_POINTS`` periods (weeks, months or
    quarters, as the KPI is measured) before its latest measured period.
    """
    rows = [ProductRow(product=p, show_budget=p.pk in budget_ids) for p in page_products]
    if kpi is None or not rows:
        return rows
    by_id = {row.product.pk: row for row in rows}
    latest = Measurement.objects.filter(kpi=kpi).aggregate(latest=Max("period"))["latest"]
    if latest is None:
        return rows
    since = latest - SPARKLINE_SPAN.get(kpi.frequency, SPARKLINE_SPAN[Frequency.WEEKLY])
    values = (
        Measurement.objects.filter(kpi=kpi, product_id__in=by_id, period__gt=since)
        .order_by("product_id", "period")
        .values_list("product_id", "value")
    )
    for product_id, value in values:
        by_id[product_id].key_values.append(value)
    targets = dict(
        KPITarget.objects.filter(kpi=kpi, product_id__in=by_id).order_by().values_list("product_id", "target")
    )
    for row in rows:
        row.key_values = row.key_values[-SPARKLINE_POINTS:]
        row.key_target = targets.get(row.product.pk, kpi.default_target)
    return rows


@dataclass(frozen=True)
class MemberSplit:
    """The products of a member filter ("My products"): how many the person owns, how many they are a member
    of; ``is_you`` when the person is the user looking."""

    owned: int
    member_of: int
    is_you: bool

    @property
    def total(self) -> int:
        return self.owned + self.member_of


@dataclass(frozen=True)
class ProductTable:
    """One page of a filtered, sorted product table, ready to render."""

    page: Page
    rows: list[ProductRow]
    kpi: KPI | None
    member_split: MemberSplit | None = None


def product_table(*, filters: dict, user: User, count: int | None = None) -> ProductTable:
    """The page of products the filters ask for, with key KPI sparklines and money only where allowed.

    A fixed number of queries: the key KPI, the count (unless the caller knows it, e.g. from
    ``dashboard_summary``), the page, the page's budget access (not for leadership) and three for the
    sparklines. With a member filter the count is the ``MemberSplit`` aggregate (owned, member of) instead.
    """
    kpi = key_kpi()
    split = None
    if filters.get("member"):
        owned, member_of = member_counts(
            product_filter(filters={**filters, "sort": "name"}), username=filters["member"]
        )
        split = MemberSplit(owned=owned, member_of=member_of, is_you=filters["member"] == user.get_username())
        count = split.total
    products = dashboard_products(filters=filters, kpi=kpi, budget_visible=budget_scope(user))
    page = paginate(products, page=filters.get("page") or 1, per_page=filters["per_page"], count=count)
    page_products = list(page.object_list)
    budget_ids = (
        product_ids_with_budget_access(user, [p.pk for p in page_products]) if page_products else set()
    )
    rows = product_rows(page_products=page_products, kpi=kpi, budget_ids=budget_ids)
    return ProductTable(page=page, rows=rows, kpi=kpi, member_split=split)


@dataclass(frozen=True)
class KPIStatusCounts:
    on_target: int = 0
    at_risk: int = 0
    off_target: int = 0
    no_target: int = 0
    period: dt.date | None = None

    @property
    def total(self) -> int:
        return self.on_target + self.at_risk + self.off_target + self.no_target


def kpi_rollup_scope(filters: dict) -> tuple[str, str] | None:
    """The rollup scope and key that match the active filters exactly, or None when no rollup does.

    No filter: the organisation. One of portfolio, stage, market, focus or owner alone: that scope.
    Anything else (a search, a health filter, two filters at once) has no precomputed rollup.
    """
    active = {name: value for name, value in filters.items() if name in FILTER_NAMES and value}
    if not active:
        return Scope.ORGANISATION, "all"
    if len(active) == 1:
        ((name, value),) = active.items()
        if name in ROLLUP_SCOPES:
            return ROLLUP_SCOPES[name], str(value)
    return None


def kpi_status_counts(*, scope: str = Scope.ORGANISATION, key: str = "all") -> KPIStatusCounts:
    """How many KPIs are on target, at risk, off target in one scope (the whole organisation by default),
    each in its latest native period, from the rollups: one query whatever the portfolio's size.

    Driven from the (few) KPIs: each looks up its latest rollup through the rollups' unique index
    (scope, grain, KPI, period), so a scope with many keys (owners) costs no more than the organisation.
    """
    latest = Rollup.objects.filter(
        scope=scope, scope_key=key, grain=Grain.NATIVE, kpi=OuterRef("pk")
    ).order_by("-period")
    rows = (
        KPI.objects.annotate(
            latest_status=Subquery(latest.values("status")[:1]),
            latest_period=Subquery(latest.values("period")[:1]),
        )
        .filter(latest_period__isnull=False)
        .values_list("latest_status", "latest_period")
        .order_by()
    )
    counts: dict[str, int] = {}
    period = None
    for status, latest_period in rows:
        counts[status] = counts.get(status, 0) + 1
        period = latest_period if period is None else max(period, latest_period)
    return KPIStatusCounts(
        on_target=counts.get(Status.ON_TARGET, 0),
        at_risk=counts.get(Status.AT_RISK, 0),
        off_target=counts.get(Status.OFF_TARGET, 0),
        no_target=counts.get(Status.NO_TARGET, 0),
        period=period,
    )


#: A KPI is forecast to miss its period when its forecast ends off target, or is more likely than not to miss
#: (the level the notifications use too).
MISS_CHANCE = FORECAST_MISS_CHANCE


@dataclass(frozen=True)
class ForecastMiss:
    """A KPI forecast to miss its current quarter in one scope: its name, the forecast's status and chance."""

    name: str
    status: str
    p_on_target: float | None


@dataclass(frozen=True)
class ForecastMisses:
    """The KPIs of one scope forecast to miss their current quarter (``kpi_forecast_misses``), out of
    ``forecast`` KPIs with a forecast and ``stored`` forecast rows (0: no recompute has written any yet)."""

    misses: list[ForecastMiss] = field(default_factory=list)
    forecast: int = 0
    stored: int = 0
    period: dt.date | None = None

    @property
    def count(self) -> int:
        return len(self.misses)


def kpi_forecast_misses(*, scope: str = Scope.ORGANISATION, key: str = "all") -> ForecastMisses:
    """The KPIs whose quarter forecast in one scope ends off target or has less than an even chance
    (``MISS_CHANCE``) of ending on target, worst chance first: one query (the scope's forecast rows, about one
    per KPI, with the KPI's name). ``period``: the latest quarter forecast (each KPI's is the quarter of its latest
    data)."""
    rows = (
        ScopeForecast.objects.filter(scope=scope, scope_key=key, grain=Grain.QUARTER, horizon=Horizon.CURRENT)
        .order_by()
        .values_list("kpi__name", "value", "status", "p_on_target", "period")
    )
    misses, forecast, stored, period = [], 0, 0, None
    for name, value, status, p_on_target, row_period in rows:
        stored += 1
        period = row_period if period is None else max(period, row_period)
        if value is None:
            continue
        forecast += 1
        if status == Status.OFF_TARGET or (p_on_target is not None and p_on_target < MISS_CHANCE):
            misses.append(ForecastMiss(name=name, status=status, p_on_target=p_on_target))
    misses.sort(key=lambda miss: (1.0 if miss.p_on_target is None else miss.p_on_target, miss.name))
    return ForecastMisses(misses=misses, forecast=forecast, stored=stored, period=period)


@dataclass(frozen=True)
class DashboardSummary:
    """Headline numbers over some products. Money covers only the products whose money the user may see; it is
    the budget lines' of ``year`` (``money``), the investment page's totals for the same products and year."""

    products: int
    stages: dict[str, int]
    health: dict[str, int]
    budget_products: int
    year: int = 0
    money: MoneyRow | None = None

    @property
    def shows_money(self) -> bool:
        return self.budget_products > 0

    @property
    def money_is_partial(self) -> bool:
        return 0 < self.budget_products < self.products


def dashboard_summary(
    *,
    products: QuerySet[Product],
    user: User,
    budget_visible: QuerySet[Product] | None = None,
    today: dt.date | None = None,
) -> DashboardSummary:
    """Counts per stage and health of ``products`` and, for those whose money the user may see
    (``budget_visible``, from ``budget_scope``; None: all), the money of this year: one grouped query, each
    product joined to its one ``ProductYearMoney`` row of the year (``year_money_row`` turns the sums into the
    tiles' figures, as the investment page's totals over the year's budget lines)."""
    today = today or timezone.localdate()
    money_visible = (
        Value(True)
        if budget_visible is None
        else Case(When(pk__in=budget_visible.values("pk"), then=Value(True)), default=Value(False))
    )
    groups = (
        products.order_by()
        .alias(money_this_year=FilteredRelation("year_money", condition=Q(year_money__year=today.year)))
        .annotate(money_visible=money_visible)
        .values_list("stage", "health", "money_visible")
        .annotate(n=Count("pk"), **year_money_sums("money_this_year__"))
    )
    stages = dict.fromkeys(Stage.values, 0)
    health = dict.fromkeys(Health.values, 0)
    total = budget_products = 0
    sums = dict.fromkeys(YEAR_MONEY_COLUMNS, ZERO)
    for stage, health_value, visible, n, *money in groups:
        total += n
        stages[stage] = stages.get(stage, 0) + n
        health[health_value] = health.get(health_value, 0) + n
        if visible:
            budget_products += n
            for name, value in zip(YEAR_MONEY_COLUMNS, money, strict=True):
                sums[name] += value or ZERO
    money = year_money_row(sums, year=today.year, today=today) if budget_products else None
    return DashboardSummary(
        products=total,
        stages=stages,
        health=health,
        budget_products=budget_products,
        year=today.year,
        money=money,
    )
