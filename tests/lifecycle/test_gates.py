"""Every gate rule, passing and failing with its reason; the work summary read from the database; and forward,
backward and overridden moves with who may make them."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from lifecycle.gates import RULES, WorkSummary, gate_evaluate, stages_left_by, unmet_for_move
from lifecycle.models import (
    Experiment,
    FeedbackItem,
    FeedbackTheme,
    Goal,
    Hypothesis,
    Milestone,
    MVPPlan,
    OpportunityCase,
    PainPoint,
    ProblemStatement,
    Release,
    RoadmapItem,
    StageTransition,
)
from lifecycle.services import GateNotMet, product_move_stage
from lifecycle.summaries import work_summary
from portfolio.models import Alignment
from products.choices import Role, Stage
from products.models import Product
from tests.factories import KPIFactory, MembershipFactory, ObjectiveFactory, ProductFactory, UserFactory
from tests.lifecycle.factories import fill_gates, fill_stage

TODAY = dt.date(2026, 11, 26)
M = Decimal


def verdict(code: str, **work):
    rule = next(rule for rule in RULES if rule.code == code)
    return rule.check(WorkSummary(**work), TODAY)


# (rule code, work that fails it, reason it gives, work that passes it, reason it gives)
CASES = [
    (
        "problem_statement",
        {},
        "No problem statement yet.",
        {"problem_statement": True},
        "Problem statement written.",
    ),
    (
        "pain_points",
        {"pain_points": 1},
        "1 pain point recorded; 2 needed.",
        {"pain_points": 2},
        "2 pain points recorded.",
    ),
    ("personas", {}, "0 personas recorded; 1 needed.", {"personas": 1}, "1 persona recorded."),
    ("competitors", {}, "0 competitors recorded; 1 needed.", {"competitors": 3}, "3 competitors recorded."),
    (
        "goals",
        {"goals": 2},
        "2 goals, but it serves no objective yet: align it on the objectives page.",
        {"goals": 2, "objectives_served": 1},
        "2 goals; serves 1 objective.",
    ),
    (
        "market_size",
        {"tam": M(100), "som": M(1)},
        "SAM not sized yet.",
        {"tam": M(100), "sam": M(10), "som": M(1)},
        "TAM, SAM and SOM sized and nested.",
    ),
    (
        "market_size",
        {"tam": M(10), "sam": M(100), "som": M(1)},
        "Sizes must nest: TAM ≥ SAM ≥ SOM.",
        {"tam": M(100), "sam": M(100), "som": M(100)},
        "TAM, SAM and SOM sized and nested.",
    ),
    (
        "business_case",
        {"business_case": True, "investment": M(5)},
        "Missing the expected return.",
        {"business_case": True, "investment": M(5), "expected_return": M(0)},
        "Case written with expected return and investment.",
    ),
    ("timeline", {}, "No target date yet.", {"target_date": TODAY}, "Target date 26 Nov 2026."),
    (
        "validated_hypothesis",
        {"hypotheses": 3},
        "3 hypotheses, none validated.",
        {"hypotheses": 3, "validated_hypotheses": 1},
        "1 of 3 hypotheses validated.",
    ),
    (
        "experiment_done",
        {"experiments": 1},
        "1 experiment, none done.",
        {"experiments": 2, "experiments_done": 2},
        "2 of 2 experiments done.",
    ),
    (
        "research_notes",
        {},
        "0 research notes recorded; 1 needed.",
        {"research_notes": 1},
        "1 research note recorded.",
    ),
    ("mvp_scope", {}, "No scope yet.", {"mvp_scope": True}, "Scope written."),
    (
        "mvp_launched",
        {"launch_date": TODAY + dt.timedelta(days=1)},
        "Launch planned for 27 Nov 2026, not yet launched.",
        {"launch_date": TODAY},
        "Launched on 26 Nov 2026.",
    ),
    (
        "mvp_launched",
        {},
        "No launch date yet.",
        {"launch_date": TODAY - dt.timedelta(days=9)},
        "Launched on 17 Nov 2026.",
    ),
    (
        "success_criteria",
        {"success_criteria": 2},
        "2 criteria, none linked to a KPI.",
        {"success_criteria": 2, "success_criteria_with_kpi": 1},
        "1 of 2 criteria linked to a KPI.",
    ),
    (
        "success_criteria",
        {},
        "No success criteria yet.",
        {"success_criteria": 1, "success_criteria_with_kpi": 1},
        "1 of 1 criterion linked to a KPI.",
    ),
    ("mvp_result", {}, "No result yet.", {"mvp_result": True}, "Result written."),
    (
        "recent_feedback",
        {"recent_feedback": 9},
        "9 items recorded; 10 needed in the last 90 days.",
        {"recent_feedback": 10},
        "10 items recorded in the last 90 days.",
    ),
    (
        "feedback_themes",
        {"recent_feedback": 10, "recent_feedback_themed": 4},
        "4 of 10 recent items have a theme; at least half needed.",
        {"recent_feedback": 10, "recent_feedback_themed": 5},
        "5 of 10 recent items have a theme.",
    ),
    (
        "feedback_themes",
        {},
        "No recent feedback to group.",
        {"recent_feedback": 1, "recent_feedback_themed": 1},
        "1 of 1 recent items have a theme.",
    ),
    (
        "feedback_kpis",
        {},
        "0 items related to a KPI recorded; 1 needed.",
        {"feedback_with_kpi": 1},
        "1 item related to a KPI recorded.",
    ),
    ("positioning", {}, "No positioning yet.", {"positioning": True}, "Positioning written."),
    ("pricing", {}, "No pricing notes yet.", {"pricing_notes": True}, "Pricing notes written."),
    (
        "dated_roadmap",
        {"dated_roadmap_items": 2},
        "2 dated roadmap items recorded; 3 needed.",
        {"dated_roadmap_items": 3},
        "3 dated roadmap items recorded.",
    ),
    ("release_planned", {}, "0 releases recorded; 1 needed.", {"releases": 1}, "1 release recorded."),
    (
        "release_shipped",
        {"releases": 2},
        "0 shipped releases recorded; 1 needed.",
        {"releases_shipped": 1},
        "1 shipped release recorded.",
    ),
    (
        "milestones_on_time",
        {"milestones_finished": 10, "milestones_on_time": 6},
        "6 of 10 finished milestones on time (60%); 70% needed.",
        {"milestones_finished": 10, "milestones_on_time": 7},
        "7 of 10 finished milestones on time (70%).",
    ),
    (
        "milestones_on_time",
        {},
        "No milestone finished yet.",
        {"milestones_finished": 1, "milestones_on_time": 1},
        "1 of 1 finished milestones on time (100%).",
    ),
]


@pytest.mark.parametrize(
    ("code", "failing", "fail_reason", "passing", "pass_reason"), CASES, ids=[c[0] for c in CASES]
)
def test_each_rule_fails_and_passes_with_its_reason(code, failing, fail_reason, passing, pass_reason):
    assert verdict(code, **failing).reason == fail_reason
    assert not verdict(code, **failing).passed
    assert verdict(code, **passing).passed
    assert verdict(code, **passing).reason == pass_reason


def test_every_rule_is_tested_and_every_stage_has_rules():
    assert {rule.code for rule in RULES} == {case[0] for case in CASES}
    assert {rule.stage for rule in RULES} == set(Stage)


def test_a_stage_checklist_counts_met_criteria():
    gate = gate_evaluate(
        work=WorkSummary(problem_statement=True, pain_points=2), stage="problem", today=TODAY
    )
    assert (gate.met, gate.total, gate.passed) == (2, 4, False)
    assert [criterion.name for criterion in gate.unmet] == [
        "A persona described",
        "Competitors and market gaps listed",
    ]
    assert gate.gates_a_move
    assert not gate_evaluate(work=WorkSummary(), stage="execution", today=TODAY).gates_a_move


def test_a_move_across_several_stages_needs_every_gate_it_leaves():
    assert stages_left_by("problem", "research") == [Stage.PROBLEM, Stage.OPPORTUNITY]
    assert stages_left_by("research", "problem") == []
    problem_done = WorkSummary(problem_statement=True, pain_points=2, personas=1, competitors=1)
    assert unmet_for_move(work=problem_done, from_stage="problem", to_stage="opportunity", today=TODAY) == []
    unmet = unmet_for_move(work=problem_done, from_stage="problem", to_stage="research", today=TODAY)
    assert {criterion.stage for criterion in unmet} == {Stage.OPPORTUNITY}
    assert unmet_for_move(work=WorkSummary(), from_stage="mvp", to_stage="problem", today=TODAY) == []


# ------------------------------------------------------------------------------------------------ from the database


@pytest.mark.django_db
def test_aligning_a_product_on_the_objectives_page_meets_its_objective_criterion(client):
    """Observation 5 of issue 14: the gate read a goal's own objective field, not the objectives page."""
    director = UserFactory(role=Role.DIRECTOR)
    product = ProductFactory(stage=Stage.OPPORTUNITY, portfolio__director=director)
    Goal.objects.create(product=product, title="Halve time to pay")
    objective = ObjectiveFactory(portfolio=product.portfolio)

    def criterion():
        gate = gate_evaluate(
            work=work_summary(product=product), stage=Stage.OPPORTUNITY, today=timezone.localdate()
        )
        return next(c for c in gate.criteria if c.code == "goals")

    assert not criterion().passed
    client.force_login(director)
    response = client.post(
        f"/portfolio/objectives/{objective.pk}/align/", {"product": product.slug, "weight": "100"}
    )
    assert response.status_code in (200, 302)
    assert Alignment.objects.filter(product=product, objective=objective).exists()
    assert criterion().passed
    assert criterion().reason == "1 goal; serves 1 objective."


