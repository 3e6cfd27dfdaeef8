"""A product's lifecycle in its audit history: stage transitions and every kind of work product
(docs/lifecycle.md), for the product page's History tab."""

from __future__ import annotations

from django.utils.text import Truncator

from lifecycle.models import StageTransition
from lifecycle.work.kinds import WORK_KINDS, WorkKind
from products.choices import Stage
from products.models import Product
from spm.history.pages import HistorySource
from spm.history.values import Names

#: Money on a work product, shown only to those who may see the product's budget.
WORK_MONEY_FIELDS = frozenset({"expected_return", "investment"})


def _stage(value: str) -> str:
    return Stage(value).label if value in Stage.values else value


def _transition_subject(record, names: Names) -> str:
    if not record.from_stage:
        return f"Stage: started in {_stage(record.to_stage)}"
    return f"Stage move: {_stage(record.from_stage)} → {_stage(record.to_stage)}"


def _work_subject(kind: WorkKind):
    title_field = kind.fields[0] if kind.fields else None

    def subject(record, names: Names) -> str:
        if kind.sheet or title_field is None:
            return f"{kind.stage.label} work: {kind.label}"
        return f"{kind.stage.label} work: {kind.label} “{Truncator(getattr(record, title_field)).chars(60)}”"

    return subject


def lifecycle_history_sources(*, product: Product, show_money: bool) -> list[HistorySource]:
    """The product's stage transitions, and one source per kind of work product with the fields a person
    edits; money fields only when ``show_money``."""
    transitions = HistorySource(
        kind="transition",
        records=StageTransition.history.filter(product_id=product.pk),
        subject=_transition_subject,
        fields=("from_stage", "to_stage", "at", "by", "note", "gate_overridden", "override_reason"),
        labels={"at": "Moved at", "by": "Moved by", "gate_overridden": "Gate overridden"},
    )
    work = [
        HistorySource(
            kind=f"work-{kind.slug}",
            records=kind.model.history.filter(product_id=product.pk),
            subject=_work_subject(kind),
            fields=kind.fields,
            hidden=frozenset() if show_money else WORK_MONEY_FIELDS,
        )
        for kind in WORK_KINDS
    ]
    return [transitions, *work]
