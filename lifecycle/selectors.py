"""Reads about the lifecycle: timelines, the board, work products and their gate checklists."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import Count, F, Q, Value, Window
from django.db.models.functions import Coalesce, Length, RowNumber, TruncMonth
from django.utils import timezone

from lifecycle.gates import COUNTS_BY_STAGE, FEEDBACK_WINDOW_DAYS, GateResult, WorkSummary, gate_evaluate
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
    Sentiment,
    StageTransition,
    SuccessCriterion,
)
from lifecycle.work import FEEDBACK_SHOWN, WORK_KINDS, EntryText, WorkKind, kinds_for
from products.models import Health, Market, Product, Stage
from products.permissions import can_edit_product, can_move_stage, can_override_gate, can_see_budget
from products.selectors import product_filter, stage_counts

#: Cards per column, the longest-waiting first; "Show all" expands a column (``?show=<stage>``), and the product
#: list (which filters and pages) is a link away. The counts are always exact.
BOARD_CARDS_PER_STAGE = 10


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
    #: The columns shown whole (``?show=<stage>``, in stage order), and whether this is one of them.
    show: tuple[str, ...] = ()
    limit: int = BOARD_CARDS_PER_STAGE

    @property
    def expanded(self) -> bool:
        return self.stage.value in self.show

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

    def _board_query(self, show: set[str]) -> str:
        query = urlencode(
            [*self.filters.items(), *(("show", stage) for stage in Stage.values if stage in show)]
        )
        return f"?{query}" if query else ""

    @property
    def show_all_query(self) -> str:
        """``?query`` of the board with this column shown whole too (same filters), or "" for the plain board."""
        return self._board_query({*self.show, self.stage.value})

    @property
    def show_fewer_query(self) -> str:
        return self._board_query(set(self.show) - {self.stage.value})


def board_columns(
    *,
    filters: dict | None = None,
    limit_per_stage: int = BOARD_CARDS_PER_STAGE,
    include: int | None = None,
    show: Iterable[str] = (),
) -> list[BoardColumn]:
    """One column per stage, in lifecycle order, for the products matching ``filters``.

    Each column has the number of matching products and at most ``limit_per_stage`` cards, the
    longest-waiting first (oldest ``stage_entered_at``), plus the product ``include`` (a pk) wherever it
    stands, so a product that was just moved stays in sight. The stages in ``show`` have every card. ``filters`` are the active filters of
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
    show = tuple(stage for stage in Stage.values if stage in set(show))
    wanted = Q(pk__in=ranked)
    if show:
        wanted |= Q(stage__in=show)
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
        BoardColumn(
            stage=stage,
            count=counts[stage.value],
            cards=by_stage[stage.value],
            filters=filters,
            show=show,
            limit=limit_per_stage,
        )
        for stage in Stage
    ]


def _tally_sql(
    counts: dict[str, tuple[type[models.Model], str, list]], ids: list[int], stages: dict[int, str] | None
) -> tuple[str, list]:
    """One statement counting, per product of ``ids`` and per kind, the rows of each model that match its
    condition: a grouped count per kind glued with UNION ALL, each an index range scan on ``product_id``.
    Written as SQL rather than 23 ORM querysets: compiling those cost several times the query itself on a
    board of 70 cards. With ``stages`` (product id to its stage) a kind is counted only for the products whose
    stage's gate reads it (``COUNTS_BY_STAGE``), and left out when none does. Table and column names come from
    the models; every value is a parameter."""
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datefield_value
    statements, params = [], []
    if stages is None:
        # A product page's one product: its id in each part (an index scan; PostgreSQL would hash-join a
        # common table expression with each whole table).
        wanted, marks = "", ", ".join(["%s"] * len(ids))
    else:
        # The board's cards once, as a common table expression every part reads: written out in each part they
        # made a statement of thousands of parameters, whose quoting and planning cost more than running it.
        wanted = "WITH wanted(id, stage) AS (VALUES " + ", ".join(["(%s, %s)"] * len(ids)) + ") "
        params += [value for pk in ids for value in (pk, stages[pk])]
    present = set(stages.values()) if stages else set()
    for kind, (model, condition, values) in counts.items():
        needed = [stage for stage in Stage.values if stage in present and kind in COUNTS_BY_STAGE[stage]]
        if stages is not None and not needed:
            continue
        if stages is None:
            among, where_params = marks, ids
        else:
            stage_marks = ", ".join(["%s"] * len(needed))
            among, where_params = f"SELECT id FROM wanted WHERE stage IN ({stage_marks})", needed  # noqa: S608
        table = quote(model._meta.db_table)
        where = f"product_id IN ({among})" + (f" AND {condition}" if condition else "")
        statements.append(f"SELECT product_id, %s, COUNT(*) FROM {table} WHERE {where} GROUP BY product_id")  # noqa: S608
        params += [
            kind,
            *where_params,
            *(adapt(value) if isinstance(value, dt.date) else str(value) for value in values),
        ]
    if not statements:
        return "", []
    return wanted + " UNION ALL ".join(statements), params


