"""The cross-product roadmap: roadmap items, releases and milestones (``lifecycle`` models) in one timeline.

Late (as ``lifecycle.models.is_late``): not finished and the planned (target) date has passed, or finished
after the planned date. Finished: a roadmap item done or dropped, a release shipped or cancelled, a milestone
done. Three queries (one per kind) whatever the number of products, each limited to a window around today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet

from lifecycle.models import (
    Milestone,
    MilestoneStatus,
    Release,
    ReleaseStatus,
    RoadmapItem,
    RoadmapStatus,
)
from products.models import Product

KINDS = {"roadmap": "Roadmap item", "release": "Release", "milestone": "Milestone"}
WINDOW_BEFORE = dt.timedelta(days=183)
WINDOW_AFTER = dt.timedelta(days=366)
BAR_DAYS = {"roadmap": 28, "release": 21, "milestone": 7}
ROWS_PER_KIND = 1500
CHART_LANES = 30


@dataclass(frozen=True)
class RoadmapRow:
    kind: str
    title: str
    product_name: str
    product_slug: str
    portfolio: str
    planned: dt.date
    actual: dt.date | None
    status: str
    status_label: str
    done: bool
    late: bool

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def lane(self) -> str:
        return self.product_name

    @property
    def end(self) -> dt.date:
        return max(self.planned, self.actual) if self.actual else self.planned

    @property
    def start(self) -> dt.date:
        return self.planned - dt.timedelta(days=BAR_DAYS[self.kind])


def _late(*, date_field: str, finished: Q, today: dt.date, has_actual: bool = True) -> Q:
    """Rows that are late, as a filter (mirrors ``lifecycle.models.is_late``)."""
    overdue = ~finished & Q(**{f"{date_field}__lt": today})
    if not has_actual:
        return overdue
    return (overdue & Q(actual_date__isnull=True)) | Q(actual_date__gt=F(date_field))


def roadmap_rows(
    *, products: QuerySet[Product], kind: str = "", late_only: bool = False, today: dt.date
) -> list[RoadmapRow]:
    """Entries of ``products`` whose date falls within half a year before and a year after ``today``, by date."""
    product_ids = products.order_by().values("pk")
    since, until = today - WINDOW_BEFORE, today + WINDOW_AFTER
    rows: list[RoadmapRow] = []
    related = ("product__name", "product__slug", "product__portfolio__name")
    if kind in ("", "roadmap"):
        finished = Q(status__in=[RoadmapStatus.DONE, RoadmapStatus.DROPPED])
        items = RoadmapItem.objects.filter(
            product__in=product_ids, target_date__gte=since, target_date__lte=until
        )
        if late_only:
            items = items.filter(
                _late(date_field="target_date", finished=finished, today=today, has_actual=False)
            )
        labels = dict(RoadmapStatus.choices)
        for title, date, status, *names in items.order_by("target_date", "pk").values_list(
            "title", "target_date", "status", *related
        )[:ROWS_PER_KIND]:
            done = status in (RoadmapStatus.DONE, RoadmapStatus.DROPPED)
            rows.append(
                RoadmapRow(
                    "roadmap",
                    title,
                    *names,
                    date,
                    None,
                    status,
                    labels[status],
                    done,
                    not done and date < today,
                )
            )
    for name, model, title_field, finished_values, labels in (
        (
            "release",
            Release,
            "name",
            (ReleaseStatus.SHIPPED, ReleaseStatus.CANCELLED),
            dict(ReleaseStatus.choices),
        ),
        ("milestone", Milestone, "title", (MilestoneStatus.DONE,), dict(MilestoneStatus.choices)),
    ):
        if kind not in ("", name):
            continue
        entries = model.objects.filter(
            product__in=product_ids, planned_date__gte=since, planned_date__lte=until
        )
        if late_only:
            entries = entries.filter(
                _late(date_field="planned_date", finished=Q(status__in=finished_values), today=today)
            )
        for title, planned, actual, status, *names in entries.order_by("planned_date", "pk").values_list(
            title_field, "planned_date", "actual_date", "status", *related
        )[:ROWS_PER_KIND]:
            done = status in finished_values
            late = actual > planned if actual else (not done and planned < today)
            rows.append(RoadmapRow(name, title, *names, planned, actual, status, labels[status], done, late))
    rows.sort(key=lambda row: (row.planned, row.product_name, row.title))
    return rows


def chart_rows(rows: list[RoadmapRow]) -> tuple[list[RoadmapRow], int]:
    """The rows of the first ``CHART_LANES`` products (late ones first, then by date), and how many products."""
    lanes: dict[str, int] = {}
    for row in sorted(rows, key=lambda row: (not row.late, row.planned)):
        lanes.setdefault(row.product_name, len(lanes))
    shown = {name for name, position in lanes.items() if position < CHART_LANES}
    return [row for row in rows if row.product_name in shown], len(lanes)
