"""The kinds of lifecycle work product, by stage: what each is called, its model, and how a row reads on the
product page. The product page, its forms (``lifecycle.work.forms.WORK_FORMS``), the URLs
(``/lifecycle/products/<slug>/work/<kind>/...``) and the admin all go by this one table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone
from django.utils.text import Truncator

from lifecycle.models import (
    Competitor,
    EvidenceLink,
    Experiment,
    FeedbackItem,
    FeedbackTheme,
    Goal,
    Hypothesis,
    Milestone,
    MVPPlan,
    OpportunityCase,
    PainPoint,
    Persona,
    ProblemStatement,
    Release,
    ResearchNote,
    RoadmapItem,
    StrategyBrief,
    SuccessCriterion,
)
from products.choices import Stage


@dataclass(frozen=True)
class EntryText:
    """How one work product reads: a headline, short facts, and an optional longer text."""

    headline: str
    facts: list[str] = field(default_factory=list)
    body: str = ""
    url: str = ""
    late: bool = False


def _date(value) -> str:
    return f"{value:%d %b %Y}" if value else ""


def _money(value) -> str:
    return f"€{value:,.0f}" if value is not None else "not set"


@dataclass(frozen=True)
class WorkKind:
    slug: str
    stage: Stage
    model: type[models.Model]
    label: str
    plural: str
    describe: Callable[[models.Model, bool], EntryText]
    #: One row per product (edited in place) rather than a list.
    sheet: bool = False
    #: Related rows to read with each row (``select_related``).
    related: tuple[str, ...] = ()
    #: The fields a person edits (its form's) and its history lists, in that order.
    fields: tuple[str, ...] = ()
    hint: str = ""


def _release_text(release: Release, show_money: bool) -> EntryText:
    facts = [
        release.get_kind_display(),
        release.get_status_display(),
        f"planned {_date(release.planned_date)}",
    ]
    if release.actual_date:
        facts.append(f"actual {_date(release.actual_date)}")
    return EntryText(release.name, facts, release.notes, late=release.is_late)


def _milestone_text(milestone: Milestone, show_money: bool) -> EntryText:
    facts = [milestone.get_status_display(), f"planned {_date(milestone.planned_date)}"]
    if milestone.actual_date:
        facts.append(f"actual {_date(milestone.actual_date)}")
    if milestone.release_id:
        facts.append(f"release {milestone.release.name}")
    return EntryText(milestone.title, facts, late=milestone.is_late)


def _opportunity_text(case: OpportunityCase, show_money: bool) -> EntryText:
    facts = [f"TAM {_money(case.tam)}", f"SAM {_money(case.sam)}", f"SOM {_money(case.som)}"]
    if show_money:
        facts += [f"expected return {_money(case.expected_return)}", f"investment {_money(case.investment)}"]
    facts.append(f"target {_date(case.target_date) or 'not set'}")
    return EntryText("Market sizing and business case", facts, case.business_case)


def _roadmap_text(item: RoadmapItem, show_money: bool) -> EntryText:
    late = (
        item.status not in ("done", "dropped")
        and item.target_date is not None
        and item.target_date < timezone.localdate()
    )
    return EntryText(
        item.title,
        [item.get_status_display(), f"target {_date(item.target_date)}" if item.target_date else "no date"],
        item.description,
        late=late,
    )


WORK_KINDS: tuple[WorkKind, ...] = (
    WorkKind(
        "problem-statement",
        Stage.PROBLEM,
        ProblemStatement,
        "Problem statement",
        "Problem statement",
        lambda row, money: EntryText("Problem statement", body=row.statement),
        sheet=True,
        hint="The problem in the customer's words: who has it, when, and what it costs them.",
        fields=("statement",),
    ),
    WorkKind(
        "pain-points",
        Stage.PROBLEM,
        PainPoint,
        "Pain point",
        "Pain points",
        lambda row, money: EntryText(row.description, [f"{row.get_severity_display()} severity"]),
        fields=("description", "severity"),
    ),
    WorkKind(
        "personas",
        Stage.PROBLEM,
        Persona,
        "Persona",
        "Personas",
        lambda row, money: EntryText(row.name, body=row.description),
        fields=("name", "description"),
    ),
    WorkKind(
        "competitors",
        Stage.PROBLEM,
        Competitor,
        "Competitor",
        "Competitors and gaps",
        lambda row, money: EntryText(row.name, body=f"Gap: {row.gap}" if row.gap else ""),
        fields=("name", "gap"),
    ),
    WorkKind(
        "evidence",
        Stage.PROBLEM,
        EvidenceLink,
        "Evidence link",
        "Evidence",
        lambda row, money: EntryText(row.title, [Truncator(row.url).chars(60)], url=row.url),
        fields=("title", "url"),
    ),
    WorkKind(
        "opportunity",
        Stage.OPPORTUNITY,
        OpportunityCase,
        "Sizing and business case",
        "Sizing and business case",
        _opportunity_text,
        sheet=True,
        hint="TAM ≥ SAM ≥ SOM in € a year; the case, its expected return and investment; the target date.",
        fields=("tam", "sam", "som", "business_case", "expected_return", "investment", "target_date"),
    ),
    WorkKind(
        "goals",
        Stage.OPPORTUNITY,
        Goal,
        "Goal",
        "Goals",
        lambda row, money: EntryText(
            row.title, [f"objective: {row.objective.title}" if row.objective_id else "no objective"]
        ),
        related=("objective",),
        fields=("title", "objective"),
    ),
    WorkKind(
        "hypotheses",
        Stage.RESEARCH,
        Hypothesis,
        "Hypothesis",
        "Solution hypotheses",
        lambda row, money: EntryText(row.statement, [row.get_outcome_display()]),
        fields=("statement", "outcome"),
    ),
    WorkKind(
        "experiments",
        Stage.RESEARCH,
        Experiment,
        "Experiment",
        "Experiments",
        lambda row, money: EntryText(
            row.title,
            [
                row.get_method_display(),
                row.get_status_display(),
                f"outcome: {row.get_outcome_display().lower()}",
            ]
            + ([f"tests: {Truncator(row.hypothesis.statement).chars(40)}"] if row.hypothesis_id else []),
        ),
        related=("hypothesis",),
        fields=("title", "hypothesis", "method", "status", "outcome"),
    ),
    WorkKind(
        "research-notes",
        Stage.RESEARCH,
        ResearchNote,
        "Research note",
        "User research notes",
        lambda row, money: EntryText(row.title, [_date(row.noted_on)], row.body),
        fields=("title", "body", "noted_on"),
    ),
    WorkKind(
        "mvp",
        Stage.MVP,
        MVPPlan,
        "MVP scope and launch",
        "MVP scope and launch",
        lambda row, money: EntryText(
            "MVP scope and launch",
            [f"launch {_date(row.launch_date) or 'not planned'}", f"{len(row.features)} must-have features"],
            "\n".join(f"• {feature}" for feature in row.features)
            + (f"\n\nResult: {row.result}" if row.result else ""),
        ),
        sheet=True,
        hint="Must-have features one per line, the launch date, and what the launch showed.",
        fields=("scope", "launch_date", "result"),
    ),
    WorkKind(
        "success-criteria",
        Stage.MVP,
        SuccessCriterion,
        "Success criterion",
        "Success criteria",
        lambda row, money: EntryText(
            row.description,
            [f"KPI: {row.kpi.name}" if row.kpi_id else "no KPI"]
            + ([f"target {row.target:g}"] if row.target is not None else [])
            + [{True: "met", False: "not met", None: "not known yet"}[row.met]],
        ),
        related=("kpi",),
        fields=("description", "kpi", "target", "met"),
    ),
    WorkKind(
        "feedback-themes",
        Stage.FEEDBACK,
        FeedbackTheme,
        "Theme",
        "Themes",
        lambda row, money: EntryText(row.name),
        fields=("name",),
    ),
    WorkKind(
        "feedback",
        Stage.FEEDBACK,
        FeedbackItem,
        "Feedback item",
        "Feedback items",
        lambda row, money: EntryText(
            Truncator(row.text).chars(80),
            [
                _date(row.received_on),
                row.get_source_display(),
                row.get_segment_display(),
                row.get_sentiment_display(),
            ]
            + ([f"score {row.score}"] if row.score is not None else [])
            + ([f"theme: {row.theme.name}"] if row.theme_id else [])
            + ([f"KPI: {row.kpi.name}"] if row.kpi_id else []),
        ),
        related=("theme", "kpi"),
        fields=("received_on", "source", "segment", "sentiment", "score", "text", "theme", "kpi"),
    ),
    WorkKind(
        "strategy",
        Stage.STRATEGY,
        StrategyBrief,
        "Positioning and pricing",
        "Positioning and pricing",
        lambda row, money: EntryText(
            "Positioning and pricing",
            body="\n\n".join(
                text
                for text in (
                    f"Positioning: {row.positioning}" if row.positioning else "",
                    f"Pricing: {row.pricing_notes}" if row.pricing_notes else "",
                )
                if text
            ),
        ),
        sheet=True,
        fields=("positioning", "pricing_notes"),
    ),
    WorkKind(
        "roadmap",
        Stage.STRATEGY,
        RoadmapItem,
        "Roadmap item",
        "Roadmap",
        _roadmap_text,
        fields=("title", "description", "target_date", "status", "order"),
    ),
    WorkKind(
        "releases",
        Stage.EXECUTION,
        Release,
        "Release",
        "Releases and iterations",
        _release_text,
        fields=("name", "kind", "planned_date", "actual_date", "status", "notes"),
    ),
    WorkKind(
        "milestones",
        Stage.EXECUTION,
        Milestone,
        "Milestone",
        "Milestones",
        _milestone_text,
        related=("release",),
        fields=("title", "release", "planned_date", "actual_date", "status"),
    ),
)

KINDS_BY_SLUG = {kind.slug: kind for kind in WORK_KINDS}

#: Feedback items listed on the product page (the counts and the trend cover all of them).
FEEDBACK_SHOWN = 20


def kinds_for(stage: str) -> list[WorkKind]:
    return [kind for kind in WORK_KINDS if kind.stage == stage]
