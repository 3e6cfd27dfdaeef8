"""Reads for a product's lifecycle work section: every stage's work products, feedback and delivery figures."""

import datetime as dt
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from django.db import models
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from lifecycle.gates import GateResult, gate_evaluate
from lifecycle.models import (
    FeedbackItem,
    Milestone,
    MilestoneStatus,
    Release,
    ReleaseStatus,
    Sentiment,
)
from lifecycle.selectors import stages_around
from lifecycle.summaries import work_summary
from lifecycle.work.kinds import FEEDBACK_SHOWN, WORK_KINDS, EntryText, WorkKind, kinds_for
from products.choices import Market, Stage
from products.models import Product
from products.permissions import can_edit_product, can_move_stage, can_override_gate, can_see_budget

# ------------------------------------------------------------------------------------------- product page work


@dataclass
class WorkEntry:
    """One work product as the product page shows it; ``form`` is its edit form while it is being edited, and
    ``confirm_delete`` is set while the person is asked to confirm deleting it."""

    kind: WorkKind
    instance: models.Model
    text: EntryText
    form: object = None
    confirm_delete: bool = False


class FormFactory(Protocol):
    """Makes the blank add (or sheet) form of one kind of work product: ``lifecycle.work.forms.work_form``."""

    def __call__(self, slug: str, *, product: Product, instance: models.Model | None) -> object: ...


@dataclass
class WorkBlock:
    """One kind of work product of one product: its rows (a sheet has at most one) and, for editors, the form
    that adds one (``form``: a refused add form, kept with its errors, or a blank one made by ``form_factory``,
    which the view passes in: forms are above selectors)."""

    kind: WorkKind
    product: Product
    entries: list[WorkEntry]
    may_edit: bool
    total: int = 0
    form: object = None
    form_factory: FormFactory | None = None

    @property
    def sheet(self) -> models.Model | None:
        return self.entries[0].instance if self.kind.sheet and self.entries else None

    @property
    def more(self) -> int:
        return max(self.total - len(self.entries), 0)

    @property
    def add_form(self) -> object:
        if self.form is None and self.may_edit and self.form_factory is not None:
            self.form = self.form_factory(self.kind.slug, product=self.product, instance=self.sheet)
        return self.form


@dataclass
class StageWork:
    stage: Stage
    gate: GateResult
    blocks: list[WorkBlock]
    current: bool
    open: bool


@dataclass(frozen=True)
class FeedbackMonth:
    month: dt.date
    positive: int
    neutral: int
    negative: int

    @property
    def total(self) -> int:
        return self.positive + self.neutral + self.negative

    @property
    def net(self) -> int:
        """Net sentiment: the share of positive minus the share of negative items, in points (-100 to 100)."""
        return round(100 * (self.positive - self.negative) / self.total) if self.total else 0


@dataclass(frozen=True)
class FeedbackStats:
    total: int
    by_sentiment: dict[str, int]
    by_segment: dict[str, int]
    months: list[FeedbackMonth]


@dataclass(frozen=True)
class DeliveryStats:
    """On-time rate: of the shipped releases and done milestones with an actual date, the share on or before
    their planned date (None when none is finished)."""

    finished: int
    on_time: int
    late: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.finished if self.finished else None


@dataclass
class ProductWork:
    """Everything the product page's "Lifecycle work" section shows."""

    product: Product
    current: GateResult
    stages: list[StageWork]
    feedback: FeedbackStats
    delivery: DeliveryStats
    may_edit: bool
    may_move: bool
    may_override: bool
    move_form: object = None
    later: list[tuple[str, str]] = field(default_factory=list)
    earlier: list[tuple[str, str]] = field(default_factory=list)

    def block(self, slug: str) -> WorkBlock:
        return next(block for stage in self.stages for block in stage.blocks if block.kind.slug == slug)


FEEDBACK_TREND_MONTHS = 6


def _feedback_stats(product: Product, today: dt.date) -> FeedbackStats:
    """Counts by sentiment and segment, and the last months' sentiment: one grouped query."""
    rows = (
        FeedbackItem.objects.filter(product=product)
        .order_by()
        .annotate(month=TruncMonth("received_on"))
        .values("month", "sentiment", "segment")
        .annotate(n=Count("pk"))
    )
    first_month = _months_before(today.replace(day=1), FEEDBACK_TREND_MONTHS - 1)
    by_sentiment = dict.fromkeys(Sentiment.values, 0)
    by_segment = dict.fromkeys(Market.values, 0)
    months: dict[dt.date, dict[str, int]] = {}
    month = first_month
    while month <= today:
        months[month] = dict.fromkeys(Sentiment.values, 0)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    for row in rows:
        by_sentiment[row["sentiment"]] += row["n"]
        by_segment[row["segment"]] += row["n"]
        month = row["month"].date() if isinstance(row["month"], datetime) else row["month"]
        if month in months:
            months[month][row["sentiment"]] += row["n"]
    return FeedbackStats(
        total=sum(by_sentiment.values()),
        by_sentiment=by_sentiment,
        by_segment=by_segment,
        months=[FeedbackMonth(month, **counts) for month, counts in months.items()],
    )


