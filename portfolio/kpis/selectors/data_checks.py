"""KPI data that breaks the rules of valid values and periods (``portfolio.validity``): stored before a rule
existed, or left outside a KPI's range after the range changed. Reported by ``manage.py check_kpi_data``; never
changed by it — which value was meant is for a person to decide."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from portfolio.models import KPI, KPITarget, Measurement
from portfolio.periods import period_name, period_start

EXAMPLES = 5


@dataclass
class KPIDataProblems:
    kpi: KPI
    values: int = 0  # measurements outside the range
    future: int = 0  # measurements for a period that has not begun
    targets: int = 0  # products' own targets outside the range
    default_target: bool = False
    examples: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return self.values + self.future + self.targets + int(self.default_target)


def _outside(valid, field_name: str) -> Q:
    outside = Q(pk__in=[])
    if valid.low is not None:
        outside |= Q(**{f"{field_name}__lt": valid.low})
    if valid.high is not None:
        outside |= Q(**{f"{field_name}__gt": valid.high})
    return outside


def kpi_data_problems(
    *, today: dt.date | None = None, progress: Callable[[KPI], None] | None = None
) -> Iterator[KPIDataProblems]:
    """Per KPI with a problem: how many values, periods and targets break its rules, with a few examples. A few
    indexed COUNT queries per KPI (the (kpi, period) index), so a million measurements take seconds."""
    today = today or timezone.localdate()
    for kpi in KPI.objects.order_by("name"):
        valid = kpi.valid_range
        found = KPIDataProblems(kpi)
        measurements: QuerySet[Measurement] = Measurement.objects.filter(kpi=kpi)
        outside = measurements.filter(_outside(valid, "value"))
        found.values = outside.count()
        current = period_start(today, kpi.frequency)
        future = measurements.filter(period__gt=current)
        found.future = future.count()
        targets = KPITarget.objects.filter(kpi=kpi).filter(_outside(valid, "target"))
        found.targets = targets.count()
        found.default_target = kpi.default_target is not None and kpi.default_target not in valid
        for product, period, value in outside.values_list("product__slug", "period", "value")[:EXAMPLES]:
            found.examples.append(
                f"{product}, {period_name(period, kpi.frequency)}: {value:g} ({kpi.value_problem(value)})"
            )
        for product, period, value in future.values_list("product__slug", "period", "value")[:EXAMPLES]:
            found.examples.append(
                f"{product}, {period_name(period, kpi.frequency)}: {value:g} ({kpi.period_problem(period)})"
            )
        for product, target in targets.values_list("product__slug", "target")[:EXAMPLES]:
            found.examples.append(
                f"{product}, target {target:g} ({kpi.value_problem(target, what='target')})"
            )
        if found.default_target:
            found.examples.append(f"default target: {kpi.value_problem(kpi.default_target, what='target')}")
        if progress:
            progress(kpi)
        if found.count:
            yield found
