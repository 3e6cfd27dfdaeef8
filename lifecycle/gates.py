"""Stage gates: when a product is ready to leave a stage. One table of rules, one place to change them.

Each rule belongs to a stage, has a name a person reads on the checklist, and a check: a pure function of the
product's ``WorkSummary`` (counts and facts of its work products, read in two queries for any number of products
by ``lifecycle.summaries.work_summaries``) and today's date, returning whether it passes and why. A product
moves forward only when every rule of the stages it leaves passes, or a director / VP overrides the gate with a
written reason (``lifecycle.services.product_move_stage``). The execution stage has no next stage: its rules
are a delivery checklist that gates nothing. Every rule is listed in docs/lifecycle.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from products.choices import Stage

MIN_PAIN_POINTS = 2
MIN_RECENT_FEEDBACK = 10
FEEDBACK_WINDOW_DAYS = 90
MIN_DATED_ROADMAP_ITEMS = 3
MIN_ON_TIME_RATE = 0.7


@dataclass(frozen=True)
class WorkSummary:
    """What a product's work products amount to, as the gate rules need it. Built by
    ``lifecycle.summaries.work_summaries``; tests build it by hand."""

    product_id: int = 0
    # problem
    problem_statement: bool = False
    pain_points: int = 0
    personas: int = 0
    competitors: int = 0
    evidence_links: int = 0
    # opportunity
    goals: int = 0
    objectives_served: int = 0  # the product's alignments to business objectives (the objectives page)
    tam: Decimal | None = None
    sam: Decimal | None = None
    som: Decimal | None = None
    business_case: bool = False
    expected_return: Decimal | None = None
    investment: Decimal | None = None
    target_date: dt.date | None = None
    # research
    hypotheses: int = 0
    validated_hypotheses: int = 0
    experiments: int = 0
    experiments_done: int = 0
    research_notes: int = 0
    # mvp
    mvp_scope: bool = False
    launch_date: dt.date | None = None
    success_criteria: int = 0
    success_criteria_with_kpi: int = 0
    mvp_result: bool = False
    # feedback (``recent``: received in the last FEEDBACK_WINDOW_DAYS days)
    feedback_items: int = 0
    recent_feedback: int = 0
    recent_feedback_themed: int = 0
    feedback_with_kpi: int = 0
    # strategy
    positioning: bool = False
    pricing_notes: bool = False
    roadmap_items: int = 0
    dated_roadmap_items: int = 0
    # execution
    releases: int = 0
    releases_shipped: int = 0
    milestones_finished: int = 0
    milestones_on_time: int = 0


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reason: str


@dataclass(frozen=True)
class GateRule:
    stage: Stage
    code: str
    name: str
    check: Callable[[WorkSummary, dt.date], Verdict]


@dataclass(frozen=True)
class CriterionResult:
    stage: Stage
    code: str
    name: str
    passed: bool
    reason: str


@dataclass(frozen=True)
class GateResult:
    """One stage's checklist for one product."""

    stage: Stage
    criteria: list[CriterionResult] = field(default_factory=list)

    @property
    def met(self) -> int:
        return sum(1 for criterion in self.criteria if criterion.passed)

    @property
    def total(self) -> int:
        return len(self.criteria)

    @property
    def passed(self) -> bool:
        return self.met == self.total

    @property
    def unmet(self) -> list[CriterionResult]:
        return [criterion for criterion in self.criteria if not criterion.passed]

    @property
    def gates_a_move(self) -> bool:
        """False for the last stage, whose checklist is about delivery, not about leaving it."""
        return self.stage != Stage.EXECUTION


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _at_least(count: int, needed: int, noun: str, plural: str | None = None) -> Verdict:
    recorded = _plural(count, noun, plural)
    if count >= needed:
        return Verdict(True, f"{recorded} recorded.")
    return Verdict(False, f"{recorded} recorded; {needed} needed.")


def _written(present: bool, what: str) -> Verdict:
    return Verdict(True, f"{what} written.") if present else Verdict(False, f"No {what.lower()} yet.")


def _goals_serving_an_objective(w: WorkSummary) -> Verdict:
    """At least one goal, and the product aligned to at least one business objective: the alignments of the
    objectives page are the one link between products and objectives (docs/strategy.md)."""
    served = f"serves {_plural(w.objectives_served, 'objective')}"
    if w.goals and w.objectives_served:
        return Verdict(True, f"{_plural(w.goals, 'goal')}; {served}.")
    if w.goals:
        return Verdict(
            False,
            f"{_plural(w.goals, 'goal')}, but it serves no objective yet: align it on the objectives page.",
        )
    return Verdict(False, f"No goals yet; {served}.")


def _market_sized(work: WorkSummary, today: dt.date) -> Verdict:
    missing = [name for name, value in (("TAM", work.tam), ("SAM", work.sam), ("SOM", work.som)) if not value]
    if missing:
        return Verdict(False, f"{', '.join(missing)} not sized yet.")
    if not work.tam >= work.sam >= work.som:
        return Verdict(False, "Sizes must nest: TAM ≥ SAM ≥ SOM.")
    return Verdict(True, "TAM, SAM and SOM sized and nested.")


