"""A pure-Python reference of the rollup rules in docs/kpis.md, written from the rules, not from the code it
checks: it imports nothing from the application (its own buckets and status, straight from the doc)."""

import datetime as dt
from collections import defaultdict
from statistics import fmean

COMBINE = {"sum": sum, "avg": fmean, "min": min, "max": max}
#: The first month of the calendar quarter each month is in.
QUARTER_FIRST_MONTH = {1: 1, 2: 1, 3: 1, 4: 4, 5: 4, 6: 4, 7: 7, 8: 7, 9: 7, 10: 10, 11: 10, 12: 10}


def bucket_of(period: dt.date, grain: str) -> dt.date:
    """docs/kpis.md rule 1: a native period stays itself; months and quarters start on their first day."""
    if grain == "month":
        return dt.date(period.year, period.month, 1)
    if grain == "quarter":
        return dt.date(period.year, QUARTER_FIRST_MONTH[period.month], 1)
    return period


def status(*, value: float, target: float | None, direction: str, tolerance: float) -> str:
    """docs/kpis.md rule 4, as written there."""
    if target is None:
        return "no_target"
    if direction == "higher":
        if value >= target:
            return "on_target"
        return "at_risk" if value >= target * (1 - tolerance / 100) else "off_target"
    if value <= target:
        return "on_target"
    return "at_risk" if value <= target * (1 + tolerance / 100) else "off_target"


def over_time(how: str, items: list[tuple[dt.date, float]]) -> float:
    if how == "last":
        return max(items)[1]
    return COMBINE[how]([value for _, value in items])


def reference_rollups(*, kpis, products, measurements, targets) -> dict[tuple, tuple]:
    """Rollups as {(kpi, scope, scope_key, grain, period): (value, target, status, products)}.

    kpis: {kpi_id: dict(aggregation, time_aggregation, default_target, tolerance, direction)}
    products: {product_id: dict(portfolio, stage, market, focus, owner)}
    measurements: [(product_id, kpi_id, period, value)]
    targets: {(product_id, kpi_id): target}
    """
    per_product: dict[tuple, list] = defaultdict(list)
    for product_id, kpi_id, period, value in measurements:
        for grain in ("native", "month", "quarter"):
            per_product[(kpi_id, grain, bucket_of(period, grain), product_id)].append((period, value))
    scoped: dict[tuple, list] = defaultdict(list)
    for (kpi_id, grain, bucket, product_id), items in per_product.items():
        kpi = kpis[kpi_id]
        value = over_time(kpi["time_aggregation"], items)
        effective = targets.get((product_id, kpi_id), kpi["default_target"])
        target = (
            None
            if effective is None
            else over_time(kpi["time_aggregation"], [(p, effective) for p, _ in items])
        )
        product = products[product_id]
        keys = {
            "organisation": "all",
            **{scope: product[scope] for scope in ("portfolio", "stage", "market", "focus", "owner")},
        }
        for scope, key in keys.items():
            scoped[(kpi_id, scope, key, grain, bucket)].append((value, target))
    rollups = {}
    for key, contributions in scoped.items():
        kpi = kpis[key[0]]
        combine = COMBINE[kpi["aggregation"]]
        value = combine([v for v, _ in contributions])
        targets_in = [t for _, t in contributions]
        target = None if any(t is None for t in targets_in) else combine(targets_in)
        verdict = status(value=value, target=target, direction=kpi["direction"], tolerance=kpi["tolerance"])
        rollups[key] = (value, target, verdict, len(contributions))
    return rollups
