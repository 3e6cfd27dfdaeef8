"""The demo organisation: a deterministic, believable product portfolio with a year of KPI history.

``demo_seed`` replaces every portfolio, product, KPI, measurement, rollup and user with a generated
organisation. The same seed and the same anchor date give the same rows (database ids, ``updated_at``
and password salts aside): every random choice comes from a ``random.Random`` seeded with the seed and
a fixed label, and nothing iterates a set or relies on the database's row order.

The work happens in two steps:

1. ``demo_plan`` decides the organisation in memory (people, portfolios, objectives, KPIs, products
   with their stage histories, members and targets) without touching the database;
2. ``demo_seed`` writes the plan with bulk inserts and streams the KPI history straight into the
   measurement table (``COPY`` on PostgreSQL, ``executemany`` on SQLite), all in one transaction.

Every product has a value for every KPI in every period of the window, so the size is predictable:
1,000 products x 12 months is about 1M measurements (18 weekly KPIs x 52 weeks + 4 monthly x 12).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import TextIO

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.utils.text import slugify

from lifecycle.models import StageTransition
from portfolio.choices import Frequency
from portfolio.demo.key_results import LatestValues
from portfolio.demo.kpi_history import add_months, bulk_insert_measurements, demo_periods, kpi_histories
from portfolio.demo.kpi_specs import KPIS
from portfolio.demo.plan import OrganisationPlan, demo_plan
from portfolio.demo.specs import ORGANISATION_OBJECTIVES, PORTFOLIOS, ObjectiveSpec
from portfolio.demo.strategy import seed_strategy
from portfolio.demo.work import demo_work_clear, demo_work_seed
from portfolio.models import KPI, KPITarget, Measurement, Objective, Portfolio, Rollup
from products.models import Membership, Product, User
from products.staff import STAFF_ROLES, role_groups_assign
from spm.history.records import history_model

DEBUG_DEMO_PASSWORD = "demo"  # noqa: S105 - only ever used with DEBUG on, and said so when seeding


class DemoPasswordMissing(Exception):
    """Outside DEBUG the demo users' password must come from ``SPM_DEMO_PASSWORD``."""


@dataclass(frozen=True)
class DemoLogin:
    username: str
    description: str


@dataclass(frozen=True)
class DemoSummary:
    today: dt.date
    portfolios: int
    objectives: int
    people: int
    products: int
    transitions: int
    memberships: int
    kpis: int
    targets: int
    measurements: int
    logins: tuple[DemoLogin, ...]


def demo_password() -> tuple[str, str]:
    """The demo users' password and where it came from; refuses outside DEBUG when none is set."""
    if settings.SPM_DEMO_PASSWORD:
        return settings.SPM_DEMO_PASSWORD, "SPM_DEMO_PASSWORD"
    if settings.DEBUG:
        return (
            DEBUG_DEMO_PASSWORD,
            f'"{DEBUG_DEMO_PASSWORD}" (the DEBUG default; set SPM_DEMO_PASSWORD to change it)',
        )
    raise DemoPasswordMissing(
        "SPM_DEMO_PASSWORD is not set. Outside DEBUG the demo users need a password from the environment: "
        "export SPM_DEMO_PASSWORD=... and run seed_demo again."
    )


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def database_is_empty() -> bool:
    """No users and no portfolio data: seeding would destroy nothing."""
    return not any(model.objects.exists() for model in (User, Portfolio, Product, KPI, Measurement))


def demo_clear() -> None:
    """Delete every row the seeder writes, every user (superusers included) and all recorded history.

    The history goes too: new rows may reuse old ids, and must not inherit their history. What the wipe
    records itself goes with it (docs/history.md).
    """
    measurements = Measurement._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # TRUNCATE refuses a table with pending deferred FK checks (rows written earlier in this
            # transaction), so run those checks now and defer again afterwards.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"TRUNCATE {connection.ops.quote_name(measurements)}")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    else:
        Measurement.objects.all()._raw_delete(Measurement.objects.db)
    Rollup.objects.all()._raw_delete(Rollup.objects.db)
    demo_work_clear()
    # The rest is small: the ORM's delete also clears anything other apps hang off these rows.
    for model in (KPITarget, StageTransition, Membership, Product, Objective, Portfolio, KPI, User):
        model.objects.all().delete()
    # Last, all history, the deletions just recorded included.
    for model in apps.get_models():
        if hasattr(model._meta, "simple_history_manager_attribute"):
            history = history_model(model)
            history.objects.all()._raw_delete(history.objects.db)