@pytest.mark.django_db
def test_the_work_summary_reads_every_work_product_in_two_queries(django_assert_num_queries):
    product = ProductFactory()
    other = ProductFactory()
    today = timezone.localdate()
    ProblemStatement.objects.create(product=product, statement="x")
    PainPoint.objects.create(product=product, description="a")
    PainPoint.objects.create(product=other, description="not ours")
    Goal.objects.create(product=product, title="g", objective=ObjectiveFactory())
    Goal.objects.create(product=product, title="h")
    Alignment.objects.create(
        product=product, objective=ObjectiveFactory(), weight=60
    )  # the objectives page's
    Alignment.objects.create(product=other, objective=ObjectiveFactory(), weight=100)
    OpportunityCase.objects.create(product=product, tam=10, sam=5, som=1)
    hypothesis = Hypothesis.objects.create(product=product, statement="s", outcome="validated")
    Experiment.objects.create(product=product, hypothesis=hypothesis, title="t", status="done")
    MVPPlan.objects.create(product=product, scope="", launch_date=today)
    theme = FeedbackTheme.objects.create(product=product, name="Speed")
    kpi = KPIFactory()
    FeedbackItem.objects.create(
        product=product, segment="b2b", text="old", received_on=today - dt.timedelta(days=91)
    )
    FeedbackItem.objects.create(
        product=product, segment="b2b", text="new", received_on=today, theme=theme, kpi=kpi
    )
    RoadmapItem.objects.create(product=product, title="dated", target_date=today)
    RoadmapItem.objects.create(product=product, title="undated")
    RoadmapItem.objects.create(product=product, title="dropped", target_date=today, status="dropped")
    release = Release.objects.create(
        product=product, name="1", planned_date=today, actual_date=today, status="shipped"
    )
    Release.objects.create(product=product, name="2", planned_date=today, status="cancelled")
    Milestone.objects.create(
        product=product, release=release, title="m", planned_date=today, actual_date=today, status="done"
    )
    Milestone.objects.create(
        product=product,
        title="late",
        planned_date=today - dt.timedelta(days=5),
        actual_date=today,
        status="done",
    )
    with django_assert_num_queries(2):  # the lists' counts, the one-to-one sheets
        work = work_summary(product=product, today=today)
    assert work == WorkSummary(
        product_id=product.pk,
        problem_statement=True,
        pain_points=1,
        goals=2,
        objectives_served=1,
        tam=M(10),
        sam=M(5),
        som=M(1),
        hypotheses=1,
        validated_hypotheses=1,
        experiments=1,
        experiments_done=1,
        launch_date=today,
        feedback_items=2,
        recent_feedback=1,
        recent_feedback_themed=1,
        feedback_with_kpi=1,
        roadmap_items=2,
        dated_roadmap_items=1,
        releases=1,
        releases_shipped=1,
        milestones_finished=2,
        milestones_on_time=1,
    )


