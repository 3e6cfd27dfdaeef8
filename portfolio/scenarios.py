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

from django.db import transaction
from django.db.models import F, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.text import slugify

from lifecycle.models import StageTransition
from portfolio.investment import (
    CENT,
    ZERO,
    BudgetInvalid,
    horizon_planned,
    product_shares,
    products_sync_money,
    quarter_label,
    quarter_start,
    quarters_from,
)
from portfolio.models import (
    Alignment,
    BudgetKind,
    BudgetLine,
    KeyResult,
    Objective,
    PlanChange,
    PlanState,
    Portfolio,
    PriorityScore,
    Scenario,
    ScenarioLine,
    ScenarioStatus,
)
from portfolio.plan import changes_since, latest_version_touching, plan_change, plan_version
from products.models import Focus, Market, Product, Stage, User

HORIZON_QUARTERS = 4


class ScenarioRefused(ValueError):
    """A change the scenario cannot take (not a draft, a line of another scenario, a bad value)."""


class LivePlanChanged(Exception):
    """The live plan of the scenario's scope changed after the copy; approving needs a confirmation."""

    def __init__(self, *, changes: list[PlanChange], conflicts: list[dict], version: int) -> None:
        super().__init__(f"The live plan changed {len(changes)} time(s) since this scenario was copied.")
        self.changes = changes
        self.conflicts = conflicts
        self.version = version


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


def _lock_plan() -> int:
    PlanState.objects.get_or_create(pk=1)
    return PlanState.objects.select_for_update().get(pk=1).version


def _draft(scenario: Scenario) -> Scenario:
    scenario = Scenario.objects.select_for_update().get(pk=scenario.pk)
    if scenario.status != ScenarioStatus.DRAFT:
        raise ScenarioRefused(
            f"“{scenario.name}” is {scenario.get_status_display().lower()}: it no longer changes."
        )
    return scenario


def _line(scenario: Scenario, line: ScenarioLine) -> ScenarioLine:
    if line.scenario_id != scenario.pk:
        raise ScenarioRefused("That line belongs to another scenario.")
    return line


# ---------------------------------------------------------------------------------------------------------
# Writes
# ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def scenario_create_from_live(
    *, name: str, portfolio: Portfolio | None, by: User, description: str = "", today: dt.date | None = None
) -> Scenario:
    """A draft scenario copying the live plan of ``portfolio`` (None: every portfolio) over four quarters from
    today's quarter: one line per product with its planned money there. Remembers the plan's version."""
    name = name.strip()
    if not name:
        raise ScenarioRefused("Give the scenario a name.")
    version = _lock_plan()
    start = quarter_start(today or timezone.localdate())
    scenario = Scenario.objects.create(
        name=name[:120],
        description=description,
        portfolio=portfolio,
        horizon_start=start,
        base_version=version,
        created_by=by,
    )
    products = scenario_products(portfolio)
    totals = horizon_planned(products=products, quarters=quarters_from(start, HORIZON_QUARTERS))
    ScenarioLine.objects.bulk_create(
        ScenarioLine(
            scenario=scenario, product_id=pk, base_planned=totals.get(pk, ZERO), planned=totals.get(pk, ZERO)
        )
        for pk in products.order_by("name", "pk").values_list("pk", flat=True)
    )
    return scenario


@transaction.atomic
def scenario_change_budget(*, scenario: Scenario, line: ScenarioLine, planned: Decimal) -> ScenarioLine:
    """Set a line's planned money over the horizon (also un-pauses nothing: a paused line stays paused)."""
    _draft(scenario)
    _line(scenario, line)
    if planned < 0:
        raise ScenarioRefused("A budget is zero or more.")
    line.planned = planned.quantize(CENT, rounding=ROUND_HALF_UP)
    line.save(update_fields=["planned"])
    return line


@transaction.atomic
def scenario_pause_product(*, scenario: Scenario, line: ScenarioLine, paused: bool = True) -> ScenarioLine:
    """Pause a product in the scenario (no money, no coverage, no capacity), or resume it."""
    _draft(scenario)
    _line(scenario, line)
    if line.is_new:
        raise ScenarioRefused("A proposed product is removed, not paused.")
    line.paused = paused
    line.save(update_fields=["paused"])
    return line


@transaction.atomic
def scenario_add_product(
    *,
    scenario: Scenario,
    name: str,
    portfolio: Portfolio,
    owner: User,
    market: str,
    focus: str,
    objective: Objective | None,
    planned: Decimal,
) -> ScenarioLine:
    """Propose a new product in the scenario with its money over the horizon and the objective it serves."""
    _draft(scenario)
    name = name.strip()
    problems = []
    if not name:
        problems.append("Give the new product a name.")
    if scenario.portfolio_id is not None and portfolio.pk != scenario.portfolio_id:
        problems.append("A new product goes into the scenario's portfolio.")
    if market not in Market.values or focus not in Focus.values:
        problems.append("Choose a market and a focus.")
    if objective is not None and objective.portfolio_id not in (None, portfolio.pk):
        problems.append(f"“{objective.title}” is another portfolio's objective.")
    if planned < 0:
        problems.append("A budget is zero or more.")
    if problems:
        raise ScenarioRefused(" ".join(problems))
    return ScenarioLine.objects.create(
        scenario=scenario,
        new_name=name[:120],
        new_portfolio=portfolio,
        new_owner=owner,
        new_market=market,
        new_focus=focus,
        new_objective=objective,
        base_planned=None,
        planned=planned.quantize(CENT, rounding=ROUND_HALF_UP),
    )


