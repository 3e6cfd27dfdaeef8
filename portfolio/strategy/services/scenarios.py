"""Writes of scenarios: create from the live plan, change, discard, approve."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from lifecycle.services import product_create
from portfolio.alerts.services import scenario_notify
from portfolio.choices import EventKind
from portfolio.models import (
    Alignment,
    BudgetKind,
    BudgetLine,
    Objective,
    PlanChange,
    PlanState,
    Portfolio,
    Scenario,
    ScenarioLine,
    ScenarioStatus,
)
from portfolio.periods import quarter_start, quarters_from
from portfolio.strategy.rules import CENT, ZERO, LivePlanChanged, ScenarioRefused
from portfolio.strategy.selectors.investment import horizon_planned
from portfolio.strategy.selectors.plan import changes_since, latest_version_touching
from portfolio.strategy.selectors.scenarios import (
    HORIZON_QUARTERS,
    horizon,
    live_conflicts,
    scenario_products,
)
from portfolio.strategy.services.budgets import products_sync_money
from portfolio.strategy.services.plan import plan_change
from products.choices import Focus, Market, Stage
from products.models import Product, User


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
    scenario_notify(scenario=scenario, kind=EventKind.SCENARIO_CREATED, by=by)
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
    scenario_notify(scenario=scenario, kind=EventKind.SCENARIO_DISCARDED, by=by)
    return scenario


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
                product = product_create(
                    product=Product(
                        slug=_unique_slug(line.new_name),
                        name=line.new_name,
                        portfolio=line.new_portfolio,
                        owner=line.new_owner or by,
                        market=line.new_market,
                        focus=line.new_focus,
                        stage=Stage.PROBLEM,
                    ),
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
        products_sync_money(product_ids=touched, by=by)
        scenario.status = ScenarioStatus.APPROVED
        scenario.decided_by, scenario.decided_at = by, timezone.now()
        scenario.save(update_fields=["status", "decided_by", "decided_at"])
        scenario_notify(scenario=scenario, kind=EventKind.SCENARIO_APPROVED, by=by)
    return change