# ------------------------------------------------------------------------------------------------ moves


@pytest.fixture
def owner(db):
    return UserFactory(username="owner", role=Role.PM)


@pytest.fixture
def product(owner):
    return ProductFactory(owner=owner, stage=Stage.PROBLEM)


@pytest.mark.django_db
def test_a_forward_move_with_unmet_criteria_is_refused_and_changes_nothing(product, owner):
    fill_stage(product, Stage.PROBLEM)
    PainPoint.objects.filter(product=product).first().delete()
    with pytest.raises(GateNotMet) as refused:
        product_move_stage(product=product, to="opportunity", by=owner)
    assert refused.value.code == "gate_not_met"
    assert [criterion.name for criterion in refused.value.unmet] == ["At least 2 pain points"]
    assert not refused.value.may_override
    assert "not ready to leave Problem: 1 criterion unmet (At least 2 pain points)" in refused.value.message
    assert Product.objects.get(pk=product.pk).stage == "problem"
    assert not StageTransition.objects.exists()


@pytest.mark.django_db
def test_a_forward_move_with_the_gate_met_is_no_override(product, owner):
    fill_gates(product, to="opportunity")
    transition = product_move_stage(product=product, to="opportunity", by=owner, override_reason="not needed")
    assert not transition.gate_overridden
    assert transition.override_reason == ""
    assert transition.unmet_criteria == []


