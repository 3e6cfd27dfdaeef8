"""Reads shared by the director view: scope columns, rollup freshness, the KPIs shown, CSV rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

from django.db.models import (
    Q,
    QuerySet,
)

from portfolio.choices import Scope
from portfolio.models import KPI, Portfolio, Rollup, RollupState, StaleRollup
from products.choices import Focus, Market, Stage
from products.models import User

# ==================================================================================================
# Director view: /portfolio/rollups/, /portfolio/kpis/, /portfolio/measurements/ (rules in docs/kpis.md)
# ==================================================================================================

ORGANISATION_KEY = "all"
# Keys of the dimensions with a natural order (the lifecycle); the others sort by their label.
SCOPE_KEY_ORDER = {Scope.STAGE: Stage, Scope.MARKET: Market, Scope.FOCUS: Focus}


@dataclass(frozen=True)
class RollupFreshness:
    computed_at: dt.datetime | None
    pending: bool


def rollups_pending() -> bool:
    """Whether some rollups are known to be stale (a refresh is queued or running)."""
    return StaleRollup.objects.exists()


def rollup_freshness() -> RollupFreshness:
    """When the rollups were last brought up to date and whether a recompute is pending (stale marks exist).

    Two one-row queries; no ``get_or_create``, so a page view never writes.
    """
    computed_at = RollupState.objects.filter(pk=1).values_list("computed_at", flat=True).first()
    return RollupFreshness(computed_at=computed_at, pending=rollups_pending())


def director_kpis() -> list[KPI]:
    """Every KPI in the director view's order: the key KPIs first, then by name."""
    return list(KPI.objects.order_by("-is_key", "name").select_related("forecast_accuracy"))


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


def period_range_filter(period_from: dt.date | None, period_to: dt.date | None) -> Q:
    in_range = Q()
    if period_from:
        in_range &= Q(period__gte=period_from)
    if period_to:
        in_range &= Q(period__lte=period_to)
    return in_range


def period_pairs_filter(periods: Mapping[int, list[dt.date]], *, latest_only: bool = False) -> Q:
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


@dataclass(frozen=True)
class ExportFilters:
    """The rollup CSV's filters, on rows keyed as rollups are (rollups, scope forecasts); empty: no filter."""

    scope: str = ""
    scope_key: str = ""
    kpi: KPI | None = None
    grain: str = ""
    period_from: dt.date | None = None
    period_to: dt.date | None = None

    def apply(self, rows: QuerySet) -> QuerySet:
        rows = rows.filter(period_range_filter(self.period_from, self.period_to))
        if self.scope:
            rows = rows.filter(scope=self.scope)
        if self.scope_key:
            rows = rows.filter(scope_key=self.scope_key)
        if self.kpi is not None:
            rows = rows.filter(kpi=self.kpi)
        if self.grain:
            rows = rows.filter(grain=self.grain)
        return rows


def rollup_export_rows(filters: ExportFilters) -> QuerySet[Rollup]:
    """Rollup rows matching the filters (every row when none), in the order of the rollups' unique index, so
    the database streams them without sorting."""
    return filters.apply(Rollup.objects.all()).order_by("scope", "grain", "kpi_id", "period", "scope_key")


def portfolios() -> QuerySet[Portfolio]:
    """Every portfolio by name: a rollup scope, and the options of every page's portfolio filter."""
    return Portfolio.objects.order_by("name")
