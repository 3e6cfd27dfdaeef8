"""Reads for the portfolio dashboards: a fixed number of queries whatever the portfolio's size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DecimalField,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Concat, RowNumber
from django.utils import timezone

from portfolio.models import (
    KPI,
    Direction,
    Frequency,
    Grain,
    KPITarget,
    Measurement,
    Portfolio,
    Rollup,
    RollupState,
    Scope,
    Status,
)
from portfolio.rollups import (
    EFFECTIVE_TARGET,
    PRODUCT_JOINS,
    SCOPE_COLUMNS,
    bucket_end,
    grain_bucket,
    rollup_status,
)
from portfolio.services import rollups_pending
from products.admin_paginator import CappedCountPaginator
from products.models import Focus, Health, Market, Product, Stage, User
from products.permissions import is_leadership, product_ids_with_budget_access, products_with_budget_access
from products.selectors import product_filter, sort_fields

SPARKLINE_POINTS = 12
# How far back a sparkline reaches: about SPARKLINE_POINTS periods of the KPI's own frequency.
SPARKLINE_SPAN = {
    Frequency.WEEKLY: dt.timedelta(weeks=SPARKLINE_POINTS),
    Frequency.MONTHLY: dt.timedelta(days=31 * SPARKLINE_POINTS),
    Frequency.QUARTERLY: dt.timedelta(days=92 * SPARKLINE_POINTS),
}
MONEY_SORTS = {"planned": "planned_budget", "actual": "actual_spend"}
FILTER_NAMES = ("q", "portfolio", "stage", "market", "focus", "health", "owner")
# Filters that name one rollup scope: with exactly one of them (and no other filter) the KPI tiles read that
# scope's rollups; the filter's value is the rollup's scope key.
ROLLUP_SCOPES = {
    "portfolio": Scope.PORTFOLIO,
    "stage": Scope.STAGE,
    "market": Scope.MARKET,
    "focus": Scope.FOCUS,
    "owner": Scope.OWNER,
}


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


def paginate(queryset: QuerySet, *, page: int, per_page: int, count: int | None = None) -> Page:
    """One page of ``queryset``; a ``count`` the caller already knows saves the COUNT query."""
    paginator = Paginator(queryset, per_page)
    if count is not None:
        paginator.count = count  # a cached_property: set, it is never computed
    return paginator.get_page(page)


@dataclass(frozen=True)
class ProductTable:
    """One page of a filtered, sorted product table, ready to render."""

    page: Page
    rows: list[ProductRow]
    kpi: KPI | None


def product_table(*, filters: dict, user: User, count: int | None = None) -> ProductTable:
    """The page of products the filters ask for, with key KPI sparklines and money only where allowed.

    A fixed number of queries: the key KPI, the count (unless the caller knows it, e.g. from
    ``dashboard_summary``), the page, the page's budget access (not for leadership) and three for the
    sparklines.
    """
    kpi = key_kpi()
    products = dashboard_products(filters=filters, kpi=kpi, budget_visible=budget_scope(user))
    page = paginate(products, page=filters.get("page") or 1, per_page=filters["per_page"], count=count)
    page_products = list(page.object_list)
    budget_ids = (
        product_ids_with_budget_access(user, [p.pk for p in page_products]) if page_products else set()
    )
    rows = product_rows(page_products=page_products, kpi=kpi, budget_ids=budget_ids)
    return ProductTable(page=page, rows=rows, kpi=kpi)


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


@dataclass(frozen=True)
class DashboardSummary:
    """Headline numbers over some products. Money covers only the products whose money the user may see."""

    products: int
    stages: dict[str, int]
    health: dict[str, int]
    budget_products: int
    planned_budget: Decimal
    actual_spend: Decimal

    @property
    def shows_money(self) -> bool:
        return self.budget_products > 0

    @property
    def money_is_partial(self) -> bool:
        return 0 < self.budget_products < self.products

    @property
    def spend_ratio(self) -> float | None:
        if not self.planned_budget:
            return None
        return float(self.actual_spend / self.planned_budget)

    @property
    def over_budget(self) -> bool:
        return self.actual_spend > self.planned_budget


def dashboard_summary(
    *, products: QuerySet[Product], budget_visible: QuerySet[Product] | None = None
) -> DashboardSummary:
    """Counts per stage and health and the money totals of ``products``, in one grouped query.

    ``budget_visible`` (from ``budget_scope``) restricts the money to the products whose money the user
    may see; None counts every product's money.
    """
    money_visible = (
        Value(True)
        if budget_visible is None
        else Case(When(pk__in=budget_visible.values("pk"), then=Value(True)), default=Value(False))
    )
    groups = (
        products.order_by()
        .annotate(money_visible=money_visible)
        .values_list("stage", "health", "money_visible")
        .annotate(n=Count("pk"), planned=Sum("planned_budget"), actual=Sum("actual_spend"))
    )
    stages = dict.fromkeys(Stage.values, 0)
    health = dict.fromkeys(Health.values, 0)
    total = budget_products = 0
    planned = actual = Decimal("0")
    for stage, health_value, visible, n, group_planned, group_actual in groups:
        total += n
        stages[stage] = stages.get(stage, 0) + n
        health[health_value] = health.get(health_value, 0) + n
        if visible:
            budget_products += n
            planned += group_planned or 0
            actual += group_actual or 0
    return DashboardSummary(
        products=total,
        stages=stages,
        health=health,
        budget_products=budget_products,
        planned_budget=planned,
        actual_spend=actual,
    )


def portfolios() -> QuerySet[Portfolio]:
    return Portfolio.objects.order_by("name")


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
    def rows(self) -> list[tuple[dt.date, float]]:
        return list(zip(self.periods, self.values, strict=True))

    @property
    def sparkline(self) -> list[float]:
        return self.values[-SPARKLINE_POINTS:]


def product_kpi_cards(*, product: Product) -> list[KPICard]:
    """Every KPI the product measures, with its whole history, in three queries."""
    kpis = {kpi.pk: kpi for kpi in KPI.objects.order_by("-is_key", "name")}
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
    order = list(kpis)
    return sorted(cards.values(), key=lambda card: order.index(card.kpi.pk))


def product_recent_measurements(*, product: Product, limit: int = 8) -> list[Measurement]:
    """The values most recently recorded for a product, newest first, with who recorded them."""
    return list(
        Measurement.objects.filter(product=product)
        .select_related("kpi", "recorded_by")
        .order_by("-recorded_at", "-pk")[:limit]
    )


# ==================================================================================================
# Director view: /portfolio/rollups/, /portfolio/kpis/, /portfolio/measurements/ (rules in docs/kpis.md)
# ==================================================================================================

ORGANISATION_KEY = "all"
# Worse is bigger. "No target" is not on this scale: a change to or from it is never called worse.
STATUS_SEVERITY = {Status.ON_TARGET: 1, Status.AT_RISK: 2, Status.OFF_TARGET: 3}
# Wider than this a scorecard stops being readable (148 owners): the keys with most KPIs off target stay.
SCORECARD_MAX_COLUMNS = 12
TREND_MAX_LINES = 8
# Keys of the dimensions with a natural order (the lifecycle); the others sort by their label.
SCOPE_KEY_ORDER = {Scope.STAGE: Stage, Scope.MARKET: Market, Scope.FOCUS: Focus}


@dataclass(frozen=True)
class RollupFreshness:
    computed_at: dt.datetime | None
    pending: bool


def rollup_freshness() -> RollupFreshness:
    """When the rollups were last brought up to date and whether a recompute is pending (stale marks exist).

    Two one-row queries; no ``get_or_create``, so a page view never writes.
    """
    computed_at = RollupState.objects.filter(pk=1).values_list("computed_at", flat=True).first()
    return RollupFreshness(computed_at=computed_at, pending=rollups_pending())


def director_kpis() -> list[KPI]:
    """Every KPI in the director view's order: the key KPIs first, then by name."""
    return list(KPI.objects.order_by("-is_key", "name"))