@pytest.mark.django_db
def test_a_backward_move_needs_a_note_but_no_gate(owner):
    product = ProductFactory(owner=owner, stage=Stage.MVP)
    transition = product_move_stage(product=product, to="research", by=owner, note="Pilot failed")
    assert transition.is_backward
    assert not transition.gate_overridden


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["director", "vp", "superuser"])
def test_directors_of_the_portfolio_vps_and_superusers_override_with_a_reason(product, who):
    user = {
        "director": product.portfolio.director,
        "vp": UserFactory(role=Role.VP),
        "superuser": UserFactory(role=Role.PM, is_superuser=True),
    }[who]
    with pytest.raises(GateNotMet) as refused:
        product_move_stage(product=product, to="opportunity", by=user)
    assert refused.value.may_override
    transition = product_move_stage(
        product=product, to="opportunity", by=user, override_reason="  Strategic bet  "
    )
    assert transition.gate_overridden
    assert transition.override_reason == "Strategic bet"
    assert len(transition.unmet_criteria) == 4
    assert transition.unmet_criteria[0] == "Problem statement written: No problem statement yet."
    # in the audit history too
    assert transition.history.get().gate_overridden


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["owner", "senior member", "other director"])
def test_nobody_else_may_override(product, owner, who):
    user = {
        "owner": owner,
        "senior member": MembershipFactory(product=product, role=Role.SENIOR_PM).user,
        "other director": UserFactory(role=Role.DIRECTOR),
    }[who]
    with pytest.raises(PermissionDenied):
        product_move_stage(product=product, to="opportunity", by=user, override_reason="Please")
    assert Product.objects.get(pk=product.pk).stage == "problem"
    assert not StageTransition.objects.exists()


@pytest.mark.django_db
def test_an_override_needs_a_reason_in_the_database_too(product):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        StageTransition.objects.create(
            product=product, from_stage="problem", to_stage="mvp", gate_overridden=True
        )


@pytest.mark.django_db
def test_the_history_tab_shows_an_override_and_its_reason(client, product):
    director = product.portfolio.director
    product_move_stage(product=product, to="opportunity", by=director, override_reason="Board asked for it")
    client.force_login(director)
    html = client.get(f"/products/{product.slug}/history/").content.decode()
    assert "Gate overridden" in html
    assert "Board asked for it" in html


# ------------------------------------------------------------------------------- the board's per-stage counts


def test_each_stages_rules_read_only_the_counts_the_board_reads_for_that_stage():
    """The board counts, per card, only what its stage's gate reads (``COUNTS_BY_STAGE``): record what the rules
    read, over summaries that take every branch."""
    import dataclasses

    from lifecycle.gates import COUNTS_BY_STAGE

    counted = {f.name for f in dataclasses.fields(WorkSummary) if f.type in ("int", int)} - {"product_id"}
    today = timezone.localdate()
    read: set[str] = set()

    class Recording(WorkSummary):
        def __getattribute__(self, name):
            read.add(name)
            return super().__getattribute__(name)

    for stage in Stage:
        read.clear()
        for n in (0, 1, 3, 20):
            gate_evaluate(work=Recording(**dict.fromkeys(counted, n)), stage=stage, today=today)
        assert read & counted <= COUNTS_BY_STAGE[stage], stage
        assert COUNTS_BY_STAGE[stage] <= counted


@pytest.mark.django_db
def test_the_boards_checklists_equal_each_products_own_checklist():
    from lifecycle.summaries import checklists

    products = []
    for index, stage in enumerate(Stage):
        product = ProductFactory(stage=stage)
        # some work everywhere: the checklist of its own stage must not change by counting less
        for filled in list(Stage)[: index + 2]:
            fill_stage(product, filled)
        products.append(product)
        products.append(ProductFactory(stage=stage))  # and one without any work
    today = timezone.localdate()
    board = checklists(stages={product.pk: product.stage for product in products}, today=today)
    for product in products:
        own = gate_evaluate(work=work_summary(product=product, today=today), stage=product.stage, today=today)
        assert board[product.pk] == own, product.stage
