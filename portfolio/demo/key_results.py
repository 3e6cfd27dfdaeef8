"""The demo's key results: each objective is measured by the KPIs its spec names (``ObjectiveSpec.kpis``), and
each target is set against the latest value of its KPI in the objective's scope, so that the key results end
on target, at risk or off target in the portfolio's proportions (``PortfolioSpec.health``) and every target is
one the KPI can reach (inside its valid range: no 105 % uptime).

The latest values come from the KPI histories as they stream into the measurement table (``LatestValues``),
combined across the scope's products the way rule 2 of docs/kpis.md combines them, so a key result's status
on the objectives page is the one chosen here whether or not the rollups have been recomputed yet.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from portfolio.choices import Aggregation, Direction
from portfolio.demo.kpi_specs import AT_RISK, OFF_TARGET, ON_TARGET, PROFILES, round_significant
from portfolio.demo.specs import ObjectiveSpec, PortfolioSpec
from portfolio.kpis.rules import rollup_status
from portfolio.models import KPI, KeyResult, Objective
from products.models import Product

KEY_RESULT_WORDS = {Direction.HIGHER: "Raise", Direction.LOWER: "Bring down"}
# Where a target sits from the current value, in tolerances: on target it is passed, at risk it is missed by
# less than the tolerance, off target by more.
TARGET_BANDS = {ON_TARGET: (-1.5, -0.2), AT_RISK: (0.2, 0.8), OFF_TARGET: (1.3, 2.5)}
# Less severe statuses to fall back on when a target would leave the KPI's valid range.
FALLBACK = {OFF_TARGET: (AT_RISK, ON_TARGET), AT_RISK: (ON_TARGET,), ON_TARGET: ()}


class LatestValues:
    """Each product's latest value of every KPI, collected while the histories stream by (``watch``), and
    combined per portfolio or for the whole organisation (``current``)."""

    def __init__(self, products: Sequence[Product]) -> None:
        self._portfolio_of = {product.pk: product.portfolio_id for product in products}
        self._values: dict[tuple[int, int], list[float]] = defaultdict(list)  # (portfolio id, KPI id)

    def watch(self, histories: Iterable[list[tuple]]) -> Iterator[list[tuple]]:
        for product_histories in histories:
            for product_id, kpi_id, _by, _frequency, values in product_histories:
                self._values[(self._portfolio_of[product_id], kpi_id)].append(values[-1])
            yield product_histories

    def current(self, kpi: KPI, portfolio_id: int | None) -> float | None:
        """The KPI's latest value in a portfolio (None: the organisation), combined by its aggregation."""
        if portfolio_id is None:
            values = [value for (_, kpi_id), vs in self._values.items() if kpi_id == kpi.pk for value in vs]
        else:
            values = self._values.get((portfolio_id, kpi.pk), [])
        if not values:
            return None
        if kpi.aggregation == Aggregation.SUM:
            return math.fsum(values)
        if kpi.aggregation == Aggregation.AVG:
            return math.fsum(values) / len(values)
        return min(values) if kpi.aggregation == Aggregation.MIN else max(values)


def key_result_target(rng: random.Random, kpi: KPI, *, current: float, status: str) -> tuple[float, str]:
    """A target that puts ``current`` at ``status`` (or a less severe one where the KPI's valid range leaves no
    such target), rounded as a person would write it. Returns the target and the status it gives."""
    tolerance = float(kpi.tolerance) / 100
    valid = kpi.valid_range
    for wanted in (status, *FALLBACK[status]):
        distance = rng.uniform(*TARGET_BANDS[wanted]) * tolerance  # positive: the target is ahead
        if kpi.direction == Direction.LOWER:
            target = current / (1 + distance) if distance > 0 else current * (1 - distance)
        else:
            target = current / (1 - distance) if distance > 0 else current * (1 + distance)
        for written in (*(round_significant(target, digits) for digits in range(2, 7)), target):
            if written in valid and _status(kpi, current, written) == wanted:
                return written, wanted
    return current, ON_TARGET


def _status(kpi: KPI, current: float, target: float) -> str:
    return rollup_status(
        value=current, target=target, direction=kpi.direction, tolerance=float(kpi.tolerance)
    )


def key_result_title(kpi: KPI, target: float) -> str:
    """“Raise revenue to €1,010,000”, “Bring down churn rate to 2.1 %”."""
    number = f"{target:,.0f}" if abs(target) >= 1_000 else f"{target:g}"
    amount = f"{kpi.unit}{number}" if kpi.unit in ("€", "$", "£") else f"{number} {kpi.unit}".strip()
    return f"{KEY_RESULT_WORDS.get(kpi.direction, 'Move')} {kpi.name[:1].lower()}{kpi.name[1:]} to {amount}"


def demo_key_results(
    rng: random.Random,
    *,
    objectives: Sequence[tuple[Objective, ObjectiveSpec]],
    portfolio_specs: dict[int, PortfolioSpec],
    kpis: Sequence[KPI],
    latest: LatestValues,
) -> list[KeyResult]:
    """One to three key results per objective, its spec's KPIs in order (the first always), each with a target
    that gives a status drawn with the portfolio's health weights (the organisation's: the mean of them)."""
    kpi_by_name = {kpi.name: kpi for kpi in kpis}
    organisation = [
        sum(spec.health[index] for spec in portfolio_specs.values()) / len(portfolio_specs)
        for index in range(len(PROFILES))
    ]
    key_results = []
    for objective, spec in objectives:
        weights = portfolio_specs[objective.portfolio_id].health if objective.portfolio_id else organisation
        for order, name in enumerate(spec.kpis[: rng.randint(1, len(spec.kpis))], start=1):
            kpi = kpi_by_name[name]
            current = latest.current(kpi, objective.portfolio_id)
            if current is None:
                continue
            status = rng.choices(PROFILES, weights=weights)[0]
            target, _ = key_result_target(rng, kpi, current=current, status=status)
            key_results.append(
                KeyResult(
                    objective=objective,
                    kpi=kpi,
                    order=order,
                    target=target,
                    title=key_result_title(kpi, target),
                )
            )
    return key_results
