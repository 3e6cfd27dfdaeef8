"""factory_boy factories for the domain. Tests build exactly the rows they need."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from lifecycle.models import StageTransition
from portfolio.choices import Aggregation, TimeAggregation
from portfolio.models import KPI, KPITarget, Measurement, Objective, Portfolio, Rollup
from products.choices import Focus, Market, Role, Stage
from products.models import Membership, Product, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = Role.PM
    password = factory.django.Password("correct-horse-battery")


class PortfolioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Portfolio

    name = factory.Sequence(lambda n: f"Portfolio {n}")
    slug = factory.Sequence(lambda n: f"portfolio-{n}")
    director = factory.SubFactory(UserFactory, role=Role.DIRECTOR)
    budget = Decimal("1000000.00")


class ObjectiveFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Objective

    portfolio = factory.SubFactory(PortfolioFactory)
    title = factory.Sequence(lambda n: f"Objective {n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    portfolio = factory.SubFactory(PortfolioFactory)
    owner = factory.SubFactory(UserFactory)
    market = Market.B2B
    focus = Focus.CUSTOMER
    stage = Stage.PROBLEM
    planned_budget = Decimal("100000.00")
    actual_spend = Decimal("50000.00")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    product = factory.SubFactory(ProductFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.JUNIOR_PM


class StageTransitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StageTransition

    product = factory.SubFactory(ProductFactory)
    from_stage = ""
    to_stage = Stage.PROBLEM
    at = factory.LazyFunction(timezone.now)


class KPIFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPI

    name = factory.Sequence(lambda n: f"KPI {n}")
    unit = "€"
    default_target = 100.0
    tolerance = Decimal("10")


class KPITargetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KPITarget

    product = factory.SubFactory(ProductFactory)
    kpi = factory.SubFactory(KPIFactory)
    target = 120.0


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    product = factory.SubFactory(ProductFactory)
    kpi = factory.SubFactory(KPIFactory)
    period = dt.date(2026, 1, 5)
    value = 100.0


class RollupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rollup

    scope = "organisation"
    scope_key = "all"
    kpi = factory.SubFactory(KPIFactory)
    grain = "native"
    period = dt.date(2026, 1, 5)
    value = 100.0
    target = 100.0
    status = "on_target"
    products = 1


def weekly_measurements(product: Product, kpi: KPI, values: list[float], *, last: dt.date) -> None:
    """One measurement a week, oldest first, the last ``values`` entry on the Monday ``last``."""
    Measurement.objects.bulk_create(
        Measurement(
            product=product, kpi=kpi, period=last - dt.timedelta(weeks=len(values) - 1 - index), value=v
        )
        for index, v in enumerate(values)
    )


def summed_kpi(name: str = "Revenue", **fields) -> KPI:
    """A money KPI summed across products and over time, with a target of 100 a week."""
    return KPIFactory(
        name=name,
        unit="€",
        aggregation=Aggregation.SUM,
        time_aggregation=TimeAggregation.SUM,
        default_target=100,
        **fields,
    )


def uptime_kpi(name: str = "Uptime", **fields) -> KPI:
    """A percentage KPI: the worst product counts (min), averaged over time, with a target of 99 %."""
    return KPIFactory(
        name=name,
        unit="%",
        aggregation=Aggregation.MIN,
        time_aggregation=TimeAggregation.AVG,
        default_target=99,
        min_value=0,
        max_value=100,
        **fields,
    )
