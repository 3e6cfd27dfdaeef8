"""Demo lifecycle work products: what ``seed_demo`` records for each product, stage by stage.

A product's earlier stages are mostly complete (it left them, usually through their gates), its current stage is
half done (so the board and product pages show a realistic mix of met and unmet gate criteria), and its later
stages are empty. Deterministic: every choice comes from a ``random.Random`` seeded with the seed and the
product's slug. Rows are written with ``bulk_create`` (one insert per model and batch), and models whose rows
others point to (hypotheses, themes, releases) go first so their ids are known.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from decimal import Decimal

from django.db import models

from lifecycle.gates import MIN_DATED_ROADMAP_ITEMS, MIN_PAIN_POINTS, MIN_RECENT_FEEDBACK
from lifecycle.models import (
    Competitor,
    EvidenceLink,
    Experiment,
    ExperimentMethod,
    ExperimentStatus,
    FeedbackItem,
    FeedbackSource,
    FeedbackTheme,
    Goal,
    Hypothesis,
    Milestone,
    MilestoneStatus,
    MVPPlan,
    OpportunityCase,
    Outcome,
    PainPoint,
    Persona,
    ProblemStatement,
    Release,
    ReleaseKind,
    ReleaseStatus,
    ResearchNote,
    RoadmapItem,
    RoadmapStatus,
    Sentiment,
    Severity,
    StrategyBrief,
    SuccessCriterion,
)
from portfolio.demo.overrides import demo_overrides
from portfolio.demo.work_texts import (
    COMPETITORS,
    FEEDBACK,
    HYPOTHESES,
    NOUNS,
    PAINS,
    PERSONAS,
    ROADMAP,
    THEMES,
)
from products.choices import Stage
from products.models import Product

BATCH = 2000
#: Chance that one gate criterion of a stage is done: stages the product has left, and its current stage.
DONE_LEFT = 0.92
DONE_CURRENT = 0.5


def _done(rng: random.Random, chance: float) -> bool:
    return rng.random() < chance


def demo_work_clear() -> None:
    """Delete every work product and its audit history (before the products go: no cascade collection over
    thousands of rows; new rows may reuse old ids and must not inherit their history)."""
    for model in (
        Milestone,
        Release,
        RoadmapItem,
        StrategyBrief,
        FeedbackItem,
        FeedbackTheme,
        SuccessCriterion,
        MVPPlan,
        ResearchNote,
        Experiment,
        Hypothesis,
        Goal,
        OpportunityCase,
        EvidenceLink,
        Competitor,
        Persona,
        PainPoint,
        ProblemStatement,
    ):
        model.objects.all()._raw_delete(model.objects.db)
        history = model.history.model
        history.objects.all()._raw_delete(history.objects.db)


def demo_work_seed(
    *,
    products: Sequence[Product],
    seed: int,
    today: dt.date,
    kpi_ids: Sequence[int],
    objective_ids: dict[int | None, list[int]],
) -> int:
    """Record the work products of ``products`` (each with its stage set). ``objective_ids``: objective ids by
    portfolio id (None: the organisation's). Returns the number of rows written."""
    rows: dict[type[models.Model], list[models.Model]] = {}
    # Rows that point to rows of the same seed: (child, parent attribute, parent) filled after the parents.
    experiments: list[tuple[Experiment, Hypothesis | None]] = []
    feedback: list[tuple[FeedbackItem, FeedbackTheme | None]] = []
    milestones: list[tuple[Milestone, Release | None]] = []

    def add(row: models.Model) -> models.Model:
        rows.setdefault(type(row), []).append(row)
        return row

    for product in products:
        rng = random.Random(f"lifecycle-work:{seed}:{product.slug}")
        position = Stage(product.stage).position
        noun = rng.choice(NOUNS)

        def chance(stage: Stage, position: int = position) -> float | None:
            if stage.position < position:
                return DONE_LEFT
            if stage.position == position:
                return DONE_CURRENT
            return None

        # problem
        p = chance(Stage.PROBLEM)
        if p is not None:
            if _done(rng, p):
                add(ProblemStatement(product=product, statement=f"{rng.choice(PAINS).format(noun=noun)}."))
            pains = rng.randint(MIN_PAIN_POINTS, 4) if _done(rng, p) else rng.randint(0, MIN_PAIN_POINTS - 1)
            for pain in rng.sample(PAINS, pains):
                add(
                    PainPoint(
                        product=product,
                        description=pain.format(noun=noun),
                        severity=rng.choice(Severity.values),
                    )
                )
            if _done(rng, p):
                for name, description in rng.sample(PERSONAS, rng.randint(1, 2)):
                    add(Persona(product=product, name=name, description=description))
            if _done(rng, p):
                for name, gap in rng.sample(COMPETITORS, rng.randint(1, 3)):
                    add(Competitor(product=product, name=name, gap=gap))
            for number in range(rng.randint(0, 2)):
                add(
                    EvidenceLink(
                        product=product,
                        title=f"Interview notes {number + 1}",
                        url=f"https://wiki.example.com/{product.slug}/evidence-{number + 1}",
                    )
                )
        # opportunity
        p = chance(Stage.OPPORTUNITY)
        if p is not None:
            tam = Decimal(rng.randrange(20, 900) * 1_000_000)
            sized = _done(rng, p)
            cased = _done(rng, p)
            add(
                OpportunityCase(
                    product=product,
                    tam=tam if sized else None,
                    sam=(tam * Decimal("0.2")).quantize(Decimal(1)) if sized else None,
                    som=(tam * Decimal("0.02")).quantize(Decimal(1)) if sized else None,
                    business_case=f"Winning 2% of the serviceable market for {noun} pays back within two years."
                    if cased
                    else "",
                    expected_return=Decimal(rng.randrange(5, 80) * 100_000) if cased else None,
                    investment=Decimal(rng.randrange(2, 30) * 100_000) if cased else None,
                    target_date=today + dt.timedelta(days=rng.randint(90, 540)) if _done(rng, p) else None,
                )
            )
            objectives = objective_ids.get(product.portfolio_id, []) + objective_ids.get(None, [])
            tied = _done(rng, p) and objectives
            for number in range(rng.randint(1, 3)):
                add(
                    Goal(
                        product=product,
                        title=f"Goal {number + 1}: grow {noun} handled per customer",
                        objective_id=rng.choice(objectives) if tied and number == 0 else None,
                    )
                )
        # research
        p = chance(Stage.RESEARCH)
        if p is not None:
            validated = _done(rng, p)
            hypotheses = [
                add(
                    Hypothesis(
                        product=product,
                        statement=text.format(noun=noun),
                        outcome=Outcome.VALIDATED
                        if validated and index == 0
                        else rng.choice([Outcome.OPEN, Outcome.INVALIDATED, Outcome.INCONCLUSIVE]),
                    )
                )
                for index, text in enumerate(rng.sample(HYPOTHESES, rng.randint(1, 3)))
            ]
            done = _done(rng, p)
            for index, hypothesis in enumerate(hypotheses):
                finished = done and index == 0
                experiment = Experiment(
                    product=product,
                    title=f"Test: {hypothesis.statement[:60]}",
                    method=rng.choice(ExperimentMethod.values),
                    status=ExperimentStatus.DONE
                    if finished
                    else rng.choice([ExperimentStatus.PLANNED, ExperimentStatus.RUNNING]),
                    outcome=hypothesis.outcome if finished else Outcome.OPEN,
                )
                experiments.append((experiment, hypothesis))
            if _done(rng, p):
                for number in range(rng.randint(1, 3)):
                    add(
                        ResearchNote(
                            product=product,
                            title=f"Customer interview {number + 1}",
                            body=f"Spoke with a {rng.choice(PERSONAS)[0].lower()} about {noun}.",
                            noted_on=today - dt.timedelta(days=rng.randint(30, 400)),
                        )
                    )
        # mvp
        p = chance(Stage.MVP)
        if p is not None:
            launched = _done(rng, p)
            add(
                MVPPlan(
                    product=product,
                    scope="\n".join(
                        f"{feature} for {noun}"
                        for feature in rng.sample(
                            ["Import", "Matching", "Approval flow", "Dashboard", "Alerts"], 3
                        )
                    )
                    if _done(rng, p)
                    else "",
                    launch_date=today - dt.timedelta(days=rng.randint(20, 300))
                    if launched
                    else today + dt.timedelta(days=rng.randint(10, 120)),
                    result="Activation and retention met the success criteria in the pilot."
                    if launched and _done(rng, p)
                    else "",
                )
            )
            linked = _done(rng, p)
            for number in range(rng.randint(1, 3)):
                add(
                    SuccessCriterion(
                        product=product,
                        description=f"Pilot criterion {number + 1}",
                        kpi_id=rng.choice(kpi_ids) if linked and kpi_ids else None,
                        target=float(rng.randint(10, 90)),
                        met=rng.choice([True, False]) if launched else None,
                    )
                )
        # feedback
        p = chance(Stage.FEEDBACK)
        if p is not None:
            themes = [
                add(FeedbackTheme(product=product, name=name))
                for name in rng.sample(THEMES, rng.randint(2, 4))
            ]
            enough = _done(rng, p)
            # A product still collecting feedback has it recent; one that moved on, spread over the past year.
            recent = (
                rng.randint(MIN_RECENT_FEEDBACK, 24) if enough else rng.randint(2, MIN_RECENT_FEEDBACK - 1)
            )
            themed = _done(rng, p)
            related = _done(rng, p)
            span = 85 if Stage(product.stage) == Stage.FEEDBACK else 360
            for number in range(recent):
                sentiment = rng.choices(Sentiment.values, weights=[5, 3, 3])[0]
                feedback.append(
                    (
                        FeedbackItem(
                            product=product,
                            received_on=today - dt.timedelta(days=rng.randint(0, span)),
                            source=rng.choice(FeedbackSource.values),
                            segment=product.market if rng.random() < 0.8 else rng.choice(["b2b", "b2c"]),
                            sentiment=sentiment,
                            score=rng.randint(7, 10)
                            if sentiment == Sentiment.POSITIVE
                            else rng.randint(0, 6),
                            text=rng.choice(FEEDBACK[sentiment]),
                            kpi_id=rng.choice(kpi_ids) if related and kpi_ids and number % 3 == 0 else None,
                        ),
                        rng.choice(themes) if themed or rng.random() < 0.3 else None,
                    )
                )
        # strategy
        p = chance(Stage.STRATEGY)
        if p is not None:
            add(
                StrategyBrief(
                    product=product,
                    positioning=f"The fastest way for mid-sized teams to handle {noun}."
                    if _done(rng, p)
                    else "",
                    pricing_notes="Per seat, with a usage tier above 10,000 items a month."
                    if _done(rng, p)
                    else "",
                )
            )
            dated = _done(rng, p)
            for order, title in enumerate(rng.sample(ROADMAP, rng.randint(MIN_DATED_ROADMAP_ITEMS, 5))):
                target = today + dt.timedelta(days=rng.randint(-60, 360))
                status = (
                    RoadmapStatus.DONE
                    if target < today and rng.random() < 0.6
                    else rng.choice([RoadmapStatus.PLANNED, RoadmapStatus.IN_PROGRESS])
                )
                add(
                    RoadmapItem(
                        product=product,
                        title=title,
                        target_date=target if dated or order == 0 else None,
                        status=status,
                        order=order,
                    )
                )
        # execution
        p = chance(Stage.EXECUTION)
        if p is not None:
            for number in range(rng.randint(1, 4)):
                planned = today + dt.timedelta(days=rng.randint(-240, 120))
                shipped = planned < today and rng.random() < 0.8
                actual = (
                    min(planned + dt.timedelta(days=rng.choice([-3, 0, 0, 5, 14, 30])), today)
                    if shipped
                    else None
                )
                release = add(
                    Release(
                        product=product,
                        name=f"{number + 1}.0",
                        kind=rng.choice(ReleaseKind.values),
                        planned_date=planned,
                        actual_date=actual,
                        status=ReleaseStatus.SHIPPED
                        if shipped
                        else ReleaseStatus.IN_PROGRESS
                        if planned < today
                        else ReleaseStatus.PLANNED,
                    )
                )
                for step in ("Code complete", "Beta", "General availability")[: rng.randint(1, 3)]:
                    milestone_planned = planned - dt.timedelta(days=rng.randint(0, 40))
                    done = shipped or (milestone_planned < today and rng.random() < 0.7)
                    milestones.append(
                        (
                            Milestone(
                                product=product,
                                title=f"{release.name}: {step}",
                                planned_date=milestone_planned,
                                actual_date=min(
                                    milestone_planned + dt.timedelta(days=rng.choice([-2, 0, 0, 3, 10])),
                                    today,
                                )
                                if done
                                else None,
                                status=MilestoneStatus.DONE if done else MilestoneStatus.PLANNED,
                            ),
                            release,
                        )
                    )

    written = 0
    # Parents first, so the children can take their ids.
    for model, batch in rows.items():
        model.objects.bulk_create(batch, batch_size=BATCH)
        written += len(batch)
    for model, pairs, attribute in (
        (Experiment, experiments, "hypothesis"),
        (FeedbackItem, feedback, "theme"),
        (Milestone, milestones, "release"),
    ):
        children = []
        for child, parent in pairs:
            setattr(child, attribute, parent)
            children.append(child)
        model.objects.bulk_create(children, batch_size=BATCH)
        written += len(children)
    return written + demo_overrides(products, seed)
