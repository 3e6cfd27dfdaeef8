"""Scenario planning: copy the live plan, change it, compare it, approve it (docs/strategy.md).

A scenario covers one portfolio (or the whole organisation) over four quarters from the quarter it was created
in (its horizon). Each product in scope is a line: its planned money over the horizon in the live plan when
copied (``base_planned``) and in the scenario (``planned``), and whether the scenario pauses it. Proposed new
products are lines without a product.

Approval applies exactly the lines that differ from their copy: a changed budget rescales that product's
horizon budget lines to the new total (keeping the split across quarters and capex/opex; an empty horizon
gets the money as opex spread evenly), a pause sets them to zero, a new product is created (stage problem,
the chosen owner, aligned 100 % to the chosen objective) with the money as opex spread evenly. Nothing else in
the live plan changes. If the live plan of the scenario's scope changed after the copy, approval is refused
with the list of those changes until the user confirms having seen them (``confirm_version``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F, Q, QuerySet, Sum

from portfolio.models import Alignment, KeyResult, Objective, Portfolio, PriorityScore, Scenario, ScenarioLine
from portfolio.periods import quarter_label, quarters_from
from portfolio.strategy.rules import CENT, ZERO
from portfolio.strategy.selectors.investment import horizon_planned
from portfolio.strategy.selectors.objective_funding import product_shares
from portfolio.strategy.selectors.plan import latest_version_touching, plan_version
from products.models import Product, User

HORIZON_QUARTERS = 4


def scenario_products(scenario_or_portfolio: Scenario | Portfolio | None) -> QuerySet[Product]:
    portfolio = (
        scenario_or_portfolio.portfolio
        if isinstance(scenario_or_portfolio, Scenario)
        else scenario_or_portfolio
    )
    products = Product.objects.all()
    return products.filter(portfolio=portfolio) if portfolio is not None else products


def horizon(scenario: Scenario) -> list[dt.date]:
    return quarters_from(scenario.horizon_start, HORIZON_QUARTERS)


def live_conflicts(scenario: Scenario) -> list[dict]:
    """Products whose live money over the horizon differs from what the scenario copied (someone changed the
    live plan since), with both amounts and the scenario's own figure."""
    lines = list(
        scenario.lines.filter(product__isnull=False)
        .select_related("product")
        .only("product__name", "product__slug", "base_planned", "planned", "paused", "product_id")
    )
    live = horizon_planned(products=scenario_products(scenario), quarters=horizon(scenario))
    conflicts = []
    for line in lines:
        now = live.get(line.product_id, ZERO)
        if now != (line.base_planned or ZERO):
            conflicts.append(
                {
                    "product": line.product.name,
                    "slug": line.product.slug,
                    "copied": line.base_planned,
                    "live": now,
                    "scenario": ZERO if line.paused else line.planned,
                    "scenario_changes_it": line.changed,
                }
            )
    return conflicts


# ---------------------------------------------------------------------------------------------------------
# Reads: the side-by-side summary
# ---------------------------------------------------------------------------------------------------------


@dataclass
class ObjectiveFunding:
    objective: Objective
    live: Decimal = ZERO
    scenario: Decimal = ZERO
    kpis: list[str] = field(default_factory=list)

    @property
    def change(self) -> Decimal:
        return self.scenario - self.live

    @property
    def change_pct(self) -> int | None:
        if not self.live:
            return None
        return int((self.change * 100 / self.live).quantize(Decimal("1"), rounding=ROUND_HALF_UP))

    @property
    def expected(self) -> str:
        """The expected effect on the objective's KPIs, in words."""
        if self.scenario <= 0:
            return "unfunded: nothing moves these KPIs"
        if self.live <= 0:
            return "newly funded"
        pct = self.change_pct or 0
        if pct >= 5:
            return "more investment: faster progress expected"
        if pct <= -25:
            return "deep cut: key results at risk"
        if pct <= -5:
            return "less investment: slower progress expected"
        return "unchanged"


@dataclass
class PlanSide:
    """One side of the comparison: the live plan or a scenario."""

    budget: Decimal = ZERO
    funded_products: int = 0
    paused_products: int = 0
    new_products: int = 0
    covered: set[int] = field(default_factory=set)
    value: Decimal = ZERO  # sum of the RICE scores of funded products
    effort: Decimal = ZERO  # person-months of funded products (RICE effort)


@dataclass
class ScenarioSummary:
    scenario: Scenario
    quarters: list[dt.date]
    objectives: list[ObjectiveFunding]
    live: PlanSide
    proposed: PlanSide
    ceiling: Decimal
    changed_lines: int
    live_version: int
    scope_objectives: list[Objective] = field(default_factory=list)  # as ``scope_objectives`` orders them

    @property
    def horizon_label(self) -> str:
        return f"{quarter_label(self.quarters[0])} - {quarter_label(self.quarters[-1])}"

    @property
    def objective_count(self) -> int:
        return len(self.objectives)

    @property
    def budget_change(self) -> Decimal:
        return self.proposed.budget - self.live.budget

    @property
    def live_headroom(self) -> Decimal:
        return self.ceiling - self.live.budget

    @property
    def proposed_headroom(self) -> Decimal:
        return self.ceiling - self.proposed.budget

    @property
    def lost_objectives(self) -> list[ObjectiveFunding]:
        return [o for o in self.objectives if o.objective.pk in self.live.covered - self.proposed.covered]

    @property
    def gained_objectives(self) -> list[ObjectiveFunding]:
        return [o for o in self.objectives if o.objective.pk in self.proposed.covered - self.live.covered]

    @property
    def stale(self) -> bool:
        return self.scenario.is_draft and self.live_version > self.scenario.base_version


