"""The live plan's version and history. Every write to the live plan (a budget line, an alignment, an approved
scenario) runs inside ``plan_change`` : it locks the one ``PlanState`` row, so writers to the plan queue behind
each other, bumps the version and records a ``PlanChange`` (who, when, which portfolio, what).

A scenario remembers the version it was copied at; ``changes_since`` lists what the live plan did after that.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from portfolio.models import PlanChange, PlanState, Portfolio
from products.models import User


@contextmanager
def plan_change(
    *, by: User | None, summary: str, portfolio: Portfolio | None = None, scenario=None, details=()
) -> Iterator[PlanChange]:
    """Lock the plan, bump its version and record the change; the caller writes inside the ``with`` block.

    Must run inside a transaction (services are atomic); the lock is held until it commits.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("plan_change must run inside a transaction")
    PlanState.objects.get_or_create(pk=1)
    state = PlanState.objects.select_for_update().get(pk=1)
    state.version += 1
    state.save(update_fields=["version"])
    change = PlanChange.objects.create(
        version=state.version,
        by=by if by is not None and by.is_authenticated else None,
        portfolio=portfolio,
        scenario=scenario,
        summary=summary[:300],
        details=list(details),
    )
    yield change
    if change.details != list(details):
        change.save(update_fields=["details"])