def _business_case(work: WorkSummary, today: dt.date) -> Verdict:
    missing = [
        name
        for name, present in (
            ("the case", work.business_case),
            ("the expected return", work.expected_return is not None),
            ("the investment", work.investment is not None),
        )
        if not present
    ]
    if missing:
        return Verdict(False, f"Missing {', '.join(missing)}.")
    return Verdict(True, "Case written with expected return and investment.")


def _target_timeline(work: WorkSummary, today: dt.date) -> Verdict:
    if work.target_date is None:
        return Verdict(False, "No target date yet.")
    return Verdict(True, f"Target date {work.target_date:%d %b %Y}.")


def _launched(work: WorkSummary, today: dt.date) -> Verdict:
    if work.launch_date is None:
        return Verdict(False, "No launch date yet.")
    if work.launch_date > today:
        return Verdict(False, f"Launch planned for {work.launch_date:%d %b %Y}, not yet launched.")
    return Verdict(True, f"Launched on {work.launch_date:%d %b %Y}.")


def _criteria_with_kpis(work: WorkSummary, today: dt.date) -> Verdict:
    if not work.success_criteria:
        return Verdict(False, "No success criteria yet.")
    if not work.success_criteria_with_kpi:
        return Verdict(
            False, f"{_plural(work.success_criteria, 'criterion', 'criteria')}, none linked to a KPI."
        )
    return Verdict(
        True,
        f"{work.success_criteria_with_kpi} of {_plural(work.success_criteria, 'criterion', 'criteria')} "
        "linked to a KPI.",
    )


def _recent_feedback(work: WorkSummary, today: dt.date) -> Verdict:
    verdict = _at_least(work.recent_feedback, MIN_RECENT_FEEDBACK, "item")
    return Verdict(verdict.passed, f"{verdict.reason[:-1]} in the last {FEEDBACK_WINDOW_DAYS} days.")


def _themed(work: WorkSummary, today: dt.date) -> Verdict:
    if not work.recent_feedback:
        return Verdict(False, "No recent feedback to group.")
    share = work.recent_feedback_themed / work.recent_feedback
    reason = f"{work.recent_feedback_themed} of {work.recent_feedback} recent items have a theme"
    if share >= 0.5:
        return Verdict(True, f"{reason}.")
    return Verdict(False, f"{reason}; at least half needed.")


def _on_time(work: WorkSummary, today: dt.date) -> Verdict:
    if not work.milestones_finished:
        return Verdict(False, "No milestone finished yet.")
    rate = work.milestones_on_time / work.milestones_finished
    reason = (
        f"{work.milestones_on_time} of {work.milestones_finished} finished milestones on time ({rate:.0%})"
    )
    if rate >= MIN_ON_TIME_RATE:
        return Verdict(True, f"{reason}.")
    return Verdict(False, f"{reason}; {MIN_ON_TIME_RATE:.0%} needed.")