@dataclass(frozen=True)
class ScopeColumn:
    """One scope key as a column: the organisation, or one portfolio, stage, market, focus or owner."""

    scope: str
    key: str
    label: str

    @property
    def is_organisation(self) -> bool:
        return self.scope == Scope.ORGANISATION

    @cached_property
    def query(self) -> str:
        """``scope=…&key=…`` for the links of this column's cells (built once, used by every cell)."""
        return urlencode({"scope": self.scope, "key": self.key})


ORGANISATION_COLUMN = ScopeColumn(Scope.ORGANISATION, ORGANISATION_KEY, "Organisation")


def scope_key_label(scope: str, key: str, labels: Mapping[str, str] | None = None) -> str:
    """Words for a scope key: a stage's label, a portfolio's name (from ``labels``), else the key itself."""
    if scope == Scope.ORGANISATION:
        return ORGANISATION_COLUMN.label
    if scope in SCOPE_KEY_ORDER:
        return str(dict(SCOPE_KEY_ORDER[scope].choices).get(key, key))
    return (labels or {}).get(key, key)


def scope_column(*, scope: str, key: str) -> ScopeColumn:
    """A column for one scope key with its label: at most one query (a portfolio's or an owner's name)."""
    if scope == Scope.ORGANISATION:
        return ORGANISATION_COLUMN
    labels: dict[str, str] = {}
    if scope == Scope.PORTFOLIO:
        labels = dict(Portfolio.objects.filter(slug=key).values_list("slug", "name"))
    elif scope == Scope.OWNER:
        owner = User.objects.filter(username=key).only("username", "first_name", "last_name").first()
        if owner is not None:
            labels = {owner.username: owner.get_full_name() or owner.username}
    return ScopeColumn(scope, key, scope_key_label(scope, key, labels))