@transaction.atomic
def demo_seed(
    *,
    products: int = 120,
    months: int = 12,
    seed: int = 1,
    today: dt.date,
    password: str,
    progress: TextIO | None = None,
) -> DemoSummary:
    """Replace all data with the demo organisation of ``products`` products and ``months`` of KPI history.

    Deletes every user. All demo users get ``password`` (hashed once). ``progress``: where the
    progress bar draws (None: no bar). Everything happens in one transaction.
    """
    if products < 1 or months < 1:
        raise ValueError("products and months must be at least 1")
    plan = demo_plan(products=products, seed=seed, today=today)
    anchor = dt.datetime.combine(today, dt.time.min, tzinfo=dt.UTC)
    demo_clear()

    password_hash = make_password(password)
    users = User.objects.bulk_create(
        User(
            username=person.username,
            first_name=person.first_name,
            last_name=person.last_name,
            email=f"{person.username}@example.com",
            role=person.role,
            title=person.title,
            is_staff=person.is_superuser or person.role in STAFF_ROLES,
            is_superuser=person.is_superuser,
            password=password_hash,
            date_joined=person.date_joined,
        )
        for person in plan.people
    )
    # Staff who are not superusers get their admin pages from their role's group (docs/permissions.md).
    role_groups_assign(users=users)
    user_by_name = {user.username: user for user in users}

    portfolios = Portfolio.objects.bulk_create(
        Portfolio(
            slug=slugify(spec.name),
            name=spec.name,
            description=spec.description,
            director=user_by_name[plan.directors[index]],
            budget=_portfolio_budget(plan, index),
            created_at=anchor - dt.timedelta(days=1500),
        )
        for index, spec in enumerate(PORTFOLIOS)
    )
    objective_specs = _objectives(random.Random(f"objectives:{seed}"), portfolios, today)
    objectives = Objective.objects.bulk_create(objective for objective, _ in objective_specs)
    kpis = KPI.objects.bulk_create(
        KPI(
            name=spec.name,
            description=spec.description,
            unit=spec.unit,
            direction=spec.direction,
            aggregation=spec.aggregation,
            time_aggregation=spec.time_aggregation,
            default_target=spec.default_target,
            tolerance=Decimal(str(spec.tolerance)),
            frequency=spec.frequency,
            is_key=spec.is_key,
            # Its own bounds where the unit's default (0 to 100 %, else not negative) is not its range.
            min_value=spec.floor if spec.floor < 0 else None,
            max_value=spec.cap if spec.cap is not None and spec.unit != "%" else None,
        )
        for spec in KPIS
    )
    kpi_by_name = {kpi.name: kpi for kpi in kpis}

    product_rows = Product.objects.bulk_create(
        Product(
            slug=plan_product.slug,
            name=plan_product.name,
            description=plan_product.description,
            portfolio=portfolios[plan_product.portfolio],
            owner=user_by_name[plan_product.owner],
            market=plan_product.market,
            focus=plan_product.focus,
            stage=plan_product.stage,
            stage_entered_at=plan_product.transitions[-1].at,
            planned_budget=plan_product.planned_budget,
            actual_spend=plan_product.actual_spend,
            created_at=plan_product.transitions[0].at,
        )
        for plan_product in plan.products
    )
    transitions = StageTransition.objects.bulk_create(
        StageTransition(
            product=product,
            from_stage=step.from_stage,
            to_stage=step.to_stage,
            at=step.at,
            by=user_by_name[step.by],
            note=step.note,
        )
        for product, plan_product in zip(product_rows, plan.products, strict=True)
        for step in plan_product.transitions
    )
    # Each stage's work products: earlier stages mostly done, the current one half done (portfolio/demo/work.py).
    objective_ids: dict[int | None, list[int]] = {}
    for objective in objectives:
        objective_ids.setdefault(objective.portfolio_id, []).append(objective.pk)
    demo_work_seed(
        products=product_rows,
        seed=seed,
        today=today,
        kpi_ids=[kpi.pk for kpi in kpis],
        objective_ids=objective_ids,
    )
    memberships = Membership.objects.bulk_create(
        Membership(
            product=product, user=user_by_name[member.username], role=member.role, joined_at=member.joined_at
        )
        for product, plan_product in zip(product_rows, plan.products, strict=True)
        for member in plan_product.members
    )
    targets = KPITarget.objects.bulk_create(
        KPITarget(product=product, kpi=kpi_by_name[name], target=target)
        for product, plan_product in zip(product_rows, plan.products, strict=True)
        for name, target in plan_product.targets
    )

    periods = {
        frequency: demo_periods(today=today, months=months, frequency=frequency)
        for frequency in (Frequency.WEEKLY, Frequency.MONTHLY)
    }
    histories = kpi_histories(
        plan, product_rows=product_rows, kpis=kpis, seed=seed, periods=periods, progress=progress
    )
    latest = LatestValues(product_rows)
    measurement_count = bulk_insert_measurements(latest.watch(histories), periods=periods, anchor=anchor)
    # Key results (targets set against the latest values), alignments, quarterly budget lines, scores and a
    # draft scenario (docs/strategy.md).
    seed_strategy(
        products=product_rows,
        portfolios=portfolios,
        objectives=list(zip(objectives, (spec for _, spec in objective_specs), strict=True)),
        kpis=kpis,
        latest=latest,
        today=today,
        seed=seed,
    )
    return DemoSummary(
        today=today,
        portfolios=len(portfolios),
        objectives=len(objectives),
        people=len(users),
        products=len(product_rows),
        transitions=len(transitions),
        memberships=len(memberships),
        kpis=len(kpis),
        targets=len(targets),
        measurements=measurement_count,
        logins=_logins(plan),
    )


