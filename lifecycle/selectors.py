"""Reads about the lifecycle: timelines, the board, work products and their gate checklists."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db import models
from django.db.models import Count, F, OuterRef, Q, Subquery, Value, Window
from django.db.models.functions import Coalesce, Length, RowNumber
from django.utils import timezone

from lifecycle.gates import FEEDBACK_WINDOW_DAYS, GateResult, WorkSummary, gate_evaluate
from lifecycle.models import (
    Competitor,
    EvidenceLink,
    Experiment,
    ExperimentStatus,
    FeedbackItem,
    Goal,
    Hypothesis,
    Milestone,
    MilestoneStatus,
    Outcome,
    PainPoint,
    Persona,
    Release,
    ReleaseStatus,
    ResearchNote,
    RoadmapItem,
    RoadmapStatus,
    StageTransition,
    SuccessCriterion,
)
from products.models import Health, Product, Stage
from products.selectors import product_filter, stage_counts

#: Cards per column; the rest are a link away in the product list (which filters and pages).
BOARD_CARDS_PER_STAGE = 20


@dataclass(frozen=True)
class TimelineEntry:
    transition: StageTransition
    left_at: datetime | None

    @property
    def days(self) -> int:
        end = self.left_at or timezone.now()
        return max((end - self.transition.at).days, 0)


def product_timeline(*, product: Product) -> list[TimelineEntry]:
    """Every transition of a product, oldest first, with how long the product stayed in the stage it entered."""
    transitions = list(
        StageTransition.objects.filter(product=product).select_related("by").order_by("at", "pk")
    )
    ends: list[datetime | None] = [t.at for t in transitions[1:]]
    if transitions:
        ends.append(None)
    return [TimelineEntry(transition=t, left_at=end) for t, end in zip(transitions, ends, strict=True)]


def stages_around(stage: str) -> tuple[list[Stage], list[Stage]]:
    """The stages a product in ``stage`` can move to: later ones in order, then earlier ones nearest first."""
    position = Stage(stage).position
    stages = list(Stage)
    return stages[position + 1 :], stages[:position][::-1]


@dataclass
class BoardCard:
    """A product as a board card. Read with ``values()``: a board shows up to 140 cards per request, and
    model instances cost more than the whole query. ``url``, ``move_url``, ``may_move`` and ``move_form``
    are the view's to fill (links, and whether this user may move the card)."""

    pk: int
    slug: str
    name: str
    stage: str
    health: str
    owner_name: str
    days_in_stage: int
    url: str = ""
    move_url: str = ""
    may_move: bool = False
    move_form: object = None
    checklist: GateResult | None = None

    @property
    def health_label(self) -> str:
        return Health(self.health).label

    @classmethod
    def from_product(cls, product: Product) -> "BoardCard":
        return cls(
            pk=product.pk,
            slug=product.slug,
            name=product.name,
            stage=product.stage,
            health=product.health,
            owner_name=str(product.owner),
            days_in_stage=product.days_in_stage,
        )


@dataclass(frozen=True)
class BoardColumn:
    """One stage on the board: how many products match the filters, and the cards shown."""

    stage: Stage
    count: int
    cards: list[BoardCard]
    filters: dict[str, str] = field(default_factory=dict)

    @property
    def shown(self) -> int:
        return len(self.cards)

    @property
    def more(self) -> bool:
        return self.count > self.shown

    @property
    def list_query(self) -> str:
        """Query string of the product list showing every product of this column (same filters)."""
        return urlencode({**self.filters, "stage": self.stage.value})


def board_columns(
    *, filters: dict | None = None, limit_per_stage: int = BOARD_CARDS_PER_STAGE, include: int | None = None
) -> list[BoardColumn]:
    """One column per stage, in lifecycle order, for the products matching ``filters``.

    Each column has the number of matching products and at most ``limit_per_stage`` cards, the
    longest-waiting first (oldest ``stage_entered_at``), plus the product ``include`` (a pk) wherever it
    stands, so a product that was just moved stays in sight. ``filters`` are the active filters of
    ``ProductFilterForm`` (q, portfolio, stage, market, focus, health, owner). Two queries whatever the
    number of products: the counts by one aggregate; the cards by one query whose subquery numbers each
    stage's products with a row-number window.
    """
    filters = {name: value for name, value in (filters or {}).items() if value}
    matching = product_filter(filters=filters)
    counts = stage_counts(matching)
    ranked = (
        matching.order_by()
        .annotate(
            stage_row=Window(
                RowNumber(), partition_by=F("stage"), order_by=[F("stage_entered_at").asc(), F("pk").asc()]
            )
        )
        .filter(stage_row__lte=limit_per_stage)
        .values("pk")
    )
    wanted = Q(pk__in=ranked)
    if include is not None:
        wanted |= Q(pk=include)
    rows = (
        matching.filter(wanted)
        .order_by("stage_entered_at", "pk")
        .values(
            "pk",
            "slug",
            "name",
            "stage",
            "health",
            "stage_entered_at",
            "owner__username",
            "owner__first_name",
            "owner__last_name",
        )
    )
    now = timezone.now()
    by_stage: dict[str, list[BoardCard]] = {stage.value: [] for stage in Stage}
    for row in rows:
        owner_name = f"{row['owner__first_name']} {row['owner__last_name']}".strip()
        by_stage[row["stage"]].append(
            BoardCard(
                pk=row["pk"],
                slug=row["slug"],
                name=row["name"],
                stage=row["stage"],
                health=row["health"],
                owner_name=owner_name or row["owner__username"],
                days_in_stage=max((now - row["stage_entered_at"]).days, 0),
            )
        )
    return [
        BoardColumn(stage=stage, count=counts[stage.value], cards=by_stage[stage.value], filters=filters)
        for stage in Stage
    ]