def scope_keys_in_order(scope: str, keys: Iterable[str], labels: Mapping[str, str]) -> list[str]:
    if scope in SCOPE_KEY_ORDER:
        position = {value: index for index, value in enumerate(SCOPE_KEY_ORDER[scope].values)}
        return sorted(keys, key=lambda key: (position.get(key, len(position)), key))
    return sorted(keys, key=lambda key: (scope_key_label(scope, key, labels).casefold(), key))


def period_end(period: dt.date, grain: str, frequency: str) -> dt.date:
    """The first day after a rollup's period: its month or quarter, or (native) the KPI's own period."""
    if grain != Grain.NATIVE:
        return bucket_end(period, grain)
    if frequency == Frequency.MONTHLY:
        return bucket_end(period, Grain.MONTH)
    if frequency == Frequency.QUARTERLY:
        return bucket_end(period, Grain.QUARTER)
    return period + dt.timedelta(weeks=1)


@dataclass(frozen=True)
class RollupPoint:
    """One rollup row's numbers."""

    period: dt.date
    value: float
    target: float | None
    status: str
    products: int


@dataclass(frozen=True)
class ScorecardCell:
    """One KPI in one scope key: its latest period's rollup and, when there is one, the period before."""

    kpi: KPI
    column: ScopeColumn
    grain: str
    current: RollupPoint
    previous: RollupPoint | None

    @property
    def trend(self) -> str:
        """The value's move since the previous period: up, down or flat; empty without one."""
        if self.previous is None:
            return ""
        if self.current.value > self.previous.value:
            return "up"
        return "down" if self.current.value < self.previous.value else "flat"

    @property
    def change(self) -> float | None:
        """The relative change from the previous period (0.05 is 5 % up); None without one, or from zero."""
        if self.previous is None or self.previous.value == 0:
            return None
        return (self.current.value - self.previous.value) / abs(self.previous.value)

    @property
    def verdict(self) -> str:
        """Whether that move is better or worse in the KPI's direction; empty when flat or without one."""
        if self.trend in ("", "flat"):
            return ""
        return "better" if (self.trend == "up") == (self.kpi.direction == Direction.HIGHER) else "worse"

    @property
    def worsened(self) -> bool:
        """Whether the status got worse since the previous period (on target → at risk → off target)."""
        if self.previous is None:
            return False
        now = STATUS_SEVERITY.get(self.current.status)
        before = STATUS_SEVERITY.get(self.previous.status)
        return now is not None and before is not None and now > before

    @property
    def query_string(self) -> str:
        """The drill-down's query string (``/portfolio/rollups/cell/?…``)."""
        return f"kpi={self.kpi.pk}&{self.column.query}&grain={self.grain}&period={self.current.period.isoformat()}"


@dataclass(frozen=True)
class ScorecardRow:
    kpi: KPI
    period: dt.date | None  # the KPI's latest period in the range (its organisation rollup's)
    previous_period: dt.date | None
    in_progress: bool  # the period has not ended yet: sums over it are partial
    cells: list[ScorecardCell | None]  # one per column; None where the key has no rollup for the period


@dataclass(frozen=True)
class Scorecard:
    dimension: str
    grain: str
    columns: list[ScopeColumn]  # the organisation first, then the dimension's keys
    rows: list[ScorecardRow]
    total_keys: int  # keys of the dimension with rollups, before the column cap
    changes: list[ScorecardCell]  # cells whose status got worse, the biggest fall first

    @property
    def key_columns(self) -> list[ScopeColumn]:
        return self.columns[1:]

    @property
    def hidden_keys(self) -> int:
        return self.total_keys - len(self.key_columns)


