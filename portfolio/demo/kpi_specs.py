"""The demo's KPIs (definitions plus how each history behaves) and how their histories end: the bands a
KPI's final value lands in, so that products' health comes out as each portfolio's spec plans it."""

from __future__ import annotations

import math
from dataclasses import dataclass

from portfolio.choices import Aggregation, Direction, Frequency, TimeAggregation


@dataclass(frozen=True)
class KPISpec:
    """A KPI definition plus how its demo history behaves."""

    name: str
    unit: str
    description: str
    direction: str
    aggregation: str
    time_aggregation: str
    default_target: float
    tolerance: int | float
    frequency: str = Frequency.WEEKLY
    is_key: bool = False
    decimals: int = 1
    volume: bool = False  # scales with the product's size and stage
    noise: float = 0.05  # relative noise of one period's value
    drift: float = 0.02  # relative step of the slow random walk underneath
    floor: float = 0.0
    cap: float | None = None
    season: float = 0.0  # relative swing of a yearly season (peak in mid-December, trough in mid-June)

    @property
    def tolerance_fraction(self) -> float:
        return self.tolerance / 100


H, L = Direction.HIGHER, Direction.LOWER
SUM, AVG, MIN, MAX = Aggregation.SUM, Aggregation.AVG, Aggregation.MIN, Aggregation.MAX
T_SUM, T_AVG, T_LAST = TimeAggregation.SUM, TimeAggregation.AVG, TimeAggregation.LAST
MONTHLY = Frequency.MONTHLY

KPIS: tuple[KPISpec, ...] = (
    KPISpec("Revenue", "€", "Net revenue booked in the period.", H, SUM, T_SUM, 25_000, 10,
            is_key=True, decimals=2, volume=True, noise=0.06, drift=0.03, season=0.12),
    KPISpec("Monthly active users", "users", "Distinct users active in the trailing 30 days.", H, SUM, T_LAST,
            12_000, 10, is_key=True, decimals=0, volume=True, noise=0.02, drift=0.015),
    KPISpec("Weekly active users", "users", "Distinct users active in the week.", H, SUM, T_AVG, 5_000, 10,
            decimals=0, volume=True, noise=0.04, drift=0.02, season=0.06),
    KPISpec("New sign-ups", "sign-ups", "Accounts created in the period.", H, SUM, T_SUM, 600, 15,
            decimals=0, volume=True, noise=0.1, drift=0.04, season=0.15),
    KPISpec("Conversion rate", "%", "Visitors who complete the key action.", H, AVG, T_AVG, 3.5, 10,
            decimals=2, noise=0.04, cap=100),
    KPISpec("Activation rate", "%", "New users who reach first value within a week.", H, AVG, T_AVG, 42, 10,
            noise=0.03, cap=100),
    KPISpec("Churn rate", "%", "Customers lost in the period.", L, AVG, T_AVG, 2.5, 20, decimals=2,
            noise=0.06, cap=100),
    KPISpec("30-day retention", "%", "Users still active 30 days after sign-up.", H, AVG, T_AVG, 45, 10,
            noise=0.03, cap=100),
    KPISpec("Customer satisfaction (CSAT)", "%", "Satisfied answers to the in-product survey.", H, AVG,
            T_AVG, 85, 5, noise=0.012, drift=0.01, cap=100),
    KPISpec("Support tickets", "tickets", "Tickets opened by customers.", L, SUM, T_SUM, 60, 15, decimals=0,
            volume=True, noise=0.1, drift=0.04, season=0.12),
    KPISpec("Defects opened", "defects", "Bugs reported against the product.", L, SUM, T_SUM, 8, 25,
            decimals=0, noise=0.2, drift=0.04),
    KPISpec("Cycle time", "days", "Days from starting work on an item to done.", L, MAX, T_AVG, 5, 20,
            noise=0.08, drift=0.03),
    KPISpec("Lead time for changes", "days", "Days from commit to production.", L, MAX, T_AVG, 3, 25,
            noise=0.1, drift=0.03),
    KPISpec("Deployment frequency", "deploys", "Production deployments in the period.", H, SUM, T_SUM, 10,
            20, decimals=0, noise=0.15, drift=0.04),
    KPISpec("Uptime", "%", "Share of the period the product was available.", H, MIN, T_AVG, 99.9, 0.1,
            decimals=3, noise=0.0003, drift=0.0002, cap=100),
    KPISpec("Mean time to recovery", "hours", "Hours from incident start to recovery.", L, MAX, T_AVG, 4, 25,
            noise=0.12, drift=0.04),
    KPISpec("Feature adoption", "%", "Active users who use the newest features.", H, AVG, T_AVG, 30, 10,
            noise=0.04, cap=100),
    KPISpec("Page load time (p95)", "ms", "95th-percentile page load time.", L, MAX, T_AVG, 1_200, 15,
            decimals=0, noise=0.04, drift=0.02),
    KPISpec("Net Promoter Score", "NPS", "Promoters minus detractors, monthly survey.", H, AVG, T_AVG, 35,
            15, frequency=MONTHLY, decimals=0, noise=0.06, drift=0.03, floor=-100, cap=100),
    KPISpec("ARPU", "€", "Average revenue per active user.", H, AVG, T_AVG, 28, 10, frequency=MONTHLY,
            decimals=2, noise=0.03),
    KPISpec("Customer acquisition cost (CAC)", "€", "Sales and marketing spend per new customer.", L, AVG,
            T_AVG, 120, 15, frequency=MONTHLY, decimals=2, noise=0.05),
    KPISpec("Customer lifetime value (LTV)", "€", "Expected gross margin over a customer's lifetime.", H,
            AVG, T_LAST, 900, 15, frequency=MONTHLY, decimals=2, noise=0.03),
)  # fmt: skip


# A KPI's final value lands in one of these bands (in units of its tolerance) so that a product's
# health, the worst status among its KPIs' latest values, comes out as planned.
ON_TARGET, AT_RISK, OFF_TARGET = "on_target", "at_risk", "off_target"
END_BANDS = {ON_TARGET: (0.15, 1.5), AT_RISK: (-0.85, -0.2), OFF_TARGET: (-3.5, -1.4)}
# Each portfolio ends its own way (PortfolioSpec.health); weighted by product share, about 60 % on target,
# 25 % at risk and 15 % off target.
PROFILES = (ON_TARGET, AT_RISK, OFF_TARGET)
# Each portfolio struggles with a few KPIs: its products' misses fall on those this many times as often.
TROUBLED_KPIS_PER_PORTFOLIO = 3
TROUBLED_WEIGHT = 8


def round_significant(value: float, digits: int) -> float:
    if value <= 0:
        return value
    return round(value, digits - 1 - math.floor(math.log10(value)))
