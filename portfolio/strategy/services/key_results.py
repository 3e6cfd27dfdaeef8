"""The key results' scan: a key result whose KPI is off its target in the objective's scope tells leadership."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from portfolio.alerts.catalogue import Event
from portfolio.alerts.services import events_notify
from portfolio.choices import EventKind, Status
from portfolio.models import Objective
from portfolio.periods import quarter_label
from portfolio.strategy.selectors.objectives import KeyResultView, key_results
from spm.web.figures import kpi_number


def key_results_off_notify(*, today: dt.date | None = None) -> int:
    """Celery beat, daily: each key result off target (its KPI's latest value in the objective's scope, against
    the key result's target, outside the KPI's tolerance) notifies the objective's portfolio's director and the
    VPs (every director for an organisation-wide objective), once per key result and quarter."""
    today = today or timezone.localdate()
    quarter = quarter_label(today).replace(" ", "")
    objectives = Objective.objects.select_related("portfolio")
    events = []
    for kr in key_results(objectives=objectives).select_related("objective__portfolio"):
        if kr.kpi is None or kr.target is None or KeyResultView(kr).status != Status.OFF_TARGET:
            continue
        objective = kr.objective
        where = objective.portfolio.name if objective.portfolio_id else "the organisation"
        url = reverse("portfolio:objectives")
        if objective.portfolio_id:
            url += f"?portfolio={objective.portfolio.slug}"
        events.append(
            Event(
                kind=EventKind.KEY_RESULT_OFF,
                sentence=f"Key result “{kr.title}” of “{objective.title}” ({where}) is off target: "
                f"{kr.kpi.name} is {kpi_number(kr.current, kr.kpi.unit)} against {kpi_number(kr.target, kr.kpi.unit)}.",
                url=url,
                key=f"key_result_off:{kr.pk}:{quarter}",
                portfolio_id=objective.portfolio_id,
                name=kr.title,
            )
        )
    return events_notify(events)
