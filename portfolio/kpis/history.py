"""Reads: a product's audit history across the apps, for the product page's History tab.

The portfolio app is the top one, so it is the one that may name every tracked model: the product's own
history, its memberships', its stage transitions', its lifecycle work products', its KPI targets' and its
measurements', merged newest first
and paged by ``products.history.history_page`` in a fixed number of queries.
"""

from __future__ import annotations

from django.utils.dateformat import format as date_format
from django.utils.text import Truncator

from lifecycle.models import StageTransition
from lifecycle.work.forms import WORK_FORMS
from lifecycle.work.kinds import WORK_KINDS, WorkKind
from portfolio.models import KPI, KPITarget, Measurement
from products.choices import Stage
from products.history import MONEY_FIELDS, PRODUCT_FIELDS
from products.models import Membership, Product, User
from spm.history.pages import HistoryPage, HistorySource, history_page
from spm.history.values import Names

#: Entries on one page of the History tab.
HISTORY_PER_PAGE = 25


def _stage(value: str) -> str:
    return Stage(value).label if value in Stage.values else value


def _transition_subject(record, names: Names) -> str:
    if not record.from_stage:
        return f"Stage: started in {_stage(record.to_stage)}"
    return f"Stage move: {_stage(record.from_stage)} → {_stage(record.to_stage)}"


def _kpi(record, names: Names) -> str:
    return names.get((KPI, record.kpi_id)) or "a removed KPI"


def product_history_sources(*, product: Product, show_money: bool) -> list[HistorySource]:
    """What the History tab lists for one product: the product and the rows that hang off it."""
    return [
        HistorySource(
            kind="product",
            records=Product.history.filter(id=product.pk),
            subject=lambda record, names: f"Product “{record.name}”",
            fields=PRODUCT_FIELDS,
            hidden=frozenset() if show_money else MONEY_FIELDS,
        ),
        HistorySource(
            kind="membership",
            records=Membership.history.filter(product_id=product.pk),
            subject=lambda record, names: f"Team: {names.get((User, record.user_id)) or 'a removed person'}",
            fields=("user", "role", "joined_at"),
            subject_fields=("user",),
            labels={"user": "Person"},
        ),
        HistorySource(
            kind="transition",
            records=StageTransition.history.filter(product_id=product.pk),
            subject=_transition_subject,
            fields=("from_stage", "to_stage", "at", "by", "note", "gate_overridden", "override_reason"),
            labels={"at": "Moved at", "by": "Moved by", "gate_overridden": "Gate overridden"},
        ),
        HistorySource(
            kind="target",
            records=KPITarget.history.filter(product_id=product.pk),
            subject=lambda record, names: f"Target for {_kpi(record, names)}",
            fields=("kpi", "target"),
            subject_fields=("kpi",),
            labels={"kpi": "KPI"},
        ),
        HistorySource(
            kind="measurement",
            records=Measurement.history.filter(product_id=product.pk),
            subject=lambda record, names: f"{_kpi(record, names)} for {date_format(record.period, 'j M Y')}",
            # Who recorded it and when is the entry's own who and when.
            fields=("kpi", "period", "value"),
            subject_fields=("kpi",),
            labels={"kpi": "KPI"},
        ),
    ]


#: Money on a work product, shown only to those who may see the product's budget.
WORK_MONEY_FIELDS = frozenset({"expected_return", "investment"})


def _work_subject(kind: WorkKind, title_field: str | None):
    def subject(record, names: Names) -> str:
        if kind.sheet or title_field is None:
            return f"{kind.stage.label} work: {kind.label}"
        return f"{kind.stage.label} work: {kind.label} “{Truncator(getattr(record, title_field)).chars(60)}”"

    return subject


def work_history_sources(*, product: Product, show_money: bool) -> list[HistorySource]:
    """The product's lifecycle work products (docs/lifecycle.md): one source per kind, the fields of its form."""
    sources = []
    for kind in WORK_KINDS:
        fields = tuple(WORK_FORMS[kind.slug]._meta.fields)
        sources.append(
            HistorySource(
                kind=f"work-{kind.slug}",
                records=kind.model.history.filter(product_id=product.pk),
                subject=_work_subject(kind, fields[0] if fields else None),
                fields=fields,
                hidden=frozenset() if show_money else WORK_MONEY_FIELDS,
            )
        )
    return sources


def product_history(*, product: Product, show_money: bool, page: int | str | None = 1) -> HistoryPage:
    """One page of the product's history, newest first. ``show_money``: whether the reader may see the
    product's budget (``products.permissions.can_see_budget``); without, money fields are left out."""
    sources = [
        *product_history_sources(product=product, show_money=show_money),
        *work_history_sources(product=product, show_money=show_money),
    ]
    return history_page(sources, page=page, per_page=HISTORY_PER_PAGE)