def _portfolio_budget(plan: OrganisationPlan, index: int) -> Decimal:
    planned = sum((p.planned_budget for p in plan.products if p.portfolio == index), Decimal(0))
    # Some headroom over what the products plan, in round 50k steps.
    return Decimal(math.ceil(planned * Decimal("1.15") / 50_000) * 50_000).quantize(Decimal("0.01"))


def _objectives(
    rng: random.Random, portfolios: list[Portfolio], today: dt.date
) -> list[tuple[Objective, ObjectiveSpec]]:
    """The organisation's objectives and three to five of each portfolio's, each with the spec naming its KPIs."""

    def quarter_end(quarters_ahead: int) -> dt.date:
        first_of_next = add_months(today.replace(day=1), 3 * quarters_ahead + 3 - (today.month - 1) % 3)
        return first_of_next - dt.timedelta(days=1)

    objectives = [
        (Objective(portfolio=None, title=spec.title, order=order, target_date=quarter_end(3)), spec)
        for order, spec in enumerate(ORGANISATION_OBJECTIVES, start=1)
    ]
    for portfolio, spec in zip(portfolios, PORTFOLIOS, strict=True):
        count = rng.randint(3, min(5, len(spec.objectives)))
        objectives += [
            (
                Objective(
                    portfolio=portfolio,
                    title=objective.title,
                    order=order,
                    target_date=quarter_end(rng.randint(0, 3)),
                ),
                objective,
            )
            for order, objective in enumerate(spec.objectives[:count], start=1)
        ]
    return objectives


def _logins(plan: OrganisationPlan) -> tuple[DemoLogin, ...]:
    owned = sum(1 for p in plan.products if p.owner == "pm")
    pm_member = sum(1 for p in plan.products for m in p.members if m.username == "pm")
    junior_member = sum(1 for p in plan.products for m in p.members if m.username == "junior")
    directed = [
        spec.name for spec, username in zip(PORTFOLIOS, plan.directors, strict=True) if username == "director"
    ]
    return (
        DemoLogin("admin", "superuser (Django admin), VP of product"),
        DemoLogin("director", f"Director of product, directs {' and '.join(directed)}"),
        DemoLogin("pm", f"PM, owns {_products(owned)}, member of {pm_member} more"),
        DemoLogin("junior", f"Junior PM, member of {_products(junior_member)}, owns none"),
    )


def _products(count: int) -> str:
    return f"{count} product" if count == 1 else f"{count} products"
