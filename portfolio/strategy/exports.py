"""CSV exports of the strategy pages' tables: streamed, formula-safe (``spm.csvfiles.writer.csv_cell``), money as
plain decimal numbers in the configured currency, quarters and dates as ISO dates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.db.models import QuerySet

from portfolio.strategy.selectors.investment import money_row
from spm.csvfiles.writer import csv_filename, csv_response

OBJECTIVE_COLUMNS = (
    "objective",
    "portfolio",
    "target_date",
    "key_results",
    "aligned_products",
    "planned_this_year",
    "covered",
)
UNALIGNED_COLUMNS = ("product", "name", "portfolio", "stage")
MONEY_COLUMNS = (
    "group_by",
    "key",
    "label",
    "quarters",
    "planned_capex",
    "planned_opex",
    "planned",
    "actual",
    "plan_to_date",
    "variance",
    "status",
)
PRODUCT_MONEY_COLUMNS = (
    "product",
    "name",
    "portfolio",
    "planned_capex",
    "planned_opex",
    "planned",
    "actual",
    "plan_to_date",
    "variance",
    "status",
)
PRIORITY_COLUMNS = (
    "rank",
    "product",
    "name",
    "portfolio",
    "reach",
    "impact",
    "confidence",
    "effort",
    "rice",
    "business_value",
    "time_criticality",
    "risk_reduction",
    "job_size",
    "wsjf",
)
SCENARIO_COLUMNS = (
    "scenario",
    "scope",
    "status",
    "horizon_start",
    "created_by",
    "created_at",
    "decided_by",
    "decided_at",
)
SCENARIO_LINE_COLUMNS = ("product", "name", "portfolio", "new", "base_planned", "planned", "paused", "change")
COMPARE_COLUMNS = (
    "scenario",
    "live_budget",
    "scenario_budget",
    "ceiling",
    "live_objectives_covered",
    "scenario_objectives_covered",
    "objectives",
    "live_value_rice",
    "scenario_value_rice",
    "live_effort_pm",
    "scenario_effort_pm",
    "paused_products",
    "new_products",
)


def objectives_csv(objectives: Iterable):
    def rows():
        for view in objectives:
            objective = view.objective
            yield (
                objective.title,
                objective.portfolio.slug if objective.portfolio else "",
                objective.target_date,
                "; ".join(kr.key_result.title for kr in view.key_results),
                view.aligned_count,
                view.funding,
                view.covered,
            )

    return csv_response(OBJECTIVE_COLUMNS, rows(), filename=csv_filename("objectives"))


def unaligned_csv(products: QuerySet):
    values = products.values_list("slug", "name", "portfolio__slug", "stage")
    return csv_response(
        UNALIGNED_COLUMNS, values.iterator(chunk_size=2000), filename=csv_filename("unaligned-products")
    )


def _money(row) -> tuple:
    return (row.capex, row.opex, row.planned, row.actual, row.plan_to_date, row.variance, row.status)


def money_csv(rows: Sequence, *, dimension: str, quarters: Sequence[dt.date]):
    span = f"{quarters[0].isoformat()}/{quarters[-1].isoformat()}"
    lines = ((dimension, row.key, row.label, span, *_money(row)) for row in rows)
    return csv_response(MONEY_COLUMNS, lines, filename=csv_filename(f"investment-by-{dimension}"))


def product_money_csv(values: QuerySet, *, quarters: Sequence[dt.date], today: dt.date):
    def rows():
        for item in values.iterator(chunk_size=2000):
            row = money_row(item, quarters=quarters, today=today)
            yield (row.key, row.label, row.extra["portfolio"], *_money(row))

    return csv_response(PRODUCT_MONEY_COLUMNS, rows(), filename=csv_filename("investment-products"))


def priorities_csv(ranked: QuerySet, *, rank: str):
    def rows():
        for number, score in enumerate(ranked.iterator(chunk_size=2000), start=1):
            yield (
                number,
                score.product.slug,
                score.product.name,
                score.product.portfolio.slug,
                score.reach,
                score.impact,
                score.confidence,
                score.effort,
                score.rice,
                score.business_value,
                score.time_criticality,
                score.risk_reduction,
                score.job_size,
                score.wsjf,
            )

    return csv_response(PRIORITY_COLUMNS, rows(), filename=csv_filename(f"priorities-by-{rank}"))


def scenarios_csv(scenarios: QuerySet):
    rows = (
        (
            s.name,
            s.portfolio.slug if s.portfolio else "organisation",
            s.status,
            s.horizon_start,
            s.created_by.username if s.created_by else "",
            s.created_at.isoformat(),
            s.decided_by.username if s.decided_by else "",
            s.decided_at.isoformat() if s.decided_at else "",
        )
        for s in scenarios
    )
    return csv_response(SCENARIO_COLUMNS, rows, filename=csv_filename("scenarios"))


def scenario_lines_csv(lines: QuerySet):
    def rows():
        for line in lines.iterator(chunk_size=2000):
            portfolio = line.new_portfolio if line.is_new else None
            yield (
                line.product.slug if line.product_id else "",
                line.name,
                portfolio.slug if portfolio else (line.product.portfolio.slug if line.product_id else ""),
                line.is_new,
                line.base_planned,
                line.planned,
                line.paused,
                line.changed,
            )

    return csv_response(SCENARIO_LINE_COLUMNS, rows(), filename=csv_filename("scenario-lines"))


def compare_csv(summaries: Sequence):
    rows = (
        (
            s.scenario.name,
            s.live.budget,
            s.proposed.budget,
            s.ceiling,
            len(s.live.covered),
            len(s.proposed.covered),
            s.objective_count,
            s.live.value,
            s.proposed.value,
            s.live.effort,
            s.proposed.effort,
            s.proposed.paused_products,
            s.proposed.new_products,
        )
        for s in summaries
    )
    return csv_response(COMPARE_COLUMNS, rows, filename=csv_filename("scenario-comparison"))


ROADMAP_COLUMNS = ("kind", "product", "portfolio", "title", "planned", "actual", "status", "late")


def roadmap_csv(rows: Sequence):
    lines = (
        (row.kind, row.product_slug, row.portfolio, row.title, row.planned, row.actual, row.status, row.late)
        for row in rows
    )
    return csv_response(ROADMAP_COLUMNS, lines, filename=csv_filename("roadmap"))


BUDGET_LINE_COLUMNS = ("product", "quarter", "kind", "planned", "actual")
PLAN_HISTORY_COLUMNS = ("version", "at", "by", "portfolio", "scenario", "summary")
SCENARIO_FUNDING_COLUMNS = ("objective", "portfolio", "kpis", "live", "scenario", "change_pct", "expected")


def budget_lines_csv(product, lines: Sequence):
    rows = ((product.slug, line.quarter, line.kind, line.planned, line.actual) for line in lines)
    return csv_response(BUDGET_LINE_COLUMNS, rows, filename=csv_filename(f"budget-{product.slug}"))


def plan_history_csv(changes: QuerySet):
    rows = (
        (
            change.version,
            change.at.isoformat(),
            change.by.username if change.by else "",
            change.portfolio.slug if change.portfolio else "",
            change.scenario.name if change.scenario else "",
            change.summary,
        )
        for change in changes.iterator(chunk_size=2000)
    )
    return csv_response(PLAN_HISTORY_COLUMNS, rows, filename=csv_filename("plan-history"))


def scenario_funding_csv(summary):
    rows = (
        (
            item.objective.title,
            item.objective.portfolio.slug if item.objective.portfolio else "",
            "; ".join(item.kpis),
            item.live,
            item.scenario,
            item.change_pct,
            item.expected,
        )
        for item in summary.objectives
    )
    return csv_response(SCENARIO_FUNDING_COLUMNS, rows, filename=csv_filename("scenario-funding"))