#: Every gate criterion, by stage, in checklist order.
RULES: tuple[GateRule, ...] = (
    GateRule(
        Stage.PROBLEM,
        "problem_statement",
        "Problem statement written",
        lambda w, today: _written(w.problem_statement, "Problem statement"),
    ),
    GateRule(
        Stage.PROBLEM,
        "pain_points",
        f"At least {MIN_PAIN_POINTS} pain points",
        lambda w, today: _at_least(w.pain_points, MIN_PAIN_POINTS, "pain point"),
    ),
    GateRule(
        Stage.PROBLEM, "personas", "A persona described", lambda w, today: _at_least(w.personas, 1, "persona")
    ),
    GateRule(
        Stage.PROBLEM,
        "competitors",
        "Competitors and market gaps listed",
        lambda w, today: _at_least(w.competitors, 1, "competitor"),
    ),
    GateRule(
        Stage.OPPORTUNITY,
        "goals",
        "Goals set, serving a business objective",
        lambda w, today: _goals_serving_an_objective(w),
    ),
    GateRule(Stage.OPPORTUNITY, "market_size", "Market sized (TAM, SAM, SOM)", _market_sized),
    GateRule(Stage.OPPORTUNITY, "business_case", "Business case with return and investment", _business_case),
    GateRule(Stage.OPPORTUNITY, "timeline", "Target timeline set", _target_timeline),
    GateRule(
        Stage.RESEARCH,
        "validated_hypothesis",
        "At least one validated hypothesis",
        lambda w, today: (
            Verdict(
                True,
                f"{w.validated_hypotheses} of {_plural(w.hypotheses, 'hypothesis', 'hypotheses')} validated.",
            )
            if w.validated_hypotheses
            else Verdict(False, f"{_plural(w.hypotheses, 'hypothesis', 'hypotheses')}, none validated.")
        ),
    ),
    GateRule(
        Stage.RESEARCH,
        "experiment_done",
        "An experiment completed",
        lambda w, today: (
            Verdict(True, f"{w.experiments_done} of {_plural(w.experiments, 'experiment')} done.")
            if w.experiments_done
            else Verdict(False, f"{_plural(w.experiments, 'experiment')}, none done.")
        ),
    ),
    GateRule(
        Stage.RESEARCH,
        "research_notes",
        "User research recorded",
        lambda w, today: _at_least(w.research_notes, 1, "research note"),
    ),
    GateRule(
        Stage.MVP, "mvp_scope", "Must-have scope defined", lambda w, today: _written(w.mvp_scope, "Scope")
    ),
    GateRule(Stage.MVP, "mvp_launched", "MVP launched", _launched),
    GateRule(Stage.MVP, "success_criteria", "Success criteria linked to KPIs", _criteria_with_kpis),
    GateRule(
        Stage.MVP, "mvp_result", "Launch result recorded", lambda w, today: _written(w.mvp_result, "Result")
    ),
    GateRule(
        Stage.FEEDBACK,
        "recent_feedback",
        f"At least {MIN_RECENT_FEEDBACK} feedback items in the last {FEEDBACK_WINDOW_DAYS} days",
        _recent_feedback,
    ),
    GateRule(Stage.FEEDBACK, "feedback_themes", "Feedback grouped into themes", _themed),
    GateRule(
        Stage.FEEDBACK,
        "feedback_kpis",
        "Feedback related to KPIs",
        lambda w, today: _at_least(w.feedback_with_kpi, 1, "item related to a KPI", "items related to a KPI"),
    ),
    GateRule(
        Stage.STRATEGY,
        "positioning",
        "Positioning written",
        lambda w, today: _written(w.positioning, "Positioning"),
    ),
    GateRule(
        Stage.STRATEGY,
        "pricing",
        "Pricing notes written",
        lambda w, today: _written(w.pricing_notes, "Pricing notes"),
    ),
    GateRule(
        Stage.STRATEGY,
        "dated_roadmap",
        f"Roadmap has at least {MIN_DATED_ROADMAP_ITEMS} dated items",
        lambda w, today: _at_least(w.dated_roadmap_items, MIN_DATED_ROADMAP_ITEMS, "dated roadmap item"),
    ),
    GateRule(
        Stage.EXECUTION,
        "release_planned",
        "A release or iteration planned",
        lambda w, today: _at_least(w.releases, 1, "release"),
    ),
    GateRule(
        Stage.EXECUTION,
        "release_shipped",
        "A release shipped",
        lambda w, today: _at_least(w.releases_shipped, 1, "shipped release"),
    ),
    GateRule(
        Stage.EXECUTION, "milestones_on_time", f"Milestones on time ({MIN_ON_TIME_RATE:.0%}+)", _on_time
    ),
)


#: The ``WorkSummary`` counts each stage's rules read: a board card shows its current stage's checklist only, so
#: the board counts only these (tests/lifecycle/test_gates.py checks them against what the rules read).
COUNTS_BY_STAGE: dict[str, frozenset[str]] = {
    Stage.PROBLEM: frozenset({"pain_points", "personas", "competitors"}),
    Stage.OPPORTUNITY: frozenset({"goals", "objectives_served"}),
    Stage.RESEARCH: frozenset(
        {"hypotheses", "validated_hypotheses", "experiments", "experiments_done", "research_notes"}
    ),
    Stage.MVP: frozenset({"success_criteria", "success_criteria_with_kpi"}),
    Stage.FEEDBACK: frozenset({"recent_feedback", "recent_feedback_themed", "feedback_with_kpi"}),
    Stage.STRATEGY: frozenset({"dated_roadmap_items"}),
    Stage.EXECUTION: frozenset({"releases", "releases_shipped", "milestones_finished", "milestones_on_time"}),
}

RULES_BY_STAGE: dict[str, tuple[GateRule, ...]] = {
    stage.value: tuple(rule for rule in RULES if rule.stage == stage) for stage in Stage
}


def rules_for(stage: str) -> tuple[GateRule, ...]:
    return RULES_BY_STAGE[stage]


def gate_evaluate(*, work: WorkSummary, stage: str, today: dt.date) -> GateResult:
    """The checklist of ``stage`` for the product ``work`` summarises."""
    stage = Stage(stage)
    return GateResult(
        stage=stage,
        criteria=[
            CriterionResult(stage, rule.code, rule.name, verdict.passed, verdict.reason)
            for rule in rules_for(stage)
            for verdict in [rule.check(work, today)]
        ],
    )


def stages_left_by(from_stage: str, to_stage: str) -> list[Stage]:
    """The stages a forward move leaves behind (every stage from ``from_stage`` up to ``to_stage``, exclusive);
    none for a move backwards."""
    stages = list(Stage)
    start, end = Stage(from_stage).position, Stage(to_stage).position
    return stages[start:end] if end > start else []


def unmet_for_move(
    *, work: WorkSummary, from_stage: str, to_stage: str, today: dt.date
) -> list[CriterionResult]:
    """The criteria a forward move from ``from_stage`` to ``to_stage`` finds unmet (empty: the gate opens)."""
    return [
        criterion
        for stage in stages_left_by(from_stage, to_stage)
        for criterion in gate_evaluate(work=work, stage=stage, today=today).unmet
    ]
