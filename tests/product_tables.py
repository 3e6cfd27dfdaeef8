"""A small organisation for the product-table pages (dashboard, product list, CSV): people with known
access to money, products spread over every stage, market, focus and health, and a key KPI's history."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from portfolio.models import KPI, BudgetLine, Measurement, Portfolio
from portfolio.strategy.services.budgets import products_sync_money
from products.choices import Focus, Health, Market, Role, Stage
from products.models import Product, User
from tests.factories import KPIFactory, MembershipFactory, PortfolioFactory, ProductFactory, UserFactory

LATEST_WEEK = dt.date(2026, 11, 16)  # a Monday
WEEKS = 14


@dataclass
class Organisation:
    director: User  # directs ``alpha``
    vp: User
    owner: User  # a PM who owns the products of ``alpha``
    junior: User  # a junior PM on one product of ``beta``
    outsider: User  # a PM on no product
    alpha: Portfolio
    beta: Portfolio
    kpi: KPI
    products: list[Product] = field(default_factory=list)


def build_organisation() -> Organisation:
    director = UserFactory(username="dora", first_name="Dora", last_name="Director", role=Role.DIRECTOR)
    other_director = UserFactory(username="otto", first_name="Otto", last_name="Other", role=Role.DIRECTOR)
    return Organisation(
        director=director,
        vp=UserFactory(username="vera", first_name="Vera", last_name="Vp", role=Role.VP),
        owner=UserFactory(username="olga", first_name="Olga", last_name="Owner", role=Role.PM),
        junior=UserFactory(username="jun", first_name="Jun", last_name="Junior", role=Role.JUNIOR_PM),
        outsider=UserFactory(username="oscar", first_name="Oscar", last_name="Outsider", role=Role.PM),
        alpha=PortfolioFactory(name="Alpha", slug="alpha", director=director),
        beta=PortfolioFactory(name="Beta", slug="beta", director=other_director),
        kpi=KPIFactory(name="Revenue", unit="€", is_key=True, default_target=100.0),
    )


def add_products(org: Organisation, count: int, *, weeks: int = WEEKS) -> list[Product]:
    """``count`` products, half in each portfolio, cycling through every stage, market, focus and health,
    with distinct money and days in stage, and ``weeks`` weekly values of the key KPI each."""
    beta_owner = UserFactory(username=f"bert{len(org.products)}", first_name="Bert", last_name="Beta")
    cycles = zip(
        itertools.cycle(Stage.values),
        itertools.cycle(Market.values),
        itertools.cycle(Focus.values),
        itertools.cycle(Health.values),
        strict=False,
    )
    now = timezone.now()
    created = []
    start = len(org.products)
    for index, (stage, market, focus, health) in zip(range(start, start + count), cycles, strict=False):
        in_alpha = index % 2 == 0
        created.append(
            ProductFactory(
                name=f"Product {index:03d}",
                slug=f"product-{index:03d}",
                portfolio=org.alpha if in_alpha else org.beta,
                owner=org.owner if in_alpha else beta_owner,
                stage=stage,
                market=market,
                focus=focus,
                health=health,
                stage_entered_at=now - dt.timedelta(days=(index * 7) % 97 + 1),
                planned_budget=Decimal(1000 * ((index * 37) % 101 + 1)),
                actual_spend=Decimal(900 * ((index * 53) % 89 + 1)),
            )
        )
    Measurement.objects.bulk_create(
        Measurement(
            product=product,
            kpi=org.kpi,
            period=LATEST_WEEK - dt.timedelta(weeks=week),
            value=float((product.pk * 13 + week * 7) % 200),
        )
        for product in created
        for week in range(weeks)
    )
    # Each product's money as its one budget line (this year's first quarter): the totals are the lines' sum.
    first_quarter = timezone.localdate().replace(month=1, day=1)
    BudgetLine.objects.bulk_create(
        BudgetLine(
            product=product,
            quarter=first_quarter,
            kind="opex",
            planned=product.planned_budget,
            actual=product.actual_spend,
        )
        for product in created
    )
    products_sync_money(product_ids=[product.pk for product in created])
    if not org.products:
        beta_product = next(p for p in created if p.portfolio_id == org.beta.pk)
        MembershipFactory(product=beta_product, user=org.junior, role=Role.JUNIOR_PM)
    org.products.extend(created)
    return created


def other_kpis(count: int) -> list[KPI]:
    return [KPIFactory(name=f"Other KPI {n}") for n in range(count)]