def _count(model: type[models.Model], condition: Q | None = None) -> Coalesce:
    """A correlated count of a product's rows of ``model`` (matching ``condition``), 0 when none."""
    rows = model.objects.filter(product=OuterRef("pk"))
    if condition is not None:
        rows = rows.filter(condition)
    counted = rows.order_by().values("product").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=models.IntegerField()), Value(0))


def _filled(path: str) -> Coalesce:
    """The length of a text field on a one-to-one work sheet (0 when the sheet or the text is missing)."""
    return Coalesce(Length(path), Value(0))


def work_summaries(*, product_ids: Iterable[int], today: dt.date | None = None) -> dict[int, WorkSummary]:
    """The gate rules' view of each product's work products, by product id. One query whatever the number of
    products: the one-to-one sheets by left joins, every list by a correlated count."""
    today = today or timezone.localdate()
    recent_since = today - dt.timedelta(days=FEEDBACK_WINDOW_DAYS)
    recent = Q(received_on__gt=recent_since, received_on__lte=today)
    counts = {
        "pain_points": _count(PainPoint),
        "personas": _count(Persona),
        "competitors": _count(Competitor),
        "evidence_links": _count(EvidenceLink),
        "goals": _count(Goal),
        "goals_with_objective": _count(Goal, Q(objective__isnull=False)),
        "hypotheses": _count(Hypothesis),
        "validated_hypotheses": _count(Hypothesis, Q(outcome=Outcome.VALIDATED)),
        "experiments": _count(Experiment),
        "experiments_done": _count(Experiment, Q(status=ExperimentStatus.DONE)),
        "research_notes": _count(ResearchNote),
        "success_criteria": _count(SuccessCriterion),
        "success_criteria_with_kpi": _count(SuccessCriterion, Q(kpi__isnull=False)),
        "feedback_items": _count(FeedbackItem),
        "recent_feedback": _count(FeedbackItem, recent),
        "recent_feedback_themed": _count(FeedbackItem, recent & Q(theme__isnull=False)),
        "feedback_with_kpi": _count(FeedbackItem, Q(kpi__isnull=False)),
        "roadmap_items": _count(RoadmapItem, ~Q(status=RoadmapStatus.DROPPED)),
        "dated_roadmap_items": _count(
            RoadmapItem, Q(target_date__isnull=False) & ~Q(status=RoadmapStatus.DROPPED)
        ),
        "releases": _count(Release, ~Q(status=ReleaseStatus.CANCELLED)),
        "releases_shipped": _count(Release, Q(status=ReleaseStatus.SHIPPED)),
        "milestones_finished": _count(Milestone, Q(status=MilestoneStatus.DONE, actual_date__isnull=False)),
        "milestones_on_time": _count(
            Milestone, Q(status=MilestoneStatus.DONE, actual_date__lte=F("planned_date"))
        ),
    }
    # Texts count as written when not empty: their lengths, not the texts, come back.
    written = {
        "problem_statement": _filled("problem__statement"),
        "business_case": _filled("opportunity__business_case"),
        "mvp_scope": _filled("mvp__scope"),
        "mvp_result": _filled("mvp__result"),
        "positioning": _filled("strategy__positioning"),
        "pricing_notes": _filled("strategy__pricing_notes"),
    }
    # Facts read as they are, from the one-to-one sheets (left joins).
    facts = {
        "tam": "opportunity__tam",
        "sam": "opportunity__sam",
        "som": "opportunity__som",
        "expected_return": "opportunity__expected_return",
        "investment": "opportunity__investment",
        "target_date": "opportunity__target_date",
        "launch_date": "mvp__launch_date",
    }
    # Prefixed: the plain names are the products' related names.
    rows = (
        Product.objects.filter(pk__in=list(product_ids))
        .order_by()
        .annotate(**{f"work_{name}": expression for name, expression in {**counts, **written}.items()})
        .values("pk", *(f"work_{name}" for name in [*counts, *written]), *facts.values())
    )
    return {
        row["pk"]: WorkSummary(
            product_id=row["pk"],
            **{name: row[f"work_{name}"] for name in counts},
            **{name: bool(row[f"work_{name}"]) for name in written},
            **{name: row[path] for name, path in facts.items()},
        )
        for row in rows
    }


def work_summary(*, product: Product, today: dt.date | None = None) -> WorkSummary:
    """One product's ``WorkSummary`` (one query)."""
    return work_summaries(product_ids=[product.pk], today=today).get(
        product.pk, WorkSummary(product_id=product.pk)
    )


def checklists(*, stages: dict[int, str], today: dt.date | None = None) -> dict[int, GateResult]:
    """The current stage's checklist of each product (``stages``: product id to its stage), in one query."""
    today = today or timezone.localdate()
    works = work_summaries(product_ids=stages, today=today)
    return {
        pk: gate_evaluate(work=works.get(pk, WorkSummary(product_id=pk)), stage=stage, today=today)
        for pk, stage in stages.items()
    }
