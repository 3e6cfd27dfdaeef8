"""A product's work summarised for its gates (WorkSummary), read in one query for any number of products."""

import datetime as dt
from collections.abc import Iterable

from django.apps import apps
from django.db import connection, models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce, Length
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
    SuccessCriterion,
)
from products.choices import Stage
from products.models import Product


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
        # The objectives page's alignments, named by label: lifecycle sits below portfolio (docs/ARCHITECTURE.md).
        "objectives_served": (apps.get_model("portfolio", "Alignment"), "", []),
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


def product_gate(*, product: Product, today: dt.date | None = None) -> GateResult:
    """The checklist of the product's current stage (two queries): what the product page shows before its
    lifecycle work section loads."""
    today = today or timezone.localdate()
    return gate_evaluate(work=work_summary(product=product, today=today), stage=product.stage, today=today)