def _filled(path: str) -> Coalesce:
    """The length of a text field on a one-to-one work sheet (0 when the sheet or the text is missing)."""
    return Coalesce(Length(path), Value(0))


def work_summaries(
    *, product_ids: Iterable[int], today: dt.date | None = None, stages: dict[int, str] | None = None
) -> dict[int, WorkSummary]:
    """The gate rules' view of each product's work products, by product id. Two queries whatever the number of
    products: every list counted per product and kind (one UNION ALL of grouped counts), and the one-to-one
    sheets by left joins. With ``stages`` (product id to stage) only the counts of each product's own stage
    are read (the others stay 0): what the checklist of its current stage needs."""
    today = today or timezone.localdate()
    recent_since = today - dt.timedelta(days=FEEDBACK_WINDOW_DAYS)
    recent = Q(received_on__gt=recent_since, received_on__lte=today)
    # (model, SQL condition on its columns, parameters): plain conditions over the model's own columns.
    recent = ("received_on > %s AND received_on <= %s", [recent_since, today])
    counts = {
        "pain_points": (PainPoint, "", []),
        "personas": (Persona, "", []),
        "competitors": (Competitor, "", []),
        "evidence_links": (EvidenceLink, "", []),
        "goals": (Goal, "", []),
        "goals_with_objective": (Goal, "objective_id IS NOT NULL", []),
        "hypotheses": (Hypothesis, "", []),
        "validated_hypotheses": (Hypothesis, "outcome = %s", [Outcome.VALIDATED]),
        "experiments": (Experiment, "", []),
        "experiments_done": (Experiment, "status = %s", [ExperimentStatus.DONE]),
        "research_notes": (ResearchNote, "", []),
        "success_criteria": (SuccessCriterion, "", []),
        "success_criteria_with_kpi": (SuccessCriterion, "kpi_id IS NOT NULL", []),
        "feedback_items": (FeedbackItem, "", []),
        "recent_feedback": (FeedbackItem, *recent),
        "recent_feedback_themed": (FeedbackItem, f"{recent[0]} AND theme_id IS NOT NULL", recent[1]),
        "feedback_with_kpi": (FeedbackItem, "kpi_id IS NOT NULL", []),
        "roadmap_items": (RoadmapItem, "status <> %s", [RoadmapStatus.DROPPED]),
        "dated_roadmap_items": (
            RoadmapItem,
            "target_date IS NOT NULL AND status <> %s",
            [RoadmapStatus.DROPPED],
        ),
        "releases": (Release, "status <> %s", [ReleaseStatus.CANCELLED]),
        "releases_shipped": (Release, "status = %s", [ReleaseStatus.SHIPPED]),
        "milestones_finished": (Milestone, "status = %s AND actual_date IS NOT NULL", [MilestoneStatus.DONE]),
        "milestones_on_time": (
            Milestone,
            "status = %s AND actual_date <= planned_date",
            [MilestoneStatus.DONE],
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
    ids = list(product_ids)
    # Every list counted per product in one statement: a grouped count per kind, glued with UNION ALL (each
    # part an index range scan; correlated subqueries per product cost several times more on SQLite).
    found: dict[int, dict[str, int]] = {pk: dict.fromkeys(counts, 0) for pk in ids}
    if ids:
        with connection.cursor() as cursor:
            sql, params = _tally_sql(counts, ids, stages)
            if sql:
                cursor.execute(sql, params)
                for product_id, kind, n in cursor.fetchall():
                    found[product_id][kind] = n
    # The one-to-one sheets by left joins. Prefixed: the plain names are the products' related names.
    sheets = (
        Product.objects.filter(pk__in=ids)
        .order_by()
        .annotate(**{f"work_{name}": expression for name, expression in written.items()})
        .values("pk", *(f"work_{name}" for name in written), *facts.values())
    )
    return {
        row["pk"]: WorkSummary(
            product_id=row["pk"],
            **found[row["pk"]],
            **{name: bool(row[f"work_{name}"]) for name in written},
            **{name: row[path] for name, path in facts.items()},
        )
        for row in sheets
    }


def work_summary(*, product: Product, today: dt.date | None = None) -> WorkSummary:
    """One product's ``WorkSummary`` (two queries)."""
    return work_summaries(product_ids=[product.pk], today=today).get(
        product.pk, WorkSummary(product_id=product.pk)
    )


def checklists(*, stages: dict[int, str], today: dt.date | None = None) -> dict[int, GateResult]:
    """The current stage's checklist of each product (``stages``: product id to its stage), in two queries."""
    today = today or timezone.localdate()
    works = work_summaries(product_ids=stages, today=today, stages=stages)
    return {
        pk: gate_evaluate(work=works.get(pk, WorkSummary(product_id=pk)), stage=stage, today=today)
        for pk, stage in stages.items()
    }


# ------------------------------------------------------------------------------------------- product page work


@dataclass
class WorkEntry:
    """One work product as the product page shows it; ``form`` is its edit form while it is being edited."""

    kind: WorkKind
    instance: models.Model
    text: EntryText
    form: object = None


@dataclass
class WorkBlock:
    """One kind of work product of one product: its rows (a sheet has at most one) and, for editors, the form
    that adds one (``form``: a refused add form, kept with its errors, or a blank one)."""

    kind: WorkKind
    product: Product
    entries: list[WorkEntry]
    may_edit: bool
    total: int = 0
    form: object = None

    @property
    def sheet(self) -> models.Model | None:
        return self.entries[0].instance if self.kind.sheet and self.entries else None

    @property
    def more(self) -> int:
        return max(self.total - len(self.entries), 0)

    @property
    def add_form(self) -> object:
        if self.form is None and self.may_edit:
            # Imported here: lifecycle.forms imports the services, which import this module.
            from lifecycle.forms import work_form

            self.form = work_form(self.kind.slug, product=self.product, instance=self.sheet)
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
    *, product: Product, user, today: dt.date | None = None, open_stage: str | None = None
) -> ProductWork:
    """The product page's lifecycle work: each stage's checklist and work products, the feedback counts and
    sentiment trend, the delivery on-time rate, and what ``user`` may do (edit, move, override).

    A fixed number of queries: the work summary, the four sheets in one, one per list (on PostgreSQL all the
    lists in one round trip), the feedback stats, and the permission checks."""
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
    rows.update(_read_together(lists))
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


def _read_together(querysets: dict[str, models.QuerySet]) -> dict[str, list]:
    """Each queryset's model instances, as ``list(queryset)`` gives them. On PostgreSQL the statements go to
    the server in one round trip (psycopg's client-side binding runs several statements in one ``execute``,
    each with its result set), and the ORM then builds the instances from the rows as it would have: a work
    section reads about 14 lists, and a query each cost most of its time."""

    def one_by_one() -> dict[str, list]:
        return {name: list(queryset) for name, queryset in querysets.items()}

    if (
        not querysets
        or connection.vendor != "postgresql"
        or connection.settings_dict["OPTIONS"].get("server_side_binding")
    ):
        return one_by_one()
    compilers = {name: queryset.query.get_compiler(using=queryset.db) for name, queryset in querysets.items()}
    try:
        statements = {name: compiler.as_sql() for name, compiler in compilers.items()}
    except EmptyResultSet:  # a query the ORM knows to be empty without asking
        return one_by_one()
    read: dict[str, list] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "; ".join(sql for sql, _ in statements.values()),
            [param for _, params in statements.values() for param in params],
        )
        for position, name in enumerate(statements):
            if position:
                cursor.nextset()
            read[name] = cursor.fetchall()
    result = {}
    for name, queryset in querysets.items():
        compiler, fetched = compilers[name], read[name]
        compiler.execute_sql = lambda *args, fetched=fetched, **kwargs: [fetched]
        queryset.query.get_compiler = lambda *args, compiler=compiler, **kwargs: compiler
        result[name] = list(queryset)
    return result


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


def product_gate(*, product: Product, today: dt.date | None = None) -> GateResult:
    """The checklist of the product's current stage (two queries): what the product page shows before its
    lifecycle work section loads."""
    today = today or timezone.localdate()
    return gate_evaluate(work=work_summary(product=product, today=today), stage=product.stage, today=today)
