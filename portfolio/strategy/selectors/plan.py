"""Reads of the live plan's history."""

from __future__ import annotations

from django.db.models import Max, Q, QuerySet

from portfolio.models import PlanChange, PlanState, Portfolio


def plan_version() -> int:
    """The live plan's current version (0 before any write): one query, never writes."""
    return PlanState.objects.filter(pk=1).values_list("version", flat=True).first() or 0


def changes_since(*, version: int, portfolio: Portfolio | None) -> QuerySet[PlanChange]:
    """Changes of the live plan after ``version`` that touch ``portfolio`` (None: any portfolio). A change
    without a portfolio (several portfolios) touches every one."""
    changes = PlanChange.objects.filter(version__gt=version).select_related("by", "portfolio", "scenario")
    if portfolio is not None:
        changes = changes.filter(Q(portfolio=portfolio) | Q(portfolio__isnull=True))
    return changes.order_by("version")


def latest_version_touching(portfolio: Portfolio | None) -> int:
    changes = PlanChange.objects.all()
    if portfolio is not None:
        changes = changes.filter(Q(portfolio=portfolio) | Q(portfolio__isnull=True))
    return changes.aggregate(v=Max("version"))["v"] or 0


def plan_changes() -> QuerySet[PlanChange]:
    """Every change of the live plan, newest first, with who, which portfolio and scenario joined."""
    return PlanChange.objects.select_related("by", "portfolio", "scenario").order_by("-version")


def plan_history(*, limit: int = 20) -> list[PlanChange]:
    return list(PlanChange.objects.select_related("by", "portfolio", "scenario").order_by("-version")[:limit])
