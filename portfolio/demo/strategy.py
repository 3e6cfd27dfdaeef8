"""The demo's strategy data: key results (``portfolio.demo.key_results``), alignments, quarterly budget lines, RICE/WSJF scores and one draft
scenario. Deterministic for a seed and a day; bulk inserts only (called by ``portfolio.demo.seed.demo_seed``).

Budget lines: this year's four quarters carry each product's seeded planned budget (split across quarters and
capex/opex, to the cent) and its seeded actual spend (spread over the quarters elapsed so far, so some products
are over plan); next year's four quarters carry a plan only. Product totals are then set from the lines
(``portfolio.strategy.services.budgets.products_sync_money``): a product's planned budget is the whole live plan.

Some objectives are left without a product (the last one of each portfolio) and about one product in eight
serves no objective, so the coverage view has gaps to show.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from portfolio.demo.key_results import LatestValues, demo_key_results
from portfolio.demo.specs import PORTFOLIOS, ObjectiveSpec
from portfolio.models import (
    KPI,
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
)
from portfolio.periods import quarter_start, year_quarters
from portfolio.strategy.rules import FIBONACCI, IMPACT_CHOICES, elapsed_fraction, rice_score, wsjf_score
from portfolio.strategy.services.budgets import products_sync_money
from portfolio.strategy.services.plan import plan_change
from portfolio.strategy.services.scenarios import scenario_create_from_live
from products.choices import Focus, Market, Stage
from products.models import Product, User

CENT = Decimal("0.01")
# Share of a product's budget that is capex, by stage: building costs capital, running costs operations.
CAPEX_SHARE = {
    Stage.PROBLEM: (0.0, 0.1),
    Stage.OPPORTUNITY: (0.0, 0.15),
    Stage.RESEARCH: (0.05, 0.25),
    Stage.MVP: (0.3, 0.6),
    Stage.FEEDBACK: (0.2, 0.4),
    Stage.STRATEGY: (0.1, 0.3),
    Stage.EXECUTION: (0.2, 0.45),
}
REACH = {
    Stage.PROBLEM: (50, 500),
    Stage.OPPORTUNITY: (100, 2_000),
    Stage.RESEARCH: (200, 5_000),
    Stage.MVP: (500, 20_000),
    Stage.FEEDBACK: (2_000, 50_000),
    Stage.STRATEGY: (5_000, 100_000),
    Stage.EXECUTION: (10_000, 400_000),
}
CONFIDENCE = {
    Stage.PROBLEM: (20, 50),
    Stage.OPPORTUNITY: (30, 60),
    Stage.RESEARCH: (40, 70),
    Stage.MVP: (50, 80),
    Stage.FEEDBACK: (60, 90),
    Stage.STRATEGY: (70, 100),
    Stage.EXECUTION: (80, 100),
}


def _split(total: Decimal, weights: Sequence[float]) -> list[Decimal]:
    """``total`` in parts proportional to ``weights``, to the cent, adding up exactly (rest on the last part)."""
    whole = sum(weights)
    if not whole:
        return [Decimal(0)] * (len(weights) - 1) + [total]
    parts = [(total * Decimal(str(w / whole))).quantize(CENT, rounding=ROUND_HALF_UP) for w in weights[:-1]]
    return [*parts, total - sum(parts, Decimal(0))]


def seed_strategy(
    *,
    products: Sequence[Product],
    portfolios: Sequence[Portfolio],
    objectives: Sequence[tuple[Objective, ObjectiveSpec]],
    kpis: Sequence[KPI],
    latest: LatestValues,
    today: dt.date,
    seed: int,
) -> dict[str, int]:
    """Write the strategy demo data for already created products, portfolios, objectives (with their specs), KPIs
    and measurements (``latest``: their latest values, for the key results' targets). Runs inside the seed's
    transaction. Returns counts per kind of row."""
    rng = random.Random(f"strategy:{seed}")
    portfolio_specs = {portfolio.pk: spec for portfolio, spec in zip(portfolios, PORTFOLIOS, strict=True)}
    Scenario.objects.all().delete()
    PlanChange.objects.all().delete()
    PlanState.objects.all().delete()
    per_portfolio: dict[int, list[Product]] = {}
    for product in products:
        per_portfolio.setdefault(product.portfolio_id, []).append(product)

    key_results = demo_key_results(
        rng, objectives=objectives, portfolio_specs=portfolio_specs, kpis=kpis, latest=latest
    )
    KeyResult.objects.bulk_create(key_results)

    alignments = []
    objectives_by_portfolio: dict[int | None, list[Objective]] = {}
    for objective, _ in objectives:
        objectives_by_portfolio.setdefault(objective.portfolio_id, []).append(objective)
    organisation = objectives_by_portfolio.get(None, [])
    for portfolio_id, portfolio_products in per_portfolio.items():
        own = objectives_by_portfolio.get(portfolio_id, [])
        # The last objective of each portfolio stays without a product: the coverage view shows it.
        servable = own[:-1] if len(own) > 1 else own
        for product in portfolio_products:
            if not servable or rng.random() < 0.12:
                continue
            first = rng.choice(servable)
            if rng.random() < 0.4 and len(servable) > 1:
                second = rng.choice([o for o in servable if o != first])
                weights = rng.choice([(60, 40), (50, 50), (70, 30), (50, 30)])
                alignments += [
                    Alignment(product=product, objective=first, weight=weights[0]),
                    Alignment(product=product, objective=second, weight=weights[1]),
                ]
            else:
                alignments.append(
                    Alignment(product=product, objective=first, weight=rng.choice([100, 100, 80]))
                )
            if organisation and rng.random() < 0.15:
                alignments.append(Alignment(product=product, objective=rng.choice(organisation), weight=20))
    Alignment.objects.bulk_create(alignments)

    this_year = year_quarters(today.year)
    next_year = year_quarters(today.year + 1)
    current = quarter_start(today)
    elapsed = [float(elapsed_fraction(quarter, today)) for quarter in this_year]
    lines = []
    for product in products:
        low, high = CAPEX_SHARE[Stage(product.stage)]
        capex_share = rng.uniform(low, high)
        quarter_weights = [rng.uniform(0.85, 1.15) for _ in this_year]
        planned = _split(product.planned_budget, quarter_weights)
        spend_weights = [w * e * rng.uniform(0.8, 1.2) for w, e in zip(quarter_weights, elapsed, strict=True)]
        actual = _split(product.actual_spend, spend_weights)
        growth = rng.uniform(0.6, 1.25) if product.stage != Stage.EXECUTION else rng.uniform(0.9, 1.05)
        plan_next = _split((product.planned_budget * Decimal(f"{growth:.4f}")).quantize(CENT), [1, 1, 1, 1])
        for quarters, planned_parts, actual_parts in (
            (this_year, planned, actual),
            (next_year, plan_next, [Decimal(0)] * 4),
        ):
            for quarter, amount, spent in zip(quarters, planned_parts, actual_parts, strict=True):
                capex, capex_spent = (
                    _split(amount, [capex_share, 1 - capex_share]),
                    _split(spent, [capex_share, 1 - capex_share]),
                )
                if capex[0] > 0 or capex_spent[0] > 0:
                    lines.append(
                        BudgetLine(
                            product=product,
                            quarter=quarter,
                            kind=BudgetKind.CAPEX,
                            planned=capex[0],
                            actual=capex_spent[0],
                        )
                    )
                lines.append(
                    BudgetLine(
                        product=product,
                        quarter=quarter,
                        kind=BudgetKind.OPEX,
                        planned=capex[1],
                        actual=capex_spent[1],
                    )
                )
    BudgetLine.objects.bulk_create(lines, batch_size=2000)
    products_sync_money(product_ids=[product.pk for product in products])

    scores = []
    for product in products:
        if rng.random() < 0.08:
            continue  # not scored yet
        stage = Stage(product.stage)
        reach = rng.randint(*REACH[stage])
        impact = rng.choice(IMPACT_CHOICES)
        confidence = rng.choice(range(CONFIDENCE[stage][0], CONFIDENCE[stage][1] + 1, 10))
        effort = Decimal(str(rng.choice([0.5, 1, 2, 3, 4, 6, 8, 12, 18, 24])))
        bv, tc, rr, size = (rng.choice(FIBONACCI) for _ in range(4))
        scores.append(
            PriorityScore(
                product=product,
                reach=reach,
                impact=impact,
                confidence=confidence,
                effort=effort,
                business_value=bv,
                time_criticality=tc,
                risk_reduction=rr,
                job_size=size,
                rice=rice_score(reach=reach, impact=impact, confidence=confidence, effort=effort),
                wsjf=wsjf_score(business_value=bv, time_criticality=tc, risk_reduction=rr, job_size=size),
            )
        )
    PriorityScore.objects.bulk_create(scores, batch_size=2000)

    scenarios = _draft_scenario(
        rng, portfolios=portfolios, products=per_portfolio, today=today, current=current
    )
    return {
        "key_results": len(key_results),
        "alignments": len(alignments),
        "budget_lines": len(lines),
        "scores": len(scores),
        "scenarios": scenarios,
    }


def _draft_scenario(rng, *, portfolios, products, today: dt.date, current: dt.date) -> int:
    """One draft scenario for the first portfolio: a tenth off, its two weakest products paused, one new bet."""
    if not portfolios or not products.get(portfolios[0].pk):
        return 0
    portfolio = portfolios[0]
    director = User.objects.filter(pk=portfolio.director_id).first()
    if director is None:
        return 0
    with plan_change(by=None, summary="Demo plan seeded", details=[]):
        pass
    scenario = scenario_create_from_live(
        name=f"{portfolio.name}: 10% less next year",
        portfolio=portfolio,
        by=director,
        description="Cut the weakest bets, keep every objective funded, try one new product.",
        today=today,
    )
    lines = list(scenario.lines.select_related("product__priority").order_by("pk"))
    scored = sorted(
        (line for line in lines if hasattr(line.product, "priority")),
        key=lambda line: line.product.priority.rice,
    )
    for line in scored[:2]:
        line.paused = True
    for line in scored[2:]:
        line.planned = (line.planned * Decimal("0.9")).quantize(CENT, rounding=ROUND_HALF_UP)
    scenario.lines.model.objects.bulk_update(lines, ["paused", "planned"])
    owner = products[portfolio.pk][0].owner_id
    scenario.lines.create(
        new_name=f"{portfolio.name} Copilot",
        new_portfolio=portfolio,
        new_owner_id=owner,
        new_market=rng.choice(Market.values),
        new_focus=rng.choice(Focus.values),
        new_objective=Objective.objects.filter(portfolio=portfolio).order_by("order").first(),
        planned=Decimal("400000.00"),
    )
    return 1