def _range_filter(period_from: dt.date | None, period_to: dt.date | None) -> Q:
    in_range = Q()
    if period_from:
        in_range &= Q(period__gte=period_from)
    if period_to:
        in_range &= Q(period__lte=period_to)
    return in_range


def _period_pairs(periods: Mapping[int, list[dt.date]], *, latest_only: bool = False) -> Q:
    """Rollups of each KPI in its own latest (and previous) period. The IN lists walk the rollups' unique index
    (scope, grain, KPI, period, key); the pairs after them keep each KPI to its own periods."""
    by_period: dict[dt.date, list[int]] = {}
    for kpi_id, latest in periods.items():
        for period in latest[:1] if latest_only else latest:
            by_period.setdefault(period, []).append(kpi_id)
    pairs = Q(pk__in=[])
    for period, kpi_ids in by_period.items():
        pairs |= Q(period=period, kpi__in=kpi_ids)
    return Q(kpi__in=list(periods), period__in=list(by_period)) & pairs


def rollup_scorecard(
    *,
    kpis: Sequence[KPI],
    dimension: str,
    grain: str,
    keys: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
    today: dt.date | None = None,
) -> Scorecard:
    """KPIs down; the organisation and the keys of ``dimension`` across (only ``keys`` when given). Each cell is
    the rollup of the KPI's latest period in the range (periods are keyed by their first day), with the period
    before it for the trend.

    A KPI's periods are those of its organisation rollups: every product contributes there, so every key's
    periods are among them. With more keys than ``SCORECARD_MAX_COLUMNS`` the keys with most KPIs off target
    are shown. Three queries, whatever the number of products, measurements or keys.
    """
    labels = labels or {}
    today = today or timezone.localdate()
    in_range = _range_filter(period_from, period_to)
    periods: dict[int, list[dt.date]] = {}
    organisation_periods = (
        Rollup.objects.filter(in_range, scope=Scope.ORGANISATION, grain=grain, kpi__in=[k.pk for k in kpis])
        .annotate(recent=Window(RowNumber(), partition_by=F("kpi_id"), order_by=F("period").desc()))
        .filter(recent__lte=2)
        .order_by("kpi_id", "-period")
        .values_list("kpi_id", "period")
    )
    for kpi_id, period in organisation_periods:
        periods.setdefault(kpi_id, []).append(period)

    # The keys with a rollup in their KPI's latest period, with how many KPIs each has off target and at risk:
    # a few rows per key, so a dimension with hundreds of keys (owners) costs no more than the columns shown.
    counts: dict[str, tuple[int, int]] = {}
    if periods and not keys:
        ranked = (
            Rollup.objects.filter(_period_pairs(periods, latest_only=True), scope=dimension, grain=grain)
            .order_by()
            .values_list("scope_key")
            .annotate(
                off=Count("pk", filter=Q(status=Status.OFF_TARGET)),
                risk=Count("pk", filter=Q(status=Status.AT_RISK)),
            )
        )
        counts = {key: (off, risk) for key, off, risk in ranked}
    ordered = scope_keys_in_order(dimension, set(counts) | set(keys), labels)
    shown = ordered
    if len(ordered) > SCORECARD_MAX_COLUMNS:
        # The keys with most KPIs off target (then at risk) stay, in their natural order.
        kept = set(
            sorted(ordered, key=lambda key: (-counts[key][0], -counts[key][1]))[:SCORECARD_MAX_COLUMNS]
        )
        shown = [key for key in ordered if key in kept]

    points: dict[tuple[str, str, int, dt.date], RollupPoint] = {}
    if periods:
        # Plain AND conditions that the (scope, grain, kpi, period, key) index answers with range scans; the
        # few extra rows they admit (a KPI's period that is another's latest) are never looked up below. The
        # keys are checked on the rows found (an expression, not the column): as one more index condition,
        # PostgreSQL would descend the index once per combination of the lists (over a thousand times for
        # owners, ten times slower than scanning the few keys in each range).
        rows = Rollup.objects.alias(key_found=Concat("scope_key", Value(""))).filter(
            scope__in=[Scope.ORGANISATION, dimension],
            grain=grain,
            kpi_id__in=list(periods),
            period__in=sorted({period for kpi_periods in periods.values() for period in kpi_periods}),
            key_found__in=[ORGANISATION_KEY, *shown],
        )
        values = rows.order_by().values_list(
            "scope", "scope_key", "kpi_id", "period", "value", "target", "status", "products"
        )
        for scope, key, kpi_id, period, value, target, status, products in values:
            points[(scope, key, kpi_id, period)] = RollupPoint(period, value, target, status, products)
    columns = [ORGANISATION_COLUMN] + [
        ScopeColumn(dimension, key, scope_key_label(dimension, key, labels)) for key in shown
    ]

    rows_out: list[ScorecardRow] = []
    changes: list[tuple[tuple, ScorecardCell]] = []
    for kpi_index, kpi in enumerate(kpis):
        latest = periods.get(kpi.pk, [])
        current = latest[0] if latest else None
        previous = latest[1] if len(latest) > 1 else None
        cells: list[ScorecardCell | None] = []
        for column_index, column in enumerate(columns):
            point = points.get((column.scope, column.key, kpi.pk, current)) if current else None
            if point is None:
                cells.append(None)
                continue
            before = points.get((column.scope, column.key, kpi.pk, previous)) if previous else None
            cell = ScorecardCell(kpi=kpi, column=column, grain=grain, current=point, previous=before)
            cells.append(cell)
            if cell.worsened:
                now, was = STATUS_SEVERITY[point.status], STATUS_SEVERITY[before.status]
                changes.append(((was - now, -now, kpi_index, column_index), cell))
        rows_out.append(
            ScorecardRow(
                kpi=kpi,
                period=current,
                previous_period=previous,
                in_progress=bool(current and period_end(current, grain, kpi.frequency) > today),
                cells=cells,
            )
        )
    return Scorecard(
        dimension=dimension,
        grain=grain,
        columns=columns,
        rows=rows_out,
        total_keys=len(ordered),
        changes=[cell for _, cell in sorted(changes, key=lambda change: change[0])],
    )


