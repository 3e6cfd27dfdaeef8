"""The demo tells one story: key results measured by their objective's KPIs, targets the KPIs can reach, a spread
of statuses that differs by portfolio, and some products stuck in their stage (portfolio/demo/key_results.py)."""

import datetime as dt
import io
import random
from collections import Counter

import pytest
from django.core.management import call_command

from lifecycle.analytics.selectors import AnalyticsFilters, funnel_and_stuck_counts, stuck_thresholds
from portfolio.demo.key_results import key_result_target, key_result_title
from portfolio.demo.kpi_specs import AT_RISK, KPIS, OFF_TARGET, ON_TARGET
from portfolio.demo.specs import ORGANISATION_OBJECTIVES, PORTFOLIOS
from portfolio.kpis.rules import rollup_status
from portfolio.models import KPI, KeyResult, Objective
from portfolio.strategy.selectors.objectives import KeyResultView, key_results
from products.models import Product

TODAY = "2026-03-18"
MEASURED_BY = {spec.title: spec.kpis for spec in ORGANISATION_OBJECTIVES} | {
    spec.title: spec.kpis for portfolio in PORTFOLIOS for spec in portfolio.objectives
}


@pytest.fixture
def demo(db, settings):
    """A demo big enough for proportions, with its rollups (the objectives page reads them)."""
    settings.SPM_DEMO_PASSWORD = "demo-password-for-tests"
    call_command(
        "seed_demo", "--products", "150", "--months", "2", "--seed", "1", "--today", TODAY,
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip


def kpi(name: str) -> KPI:
    spec = next(spec for spec in KPIS if spec.name == name)
    return KPI(
        name=spec.name,
        unit=spec.unit,
        direction=spec.direction,
        aggregation=spec.aggregation,
        tolerance=spec.tolerance,
        min_value=spec.floor if spec.floor < 0 else None,
        max_value=spec.cap if spec.cap is not None and spec.unit != "%" else None,
    )


def test_every_key_result_is_measured_by_a_kpi_of_its_objective(demo):
    rows = list(KeyResult.objects.values_list("objective__title", "kpi__name", "order"))

    assert len(rows) >= Objective.objects.count()
    for objective, kpi_name, order in rows:
        assert kpi_name == MEASURED_BY[objective][order - 1], (objective, kpi_name)
    # The objective that names uptime is measured by uptime, not by monthly active users.
    assert ("Reach 99.95% availability on every shared service", "Uptime", 1) in rows


def test_every_key_result_target_is_one_its_kpi_can_reach(demo):
    for key_result in KeyResult.objects.select_related("kpi"):
        key_result.full_clean()  # refuses 105 % uptime or a negative count
        assert "e+" not in key_result.title
        assert key_result.title.startswith(("Raise ", "Bring down "))


def test_key_results_spread_over_statuses_and_differ_by_portfolio(demo):
    statuses = {}
    for key_result in key_results(objectives=Objective.objects.all()):
        scope = key_result.objective.portfolio.name if key_result.objective.portfolio_id else "organisation"
        statuses.setdefault(scope, Counter())[KeyResultView(key_result).status] += 1
    overall = sum(statuses.values(), Counter())
    total = overall.total()

    assert overall[ON_TARGET] / total == pytest.approx(0.6, abs=0.2)
    assert overall[AT_RISK] >= 0.1 * total
    assert overall[OFF_TARGET] >= 0.05 * total
    assert "no_data" not in overall
    shares = {scope: round(counts[ON_TARGET] / counts.total(), 2) for scope, counts in statuses.items()}
    assert len(set(shares.values())) > 2, shares


def test_products_end_healthy_at_risk_and_off_target_in_believable_shares(demo):
    health = Counter(Product.objects.values_list("health", flat=True))

    assert health[ON_TARGET] / 150 == pytest.approx(0.6, abs=0.12)
    assert health[AT_RISK] / 150 == pytest.approx(0.25, abs=0.1)
    assert health[OFF_TARGET] / 150 == pytest.approx(0.15, abs=0.08)


def test_some_products_are_stuck_in_their_stage(demo):
    today = dt.date.fromisoformat(TODAY)
    funnel, stuck = funnel_and_stuck_counts(
        AnalyticsFilters(start=today - dt.timedelta(days=90), end=today),
        stuck_thresholds(),
        now=dt.datetime.combine(today, dt.time(12), tzinfo=dt.UTC),
    )
    assert 0 < sum(stuck.values()) < sum(funnel.values()) / 2


@pytest.mark.parametrize("name", [spec.name for spec in KPIS])
@pytest.mark.parametrize("status", [ON_TARGET, AT_RISK, OFF_TARGET])
def test_a_target_puts_the_current_value_where_wanted_inside_the_valid_range(name, status):
    rng = random.Random(3)
    definition = kpi(name)
    spec = next(spec for spec in KPIS if spec.name == name)
    for current in (spec.default_target * 0.97, spec.default_target, spec.default_target * 1.02):
        current = min(current, spec.cap or current)
        target, reached = key_result_target(rng, definition, current=current, status=status)

        assert target in definition.valid_range
        assert reached == rollup_status(
            value=current, target=target, direction=spec.direction, tolerance=spec.tolerance
        )
        # Near its KPI's ceiling a value cannot miss a higher-is-better target by more than the tolerance
        # (99.9 % uptime with 0.1 % tolerance), at the ceiling not at all: a less severe status is chosen.
        ceiling = spec.cap if spec.direction == "higher" else None
        impossible = ceiling is not None and (
            current == ceiling
            or (status == OFF_TARGET and current >= ceiling * (1 - spec.tolerance_fraction))
        )
        assert reached == status or impossible, (current, target, reached)


def test_at_100_percent_a_miss_is_impossible_so_the_target_is_met():
    target, reached = key_result_target(random.Random(1), kpi("Uptime"), current=100.0, status=OFF_TARGET)
    assert (reached, target <= 100) == (ON_TARGET, True)


@pytest.mark.parametrize(
    ("name", "target", "title"),
    [
        ("Revenue", 1_010_000.0, "Raise revenue to €1,010,000"),
        ("Churn rate", 2.1, "Bring down churn rate to 2.1 %"),
        ("Uptime", 99.95, "Raise uptime to 99.95 %"),
        ("Page load time (p95)", 1_150.0, "Bring down page load time (p95) to 1,150 ms"),
    ],
)
def test_key_result_titles_read_as_a_person_writes_them(name, target, title):
    assert key_result_title(kpi(name), target) == title