@transaction.atomic
def scenario_remove_new_product(*, scenario: Scenario, line: ScenarioLine) -> None:
    _draft(scenario)
    _line(scenario, line)
    if not line.is_new:
        raise ScenarioRefused("Only a proposed product is removed; pause an existing one instead.")
    line.delete()


@transaction.atomic
def scenario_discard(*, scenario: Scenario, by: User) -> Scenario:
    scenario = _draft(scenario)
    scenario.status = ScenarioStatus.DISCARDED
    scenario.decided_by, scenario.decided_at = by, timezone.now()
    scenario.save(update_fields=["status", "decided_by", "decided_at"])
    return scenario


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


def _rescale(lines: list[BudgetLine], target: Decimal) -> None:
    """Spread ``target`` over ``lines`` in proportion to their planned money; the rounding rest goes to the
    largest line, so the sum is exactly ``target``."""
    total = sum((line.planned for line in lines), ZERO)
    for line in lines:
        line.planned = (line.planned * target / total).quantize(CENT, rounding=ROUND_HALF_UP)
    rest = target - sum((line.planned for line in lines), ZERO)
    max(lines, key=lambda line: line.planned).planned += rest


def _even_opex(product: Product, quarters: Sequence[dt.date], target: Decimal) -> None:
    share = (target / len(quarters)).quantize(CENT, rounding=ROUND_HALF_UP)
    amounts = [share] * (len(quarters) - 1) + [target - share * (len(quarters) - 1)]
    for quarter, amount in zip(quarters, amounts, strict=True):
        BudgetLine.objects.update_or_create(
            product=product, quarter=quarter, kind=BudgetKind.OPEX, defaults={"planned": amount}
        )


def _unique_slug(name: str) -> str:
    base = slugify(name)[:70] or "product"
    taken = set(Product.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def scenario_approve(*, scenario: Scenario, by: User, confirm_version: int | None = None) -> PlanChange:
    """Make the scenario's changes the live plan (module docstring). Raises ``LivePlanChanged`` when the live
    plan of its scope changed since the copy, unless ``confirm_version`` is the plan version the user was shown
    those changes at; ``ScenarioRefused`` when it is not a draft."""
    _lock_plan()
    scenario = _draft(scenario)
    changes = list(changes_since(version=scenario.base_version, portfolio=scenario.portfolio))
    if changes:
        latest = latest_version_touching(scenario.portfolio)
        if confirm_version != latest:
            raise LivePlanChanged(changes=changes, conflicts=live_conflicts(scenario), version=latest)
    quarters = horizon(scenario)
    lines = [line for line in scenario.lines.select_related("product", "new_portfolio") if line.changed]
    details: list[dict] = []
    touched: list[int] = []
    with plan_change(
        by=by,
        summary=f"Approved scenario “{scenario.name}”: {len(lines)} change(s)",
        portfolio=scenario.portfolio,
        scenario=scenario,
    ) as change:
        existing = {
            (line.product_id, line.quarter, line.kind): line
            for line in BudgetLine.objects.filter(
                product_id__in=[line.product_id for line in lines if not line.is_new], quarter__in=quarters
            )
        }
        by_product: dict[int, list[BudgetLine]] = {}
        for budget_line in existing.values():
            by_product.setdefault(budget_line.product_id, []).append(budget_line)
        for line in lines:
            target = ZERO if line.paused else line.planned
            if line.is_new:
                product = Product.objects.create(
                    slug=_unique_slug(line.new_name),
                    name=line.new_name,
                    portfolio=line.new_portfolio,
                    owner=line.new_owner or by,
                    market=line.new_market,
                    focus=line.new_focus,
                    stage=Stage.PROBLEM,
                    stage_entered_at=timezone.now(),
                )
                StageTransition.objects.create(
                    product=product,
                    from_stage="",
                    to_stage=Stage.PROBLEM,
                    by=by,
                    note=f"From “{scenario.name}”",
                )
                if line.new_objective_id:
                    Alignment.objects.create(product=product, objective_id=line.new_objective_id, weight=100)
                if target > 0:
                    _even_opex(product, quarters, target)
                details.append({"product": product.slug, "added": True, "planned": str(target)})
                touched.append(product.pk)
                continue
            current = by_product.get(line.product_id, [])
            live_total = sum((budget_line.planned for budget_line in current), ZERO)
            if live_total > 0:
                _rescale(current, target)
                BudgetLine.objects.bulk_update(current, ["planned", "updated_at"])
            elif target > 0:
                _even_opex(line.product, quarters, target)
            details.append(
                {
                    "product": line.product.slug,
                    "paused": line.paused,
                    "planned": [str(live_total), str(target)],
                }
            )
            touched.append(line.product_id)
        change.details = details
        products_sync_money(product_ids=touched)
        scenario.status = ScenarioStatus.APPROVED
        scenario.decided_by, scenario.decided_at = by, timezone.now()
        scenario.save(update_fields=["status", "decided_by", "decided_at"])
    return change


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


__all__ = [
    "BudgetInvalid",
    "LivePlanChanged",
    "ScenarioRefused",
    "scenario_add_product",
    "scenario_approve",
    "scenario_change_budget",
    "scenario_compare",
    "scenario_create_from_live",
    "scenario_discard",
    "scenario_pause_product",
    "scenario_summary",
]
