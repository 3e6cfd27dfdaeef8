"""Factories for lifecycle work products, and ``fill_gates``: a product whose gates are met up to a stage."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from lifecycle.gates import MIN_DATED_ROADMAP_ITEMS, MIN_PAIN_POINTS, MIN_RECENT_FEEDBACK, stages_left_by
from lifecycle.models import (
    Competitor,
    Experiment,
    ExperimentStatus,
    FeedbackItem,
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
    ReleaseStatus,
    ResearchNote,
    RoadmapItem,
    Sentiment,
    StrategyBrief,
    SuccessCriterion,
)
from portfolio.models import Alignment
from products.choices import Market, Stage
from products.models import Product
from tests.factories import KPIFactory, ObjectiveFactory, ProductFactory


class PainPointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PainPoint

    product = factory.SubFactory(ProductFactory)
    description = factory.Sequence(lambda n: f"Pain point {n}")


class HypothesisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hypothesis

    product = factory.SubFactory(ProductFactory)
    statement = factory.Sequence(lambda n: f"Hypothesis {n}")


class FeedbackItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackItem

    product = factory.SubFactory(ProductFactory)
    segment = Market.B2B
    sentiment = Sentiment.POSITIVE
    text = factory.Sequence(lambda n: f"Feedback {n}")
    received_on = factory.LazyFunction(timezone.localdate)


class RoadmapItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoadmapItem

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Roadmap item {n}")
    target_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=60))


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Release {n}")
    planned_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    product = factory.SubFactory(ProductFactory)
    title = factory.Sequence(lambda n: f"Milestone {n}")
    planned_date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))


def fill_stage(product: Product, stage: str) -> None:
    """Record the work products that meet every gate criterion of ``stage``."""
    today = timezone.localdate()
    if stage == Stage.PROBLEM:
        ProblemStatement.objects.update_or_create(
            product=product, defaults={"statement": "Invoices take weeks."}
        )
        PainPoint.objects.bulk_create(
            PainPoint(product=product, description=f"Pain {n}") for n in range(MIN_PAIN_POINTS)
        )
        Persona.objects.create(product=product, name="Finance lead")
        Competitor.objects.create(product=product, name="Legacy ERP", gap="No self-service")
    elif stage == Stage.OPPORTUNITY:
        Goal.objects.create(product=product, title="Halve time to pay")
        Alignment.objects.create(product=product, objective=ObjectiveFactory(), weight=100)
        OpportunityCase.objects.update_or_create(
            product=product,
            defaults={
                "tam": Decimal(1_000_000),
                "sam": Decimal(200_000),
                "som": Decimal(20_000),
                "business_case": "Pays back in a year.",
                "expected_return": Decimal(300_000),
                "investment": Decimal(100_000),
                "target_date": today + dt.timedelta(days=180),
            },
        )
    elif stage == Stage.RESEARCH:
        hypothesis = Hypothesis.objects.create(
            product=product, statement="Self-service helps", outcome=Outcome.VALIDATED
        )
        Experiment.objects.create(
            product=product, hypothesis=hypothesis, title="Prototype test", status=ExperimentStatus.DONE
        )
        ResearchNote.objects.create(product=product, title="Five interviews")
    elif stage == Stage.MVP:
        MVPPlan.objects.update_or_create(
            product=product,
            defaults={
                "scope": "Upload\nApprove",
                "launch_date": today - dt.timedelta(days=7),
                "result": "Worked.",
            },
        )
        SuccessCriterion.objects.create(product=product, description="Activation up", kpi=KPIFactory())
    elif stage == Stage.FEEDBACK:
        theme, _ = FeedbackTheme.objects.get_or_create(product=product, name="Speed")
        kpi = KPIFactory()
        FeedbackItem.objects.bulk_create(
            FeedbackItem(
                product=product, segment=Market.B2B, text=f"Item {n}", received_on=today, theme=theme, kpi=kpi
            )
            for n in range(MIN_RECENT_FEEDBACK)
        )
    elif stage == Stage.STRATEGY:
        StrategyBrief.objects.update_or_create(
            product=product, defaults={"positioning": "The fastest way to pay.", "pricing_notes": "Per seat."}
        )
        RoadmapItem.objects.bulk_create(
            RoadmapItem(
                product=product, title=f"Item {n}", target_date=today + dt.timedelta(days=30 * (n + 1))
            )
            for n in range(MIN_DATED_ROADMAP_ITEMS)
        )
    elif stage == Stage.EXECUTION:
        Release.objects.create(
            product=product, name="1.0", planned_date=today, actual_date=today, status=ReleaseStatus.SHIPPED
        )
        Milestone.objects.create(
            product=product, title="GA", planned_date=today, actual_date=today, status=MilestoneStatus.DONE
        )


def fill_gates(product: Product, *, to: str = Stage.EXECUTION) -> Product:
    """Meet every gate a forward move of ``product`` from its current stage to ``to`` passes (default: all of
    them, so any forward move is allowed)."""
    stages = (
        stages_left_by(product.stage, to)
        if to != Stage.EXECUTION
        else list(Stage)[Stage(product.stage).position :]
    )
    for stage in stages:
        fill_stage(product, stage)
    return product
