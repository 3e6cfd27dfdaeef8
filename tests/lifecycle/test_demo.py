"""The demo seed's lifecycle work: later stages carry the earlier stages' work, every stage's gate shows a mix
of met and unmet criteria, and the same seed gives the same work."""

import datetime as dt

import pytest

from lifecycle.models import FeedbackItem, Milestone, PainPoint, ProblemStatement, Release, StageTransition
from lifecycle.summaries import checklists
from portfolio.demo.seed import demo_seed
from portfolio.demo.work import demo_work_clear, demo_work_seed
from products.choices import Stage
from products.models import Product

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 18)


@pytest.fixture
def demo(settings):
    demo_seed(products=140, months=1, seed=3, today=TODAY, password="demo-password-for-tests")
    return Product.objects.all()


def gates(today=TODAY):
    return checklists(stages=dict(Product.objects.values_list("pk", "stage")), today=today)


def test_every_stage_shows_products_that_pass_and_that_fail_criteria(demo):
    results = gates().values()
    for stage in Stage:
        ones = [gate for gate in results if gate.stage == stage]
        assert ones, stage
        met = [criterion.passed for gate in ones for criterion in gate.criteria]
        assert any(met), f"{stage}: no criterion met anywhere"
        assert not all(met), f"{stage}: every criterion met everywhere"


def test_products_in_later_stages_have_the_earlier_work_mostly_done(demo):
    late = Product.objects.filter(stage__in=[Stage.STRATEGY, Stage.EXECUTION])
    with_statement = ProblemStatement.objects.filter(product__in=late).exclude(statement="").count()
    assert with_statement >= 0.75 * late.count()
    # and products still in problem have no releases, milestones or feedback
    early = Product.objects.filter(stage=Stage.PROBLEM)
    assert not Release.objects.filter(product__in=early).exists()
    assert not Milestone.objects.filter(product__in=early).exists()
    assert not FeedbackItem.objects.filter(product__in=early).exists()


def test_the_same_seed_writes_the_same_work(demo):
    def snapshot():
        return list(
            PainPoint.objects.order_by("product__slug", "description").values_list(
                "product__slug", "description", "severity"
            )
        )

    first = snapshot()
    demo_work_clear()
    assert not PainPoint.objects.exists()
    demo_work_seed(
        products=list(Product.objects.order_by("pk")), seed=3, today=TODAY, kpi_ids=[], objective_ids={}
    )
    assert snapshot() == first


def test_some_director_moves_are_gate_overrides_with_reasons(demo):
    overrides = StageTransition.objects.filter(gate_overridden=True)
    assert overrides.exists()
    for transition in overrides:
        assert transition.override_reason
        assert transition.unmet_criteria
        assert transition.by_id == transition.product.portfolio.director_id
        assert Stage(transition.to_stage).position > Stage(transition.from_stage).position