def scenario_summary(*, scenario: Scenario) -> ScenarioSummary:
    """The live plan (as it is now) and the scenario side by side over the horizon: total budget against the
    portfolios' budgets, objectives covered, funding per objective with its key results' KPIs, prioritised
    value (sum of RICE) and capacity (person-months). Eight queries whatever the number of products."""
    quarters = horizon(scenario)
    products = scenario_products(scenario)
    live_money = horizon_planned(products=products, quarters=quarters)
    lines = list(
        scenario.lines.order_by().values_list(
            "product_id", "planned", "paused", "new_objective_id", "base_planned"
        )
    )
    objectives = scope_objectives(scenario)
    funding = {objective.pk: ObjectiveFunding(objective=objective) for objective in objectives}
    for objective_id, kpi_name in (
        KeyResult.objects.filter(objective_id__in=funding, kpi__isnull=False)
        .order_by("objective_id", "order", "title")
        .values_list("objective_id", "kpi__name")
    ):
        if kpi_name not in funding[objective_id].kpis:
            funding[objective_id].kpis.append(kpi_name)
    shares = product_shares(
        Alignment.objects.filter(product__in=products.order_by().values("pk"), objective_id__in=funding)
        .order_by()
        .values_list("product_id", "objective_id", "weight")
    )
    scores = {
        product_id: (rice, effort)
        for product_id, rice, effort in PriorityScore.objects.filter(
            product__in=products.order_by().values("pk")
        )
        .order_by()
        .values_list("product_id", "rice", "effort")
    }
    live, proposed = PlanSide(), PlanSide()
    changed = 0
    for product_id, planned, paused, new_objective_id, base in lines:
        if product_id is None:
            changed += 1
            proposed.new_products += 1
            proposed.budget += planned
            if planned > 0:
                proposed.funded_products += 1
                if new_objective_id in funding:
                    funding[new_objective_id].scenario += planned
                    proposed.covered.add(new_objective_id)
            continue
        if paused or planned != base:
            changed += 1
        scenario_money = ZERO if paused else planned
        live_amount = live_money.get(product_id, ZERO)
        rice, effort = scores.get(product_id, (ZERO, ZERO))
        live.budget += live_amount
        proposed.budget += scenario_money
        proposed.paused_products += paused
        for side, amount in ((live, live_amount), (proposed, scenario_money)):
            if amount > 0:
                side.funded_products += 1
                side.value += rice
                side.effort += effort
        for objective_id, share in shares.get(product_id, []):
            funding[objective_id].live += live_amount * share
            funding[objective_id].scenario += scenario_money * share
            if live_amount > 0:
                live.covered.add(objective_id)
            if scenario_money > 0:
                proposed.covered.add(objective_id)
    for item in funding.values():
        item.live = item.live.quantize(CENT, rounding=ROUND_HALF_UP)
        item.scenario = item.scenario.quantize(CENT, rounding=ROUND_HALF_UP)
    ceiling_query = Portfolio.objects.all()
    if scenario.portfolio_id:
        ceiling_query = ceiling_query.filter(pk=scenario.portfolio_id)
    ceiling = ceiling_query.aggregate(total=Sum("budget"))["total"] or ZERO
    return ScenarioSummary(
        scenario=scenario,
        quarters=quarters,
        objectives=sorted(funding.values(), key=lambda item: (-item.live, item.objective.title)),
        live=live,
        proposed=proposed,
        ceiling=ceiling,
        changed_lines=changed,
        live_version=latest_version_touching(scenario.portfolio) if scenario.is_draft else plan_version(),
        scope_objectives=objectives,
    )


def scope_objectives(scenario: Scenario) -> list[Objective]:
    objectives = Objective.objects.select_related("portfolio")
    if scenario.portfolio_id:
        objectives = objectives.filter(Q(portfolio_id=scenario.portfolio_id) | Q(portfolio__isnull=True))
    return list(objectives.order_by("order", "title"))


def scenario_lines(*, scenario: Scenario, changed_only: bool = False) -> QuerySet[ScenarioLine]:
    """The scenario's lines for its table: proposed products first, then by product name."""
    lines = scenario.lines.select_related("product__portfolio", "new_portfolio", "new_objective")
    if changed_only:
        lines = lines.filter(Q(product__isnull=True) | Q(paused=True) | ~Q(planned=F("base_planned")))
    return lines.order_by(F("product").asc(nulls_first=True), "product__name", "pk")


def scenario_list(*, user: User) -> QuerySet[Scenario]:
    return Scenario.objects.select_related("portfolio", "created_by", "decided_by").order_by(
        "-created_at", "-pk"
    )


def scenario_compare(*, scenarios: Sequence[Scenario]) -> list[ScenarioSummary]:
    """Summaries of several scenarios, for the compare page (each against the live plan)."""
    return [scenario_summary(scenario=scenario) for scenario in scenarios]