@dataclass(frozen=True)
class ScopeTrend:
    """One KPI over the periods of a range, one series per scope key."""

    kpi: KPI
    grain: str
    columns: list[ScopeColumn]
    periods: list[dt.date]
    points: dict[tuple[str, dt.date], RollupPoint]

    def series(self) -> list[tuple[ScopeColumn, list[RollupPoint]]]:
        """Each key's points in period order (keys without any point are left out)."""
        series = []
        for column in self.columns:
            line = [p for period in self.periods if (p := self.points.get((column.key, period))) is not None]
            if line:
                series.append((column, line))
        return series

    def table(self) -> list[tuple[dt.date, list[RollupPoint | None]]]:
        """Period rows, one cell per key: the chart as a table."""
        return [
            (period, [self.points.get((column.key, period)) for column in self.columns])
            for period in self.periods
        ]


def rollup_trend(
    *,
    kpi: KPI,
    columns: Sequence[ScopeColumn],
    grain: str,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> ScopeTrend:
    """The rollups of one KPI for some keys of one scope over the range, in one query."""
    columns = list(columns)
    points: dict[tuple[str, dt.date], RollupPoint] = {}
    if columns:
        rows = (
            Rollup.objects.filter(
                _range_filter(period_from, period_to),
                scope=columns[0].scope,
                grain=grain,
                kpi=kpi,
                scope_key__in=[c.key for c in columns],
            )
            .order_by()
            .values_list("scope_key", "period", "value", "target", "status", "products")
        )
        for key, period, value, target, status, products in rows:
            points[(key, period)] = RollupPoint(period, value, target, status, products)
    return ScopeTrend(
        kpi=kpi, grain=grain, columns=columns, periods=sorted({p for _, p in points}), points=points
    )


@dataclass(frozen=True)
class ProductContribution:
    """One product's value in one rollup bucket, against its own (effective) target."""

    product_id: int
    slug: str
    name: str
    value: float
    target: float | None
    periods: int  # native periods measured inside the bucket
    status: str
    gap: float | None  # how far the product is off target in the KPI's direction; negative: ahead of it


@dataclass(frozen=True)
class CellDrilldown:
    kpi: KPI
    column: ScopeColumn
    grain: str
    period: dt.date
    rollup: RollupPoint | None
    products: list[ProductContribution]

    @property
    def combined_value(self) -> float | None:
        """The products' values combined by the KPI's aggregation: the rollup's value when it is fresh."""
        values = [p.value for p in self.products]
        if not values:
            return None
        combine = {"sum": sum, "min": min, "max": max}.get(self.kpi.aggregation)
        return combine(values) if combine else sum(values) / len(values)

    def status_count(self, status: str) -> int:
        return sum(1 for p in self.products if p.status == status)


def product_gap(*, value: float, target: float | None, direction: str) -> float | None:
    """How far a value falls short of its target in the KPI's direction (negative: better than target)."""
    if target is None:
        return None
    return value - target if direction == Direction.LOWER else target - value


# Rule 1 per product, from the bucket's per-product sum, count and latest value (docs/kpis.md).
DRILLDOWN_VALUE_SQL = {"sum": "c.v_sum", "avg": "c.v_sum / c.v_count", "last": "lm.value"}


def rollup_cell_products(*, kpi: KPI, column: ScopeColumn, grain: str, period: dt.date) -> CellDrilldown:
    """The products behind one rollup cell with their bucket values, targets, status and gap, worst first.

    The database combines each product's measurements inside the bucket exactly as the rollup does (rule 1;
    with ``sum`` over time the target is summed over the measured periods too). Two queries: the rollup row
    and the products.
    """
    start = grain_bucket(period, grain)
    where = ["m.kpi_id = %s", "m.period >= %s", "m.period < %s"]
    params: list[object] = [kpi.pk, start, bucket_end(start, grain)]
    if not column.is_organisation:
        where.append(f"{SCOPE_COLUMNS[column.scope][1]} = %s")
        params.append(column.key)
    target_sql = "c.target * c.v_count" if kpi.time_aggregation == "sum" else "c.target"
    # Built from constants and validated choices only; every value from the request is a bound parameter.
    sql = f"""
        WITH per_product AS (
            SELECT m.product_id, SUM(m.value) AS v_sum, COUNT(*) AS v_count, MAX(m.period) AS last_period,
                   MAX({EFFECTIVE_TARGET}) AS target
            FROM portfolio_measurement m {PRODUCT_JOINS}
            WHERE {" AND ".join(where)}
            GROUP BY m.product_id
        )
        SELECT c.product_id, p.slug, p.name, {DRILLDOWN_VALUE_SQL[kpi.time_aggregation]}, {target_sql}, c.v_count
        FROM per_product c
        JOIN products_product p ON p.id = c.product_id
        JOIN portfolio_measurement lm
          ON lm.product_id = c.product_id AND lm.kpi_id = %s AND lm.period = c.last_period
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, kpi.pk])
        rows = cursor.fetchall()
    tolerance = float(kpi.tolerance)
    products = [
        ProductContribution(
            product_id=product_id,
            slug=slug,
            name=name,
            value=value,
            target=target,
            periods=count,
            status=rollup_status(value=value, target=target, direction=kpi.direction, tolerance=tolerance),
            gap=product_gap(value=value, target=target, direction=kpi.direction),
        )
        for product_id, slug, name, value, target, count in rows
    ]
    # Worst first: the biggest shortfall in the KPI's direction; products without a target last.
    products.sort(key=lambda p: (p.gap is None, -(p.gap or 0.0), p.name.casefold()))
    rollup = (
        Rollup.objects.filter(scope=column.scope, scope_key=column.key, grain=grain, kpi=kpi, period=start)
        .order_by()
        .values_list("period", "value", "target", "status", "products")
        .first()
    )
    return CellDrilldown(
        kpi=kpi,
        column=column,
        grain=grain,
        period=start,
        rollup=RollupPoint(*rollup) if rollup else None,
        products=products,
    )


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


def rollup_export_rows(
    *,
    scope: str = "",
    scope_key: str = "",
    kpi: KPI | None = None,
    grain: str = "",
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> QuerySet[Rollup]:
    """Rollup rows matching the filters (every row when none), in the order of the rollups' unique index, so
    the database streams them without sorting."""
    rollups = Rollup.objects.filter(_range_filter(period_from, period_to))
    if scope:
        rollups = rollups.filter(scope=scope)
    if scope_key:
        rollups = rollups.filter(scope_key=scope_key)
    if kpi is not None:
        rollups = rollups.filter(kpi=kpi)
    if grain:
        rollups = rollups.filter(grain=grain)
    return rollups.order_by("scope", "grain", "kpi_id", "period", "scope_key")


def measurement_list(
    *,
    product: Product | None = None,
    kpi: KPI | None = None,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> QuerySet[Measurement]:
    """Measurements matching the filters (all when none), newest period first (the period index's order)."""
    measurements = Measurement.objects.filter(_range_filter(period_from, period_to))
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
