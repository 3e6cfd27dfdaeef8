"""A small organisation for the director view (rollups, drill-down, KPI pages, CSV), with numbers worked out
by hand: revenue that falls in November for one product, a product with its own target, a value of 1/3."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from portfolio.kpis.engine import rollups_recompute_all
from portfolio.models import KPI, KPITarget, Measurement, Portfolio
from products.choices import Role
from products.models import Product, User
from tests.factories import KPIFactory, KPITargetFactory, PortfolioFactory, ProductFactory, UserFactory

OCTOBER = [dt.date(2026, 10, 5), dt.date(2026, 10, 12), dt.date(2026, 10, 19), dt.date(2026, 10, 26)]
NOVEMBER = [dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16)]
WEEKLY_REVENUE = {  # product -> (each October week, each November week)
    "alpha-one": (120.0, 50.0),
    "alpha-two": (100.0, 100.0),
    "beta-one": (90.0, 110.0),
}


@dataclass
class DirectorOrg:
    director: User
    olga: User
    bert: User
    alpha: Portfolio
    beta: Portfolio
    revenue: KPI  # sum across products, sum over time, higher is better, 100 a week
    churn: KPI  # average, average, lower is better, 5 %
    thirds: KPI  # one value of exactly 1/3, and no default target
    products: dict[str, Product] = field(default_factory=dict)
    beta_target: KPITarget | None = None


def build_director_org(*, recompute: bool = True) -> DirectorOrg:
    """Alpha (two products, owned by Olga) and Beta (one, owned by Bert), seven weeks of revenue and churn.

    Monthly revenue (sum of weeks) against targets (100 a week; beta-one has its own 120 a week):

    ============  ===================  =====================
    product       October (4 weeks)    November (3 weeks)
    ============  ===================  =====================
    alpha-one     480 / 400 on         150 / 300 off (gap 150)
    alpha-two     400 / 400 on         300 / 300 on  (gap 0)
    beta-one      360 / 480 off        330 / 360 at risk (gap 30)
    Alpha         880 / 800 on         450 / 600 off
    organisation  1240 / 1280 at risk  780 / 960 off
    ============  ===================  =====================
    """
    director = UserFactory(username="dora", first_name="Dora", last_name="Director", role=Role.DIRECTOR)
    olga = UserFactory(username="olga", first_name="Olga", last_name="Owner", role=Role.PM)
    bert = UserFactory(username="bert", first_name="Bert", last_name="Beta", role=Role.PM)
    org = DirectorOrg(
        director=director,
        olga=olga,
        bert=bert,
        alpha=PortfolioFactory(name="Alpha", slug="alpha", director=director),
        beta=PortfolioFactory(name="Beta", slug="beta", director=director),
        revenue=KPIFactory(
            name="Revenue",
            unit="€",
            is_key=True,
            aggregation="sum",
            time_aggregation="sum",
            default_target=100.0,
            tolerance=Decimal("10"),
        ),
        churn=KPIFactory(
            name="Churn rate",
            unit="%",
            direction="lower",
            aggregation="avg",
            time_aggregation="avg",
            default_target=5.0,
            tolerance=Decimal("20"),
        ),
        thirds=KPIFactory(
            name="Share of thirds", unit="", aggregation="avg", time_aggregation="avg", default_target=None
        ),
    )
    shape = {
        "alpha-one": (org.alpha, olga, "mvp", "b2b", "customer"),
        "alpha-two": (org.alpha, olga, "execution", "b2c", "business"),
        "beta-one": (org.beta, bert, "mvp", "b2b", "engineering"),
    }
    for slug, (portfolio, owner, stage, market, focus) in shape.items():
        org.products[slug] = ProductFactory(
            name=slug.replace("-", " ").title(),
            slug=slug,
            portfolio=portfolio,
            owner=owner,
            stage=stage,
            market=market,
            focus=focus,
        )
    org.beta_target = KPITargetFactory(product=org.products["beta-one"], kpi=org.revenue, target=120.0)
    rows = []
    for slug, (october, november) in WEEKLY_REVENUE.items():
        product = org.products[slug]
        rows += [Measurement(product=product, kpi=org.revenue, period=p, value=october) for p in OCTOBER]
        rows += [Measurement(product=product, kpi=org.revenue, period=p, value=november) for p in NOVEMBER]
        rows += [Measurement(product=product, kpi=org.churn, period=p, value=4.0) for p in OCTOBER + NOVEMBER]
    rows.append(
        Measurement(product=org.products["alpha-one"], kpi=org.thirds, period=NOVEMBER[0], value=1 / 3)
    )
    Measurement.objects.bulk_create(rows)
    if recompute:
        rollups_recompute_all()
    return org


def add_products(org: DirectorOrg, count: int) -> None:
    """More products with a few weeks of every KPI: for checking that query counts do not grow."""
    owner = UserFactory(username=f"extra-owner-{count}")
    rows = []
    for index in range(count):
        product = ProductFactory(
            slug=f"extra-{count}-{index}", portfolio=org.beta, owner=owner, stage="research"
        )
        for kpi in (org.revenue, org.churn):
            rows += [Measurement(product=product, kpi=kpi, period=p, value=float(index)) for p in NOVEMBER]
    Measurement.objects.bulk_create(rows)
    rollups_recompute_all()
