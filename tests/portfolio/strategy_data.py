"""A small strategy world for the strategy tests: two portfolios, objectives with key results, products with
quarterly budget lines, alignments and scores. Every amount is chosen so that a hand computation is easy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from portfolio.models import Alignment, BudgetLine, KeyResult, PriorityScore
from portfolio.strategy.rules import rice_score, wsjf_score
from portfolio.strategy.services.budgets import products_sync_money
from products.choices import Focus, Market, Role, Stage
from tests.factories import (
    KPIFactory,
    ObjectiveFactory,
    PortfolioFactory,
    ProductFactory,
    RollupFactory,
    UserFactory,
)

TODAY = dt.date(2026, 5, 16)  # 45 of 91 days into Q2 2026
YEAR = [dt.date(2026, 1, 1), dt.date(2026, 4, 1), dt.date(2026, 7, 1), dt.date(2026, 10, 1)]


def line(product, quarter, kind, planned, actual="0"):
    """A budget line, with the product's money totals synced as every write path does."""
    created = BudgetLine.objects.create(
        product=product, quarter=quarter, kind=kind, planned=Decimal(planned), actual=Decimal(actual)
    )
    products_sync_money(product_ids=[product.pk])
    return created


def score(product, *, reach=1000, impact="1", confidence=80, effort="2", bv=8, tc=5, rr=3, size=5):
    return PriorityScore.objects.create(
        product=product,
        reach=reach,
        impact=Decimal(impact),
        confidence=confidence,
        effort=Decimal(effort),
        business_value=bv,
        time_criticality=tc,
        risk_reduction=rr,
        job_size=size,
        rice=rice_score(reach=reach, impact=Decimal(impact), confidence=confidence, effort=Decimal(effort)),
        wsjf=wsjf_score(business_value=bv, time_criticality=tc, risk_reduction=rr, job_size=size),
    )


@dataclass
class World:
    director: object
    other_director: object
    vp: object
    pm: object
    junior: object
    payments: object
    growth: object
    checkout: object
    wallet: object
    ads: object
    speed: object
    reach: object
    orphan_objective: object
    org_objective: object
    kpi: object


def build_world() -> World:
    director = UserFactory(username="dir", role=Role.DIRECTOR)
    other_director = UserFactory(username="dir-other", role=Role.DIRECTOR)
    vp = UserFactory(username="vp", role=Role.VP)
    pm = UserFactory(username="owner-pm", role=Role.PM)
    junior = UserFactory(username="junior-pm", role=Role.JUNIOR_PM)
    payments = PortfolioFactory(
        name="Payments", slug="payments", director=director, budget=Decimal("1000000")
    )
    growth = PortfolioFactory(name="Growth", slug="growth", director=other_director, budget=Decimal("500000"))
    checkout = ProductFactory(
        name="Checkout",
        slug="checkout",
        portfolio=payments,
        owner=pm,
        stage=Stage.MVP,
        market=Market.B2C,
        focus=Focus.CUSTOMER,
    )
    wallet = ProductFactory(
        name="Wallet",
        slug="wallet",
        portfolio=payments,
        owner=pm,
        stage=Stage.EXECUTION,
        market=Market.B2B,
        focus=Focus.BUSINESS,
    )
    ads = ProductFactory(
        name="Ads",
        slug="ads",
        portfolio=growth,
        owner=UserFactory(username="ads-pm"),
        stage=Stage.MVP,
        market=Market.B2C,
        focus=Focus.BUSINESS,
    )
    kpi = KPIFactory(name="Conversion", unit="%", default_target=50.0)
    speed = ObjectiveFactory(portfolio=payments, title="Faster payments", order=1)
    reach = ObjectiveFactory(portfolio=payments, title="More merchants", order=2)
    orphan = ObjectiveFactory(portfolio=growth, title="Nobody works on this", order=1)
    org = ObjectiveFactory(portfolio=None, title="Grow retention", order=1)
    KeyResult.objects.create(objective=speed, title="Conversion to 60%", kpi=kpi, target=60.0)
    RollupFactory(
        kpi=kpi, scope="portfolio", scope_key="payments", period=dt.date(2026, 5, 4), value=57.0, target=50.0
    )
    RollupFactory(
        kpi=kpi, scope="portfolio", scope_key="payments", period=dt.date(2026, 4, 27), value=40.0, target=50.0
    )
    # Checkout: 60 % to speed, 40 % to reach. Wallet: 50 % to speed only (half not aligned). Ads: none.
    Alignment.objects.create(product=checkout, objective=speed, weight=60)
    Alignment.objects.create(product=checkout, objective=reach, weight=40)
    Alignment.objects.create(product=wallet, objective=speed, weight=50)
    # Checkout: Q1 100k capex + 50k opex (actual 160k), Q2 100k opex (actual 60k), Q3 100k opex.
    line(checkout, YEAR[0], "capex", "100000", "110000")
    line(checkout, YEAR[0], "opex", "50000", "50000")
    line(checkout, YEAR[1], "opex", "100000", "60000")
    line(checkout, YEAR[2], "opex", "100000")
    # Wallet: Q1 40k opex (actual 40k), Q2 20k capex (actual 0).
    line(wallet, YEAR[0], "opex", "40000", "40000")
    line(wallet, YEAR[1], "capex", "20000")
    # Ads: Q2 80k opex, actual 10k; Q1 of last year (outside the year).
    line(ads, YEAR[1], "opex", "80000", "10000")
    line(ads, dt.date(2025, 10, 1), "opex", "5000", "5000")
    score(checkout, reach=2000, impact="2", confidence=50, effort="4", bv=13, tc=8, rr=5, size=13)
    score(wallet, reach=400, impact="1", confidence=100, effort="1", bv=5, tc=3, rr=2, size=2)
    return World(
        director=director,
        other_director=other_director,
        vp=vp,
        pm=pm,
        junior=junior,
        payments=payments,
        growth=growth,
        checkout=checkout,
        wallet=wallet,
        ads=ads,
        speed=speed,
        reach=reach,
        orphan_objective=orphan,
        org_objective=org,
        kpi=kpi,
    )