def _months_before(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 - count
    return dt.date(index // 12, index % 12 + 1, 1)


def _delivery_stats(releases: list[Release], milestones: list[Milestone]) -> DeliveryStats:
    finished = [
        (row.planned_date, row.actual_date)
        for row in [*releases, *milestones]
        if row.actual_date is not None and row.status in (ReleaseStatus.SHIPPED, MilestoneStatus.DONE)
    ]
    on_time = sum(1 for planned, actual in finished if actual <= planned)
    return DeliveryStats(finished=len(finished), on_time=on_time, late=len(finished) - on_time)


def product_work(
    *,
    product: Product,
    user,
    today: dt.date | None = None,
    open_stage: str | None = None,
    form_factory: FormFactory | None = None,
) -> ProductWork:
    """The product page's lifecycle work: each stage's checklist and work products, the feedback counts and
    sentiment trend, the delivery on-time rate, and what ``user`` may do (edit, move, override).

    A fixed number of queries: the work summary, the four sheets in one, one per list, the feedback stats, and the permission checks."""
    today = today or timezone.localdate()
    work = work_summary(product=product, today=today)
    may_edit = can_edit_product(user, product)
    # The one-to-one sheets: read with the product already (the work views' select_related), or read now.
    if all(getattr(Product, name).is_cached(product) for name in SHEET_ATTRIBUTES.values()):
        sheets = product
    else:
        sheets = Product.objects.filter(pk=product.pk).select_related(*SHEET_ATTRIBUTES.values()).get()
    rows: dict[str, list] = {}
    totals: dict[str, int] = {}
    lists: dict[str, models.QuerySet] = {}
    for kind in WORK_KINDS:
        if kind.sheet:
            sheet = getattr(sheets, SHEET_ATTRIBUTES[kind.slug], None) if _has_sheet(sheets, kind) else None
            rows[kind.slug] = [sheet] if sheet is not None else []
            totals[kind.slug] = len(rows[kind.slug])
            continue
        # The model's order within the product: ordering by "product" first would join and sort by the
        # product's own ordering, for rows of one product.
        queryset = kind.model.objects.filter(product=product).order_by(
            *(name for name in kind.model._meta.ordering if name not in ("product", "-product"))
        )
        if kind.related:
            queryset = queryset.select_related(*kind.related)
        lists[kind.slug] = queryset[:FEEDBACK_SHOWN] if kind.slug == "feedback" else queryset
    rows.update({slug: list(queryset) for slug, queryset in lists.items()})
    for slug in lists:
        totals[slug] = work.feedback_items if slug == "feedback" else len(rows[slug])
    show_money = may_edit or can_see_budget(user, product)
    stages = []
    for stage in Stage:
        blocks = [
            WorkBlock(
                kind=kind,
                product=product,
                entries=[WorkEntry(kind, row, kind.describe(row, show_money)) for row in rows[kind.slug]],
                may_edit=may_edit,
                total=totals[kind.slug],
                form_factory=form_factory,
            )
            for kind in kinds_for(stage)
        ]
        gate = gate_evaluate(work=work, stage=stage, today=today)
        current = stage == product.stage
        stages.append(StageWork(stage, gate, blocks, current, current or stage == open_stage))
    later, earlier = stages_around(product.stage)
    return ProductWork(
        product=product,
        current=next(stage.gate for stage in stages if stage.current),
        stages=stages,
        feedback=_feedback_stats(product, today),
        delivery=_delivery_stats(rows["releases"], rows["milestones"]),
        may_edit=may_edit,
        may_move=may_edit and can_move_stage(user, product),
        may_override=can_override_gate(user, product),
        later=[(target.value, target.label) for target in later],
        earlier=[(target.value, target.label) for target in earlier],
    )


#: The product's attribute for each one-to-one work sheet.
SHEET_ATTRIBUTES = {
    "problem-statement": "problem",
    "opportunity": "opportunity",
    "mvp": "mvp",
    "strategy": "strategy",
}


def _has_sheet(product: Product, kind: WorkKind) -> bool:
    try:
        getattr(product, SHEET_ATTRIBUTES[kind.slug])
    except kind.model.DoesNotExist:
        return False
    return True


def work_product_get(*, product: Product, kind: WorkKind, pk: int | None) -> models.Model | None:
    """One work product of ``product`` (a sheet: its row, or None while it has none). Raises ``DoesNotExist``
    for a row of another product."""
    if kind.sheet:
        return kind.model.objects.filter(product=product).first()
    rows = kind.model.objects.select_related(*kind.related) if kind.related else kind.model.objects
    return rows.get(product=product, pk=pk)
