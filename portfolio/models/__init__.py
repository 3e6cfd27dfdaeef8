"""The portfolio app's models, one module per sub-domain, re-exported here: code imports them from
``portfolio.models`` and Django registers them with the portfolio app (tables and migrations unchanged).

- ``portfolios``: Portfolio, Objective;
- ``kpis``: KPI definitions, targets and measurements (their vocabulary: ``portfolio.choices``);
- ``rollups``: rollups, their stale marks and the recompute state;
- ``forecasts``: each KPI's forecast of its current and next period, per product and per rollup scope, and its
  measured accuracy;
- ``strategy``: key results, alignments, budget lines, priority scores, the live plan and scenarios;
- ``alerts``: each person's notifications, what they follow or mute, how they hear by email, and the outbox.
"""

from portfolio.models.alerts import (
    AlertSettings,
    ChatDelivery,
    ChatWebhook,
    Follow,
    Notification,
    OutboxEmail,
    ReportedEvent,
)
from portfolio.models.forecasts import ForecastAccuracy, ProductForecast, ScopeForecast
from portfolio.models.kpis import KPI, KPITarget, Measurement
from portfolio.models.portfolios import Objective, Portfolio
from portfolio.models.rollups import Rollup, RollupState, StaleRollup
from portfolio.models.strategy import (
    Alignment,
    BudgetKind,
    BudgetLine,
    KeyResult,
    PlanChange,
    PlanState,
    PriorityScore,
    ProductYearMoney,
    Scenario,
    ScenarioLine,
    ScenarioStatus,
)

__all__ = [
    "KPI",
    "AlertSettings",
    "Alignment",
    "BudgetKind",
    "BudgetLine",
    "ChatDelivery",
    "ChatWebhook",
    "Follow",
    "ForecastAccuracy",
    "KPITarget",
    "KeyResult",
    "Measurement",
    "Notification",
    "Objective",
    "OutboxEmail",
    "PlanChange",
    "PlanState",
    "Portfolio",
    "PriorityScore",
    "ProductForecast",
    "ProductYearMoney",
    "ReportedEvent",
    "Rollup",
    "RollupState",
    "Scenario",
    "ScenarioLine",
    "ScenarioStatus",
    "ScopeForecast",
    "StaleRollup",
]
