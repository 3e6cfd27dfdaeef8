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

import calendar
import datetime as dt
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from typing import TextIO

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils.text import slugify
from tqdm import tqdm

from lifecycle.demo import demo_work_clear, demo_work_seed
from lifecycle.models import StageTransition
from portfolio.demo_strategy import seed_strategy
from portfolio.models import (
    KPI,
    Aggregation,
    Direction,
    Frequency,
    KPITarget,
    Measurement,
    Objective,
    Portfolio,
    Rollup,
    TimeAggregation,
)
from products.history import history_model, history_paused
from products.models import Focus, Market, Membership, Product, Role, Stage, User
from products.staff import STAFF_ROLES, role_groups_assign

DEBUG_DEMO_PASSWORD = "demo"  # noqa: S105 - only ever used with DEBUG on, and said so when seeding

# Rows per executemany call on SQLite: large enough to amortise the call, small enough to stay light.
SQLITE_CHUNK_ROWS = 20_000
SQRT_6 = math.sqrt(6)

# A KPI's final value lands in one of these bands (in units of its tolerance) so that a product's
# health, the worst status among its KPIs' latest values, comes out as planned.
ON_TARGET, AT_RISK, OFF_TARGET = "on_target", "at_risk", "off_target"
END_BANDS = {ON_TARGET: (0.15, 1.5), AT_RISK: (-0.85, -0.2), OFF_TARGET: (-3.5, -1.4)}
PROFILE_WEIGHTS = {ON_TARGET: 45, AT_RISK: 30, OFF_TARGET: 25}
# Each portfolio struggles with a few KPIs: its products' misses fall on those this many times as often.
TROUBLED_KPIS_PER_PORTFOLIO = 3
TROUBLED_WEIGHT = 8


class DemoPasswordMissing(Exception):
    """Outside DEBUG the demo users' password must come from ``SPM_DEMO_PASSWORD``."""


# --------------------------------------------------------------------------------------------------
# The vocabulary: portfolios, objectives, KPIs, names
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortfolioSpec:
    name: str
    description: str
    weight: int  # share of the products
    products: tuple[tuple[str, str], ...]  # (name noun, what it does)
    objectives: tuple[str, ...]


PORTFOLIOS: tuple[PortfolioSpec, ...] = (
    PortfolioSpec(
        name="Payments",
        description="Everything that moves money: checkout, billing, payouts and the ledger behind them.",
        weight=20,
        products=(
            ("Checkout", "One-page checkout on web and app"),
            ("Wallet", "Stored cards, balances and one-tap payments"),
            ("Invoicing", "Invoices, reminders and dunning"),
            ("Payouts", "Scheduled and instant payouts"),
            ("Billing", "Usage-based and recurring billing"),
            ("Refunds", "Self-service refunds and chargebacks"),
            ("Fraud Shield", "Real-time fraud scoring and 3-D Secure"),
            ("Ledger", "Double-entry ledger and reconciliation"),
            ("Card Issuing", "Virtual and physical cards with spend controls"),
            ("Subscriptions", "Plans, trials, upgrades and cancellations"),
            ("Tax Engine", "VAT and sales-tax calculation and filing"),
            ("FX Transfers", "Multi-currency accounts and transfers"),
        ),
        objectives=(
            "Raise payment authorisation rate to 95%",
            "Cut checkout abandonment by a quarter",
            "Launch instant payouts in five new markets",
            "Halve fraud losses as a share of volume",
            "Reconcile every ledger entry within one day",
        ),
    ),
    PortfolioSpec(
        name="Growth",
        description="Acquisition, activation and retention: turning visitors into loyal customers.",
        weight=18,
        products=(
            ("Referrals", "Invite-a-friend rewards and tracking"),
            ("Onboarding", "Guided first-run experience and checklists"),
            ("Loyalty", "Points, tiers and member perks"),
            ("Campaigns", "Targeted campaigns across channels"),
            ("Pricing Lab", "Price and packaging experiments"),
            ("Lifecycle Email", "Triggered email and in-app messages"),
            ("Landing Pages", "Fast, testable landing pages"),
            ("Trials", "Free trials and conversion nudges"),
            ("Upsell", "Upgrade prompts and add-on offers"),
            ("Win-back", "Re-engagement of lapsed customers"),
            ("Affiliate Hub", "Affiliate sign-up, tracking and payouts"),
            ("Promotions", "Vouchers, discounts and seasonal offers"),
        ),
        objectives=(
            "Grow monthly active users by 30%",
            "Lift trial-to-paid conversion to 8%",
            "Bring 90-day churn below 3%",
            "Make referrals a fifth of new sign-ups",
            "Reach an activation rate of 50% in week one",
        ),
    ),
    PortfolioSpec(
        name="Platform",
        description="Shared services every product team builds on: identity, search, messaging, tooling.",
        weight=17,
        products=(
            ("Gateway", "API gateway with authentication and quotas"),
            ("Identity", "Single sign-on, MFA and user directories"),
            ("Search", "Full-text and faceted search as a service"),
            ("Notifications", "Email, SMS and push delivery"),
            ("Feature Flags", "Gradual roll-outs and kill switches"),
            ("Audit Log", "Tamper-evident audit trail"),
            ("Scheduler", "Reliable scheduled and recurring jobs"),
            ("Media Service", "Image and video processing and delivery"),
            ("Rate Limiter", "Fair-use limits across services"),
            ("Config Store", "Versioned configuration and secrets"),
            ("Event Bus", "Durable events between services"),
            ("Developer Portal", "Docs, keys and sandboxes for developers"),
        ),
        objectives=(
            "Reach 99.95% availability on every shared service",
            "Cut lead time for changes to under two days",
            "Move every team to self-service deployments",
            "Retire the legacy monolith's identity code",
            "Halve mean time to recovery",
        ),
    ),
    PortfolioSpec(
        name="Mobile",
        description="Our iOS and Android apps and the SDKs partners embed in theirs.",
        weight=15,
        products=(
            ("App", "The flagship iOS and Android app"),
            ("Widgets", "Home-screen widgets and live activities"),
            ("Offline Sync", "Offline-first data sync"),
            ("Push Studio", "Personalised push notifications"),
            ("Wear", "Smartwatch companion app"),
            ("Tablet", "Tablet-optimised layouts and workflows"),
            ("App Clips", "Instant app experiences without install"),
            ("Mobile SDK", "SDK that partners embed in their apps"),
            ("Deep Links", "Deferred deep links and attribution"),
            ("In-App Chat", "Support chat inside the app"),
            ("Biometrics", "Face and fingerprint sign-in"),
            ("Mobile Wallet", "Passes and tickets in the phone's wallet"),
        ),
        objectives=(
            "Keep a 4.7-star rating in both app stores",
            "Reach 99.8% crash-free sessions",
            "Ship a release every two weeks",
            "Make half of all orders mobile",
        ),
    ),
    PortfolioSpec(
        name="Data & AI",
        description="Data products and machine learning that make every other product smarter.",
        weight=15,
        products=(
            ("Forecasting", "Demand and revenue forecasts"),
            ("Recommendations", "Personalised product recommendations"),
            ("Insights", "Self-service dashboards and reports"),
            ("Assistant", "Conversational assistant for customers"),
            ("Anomaly Radar", "Automatic anomaly detection on key metrics"),
            ("Data Catalog", "Discoverable, documented data sets"),
            ("Churn Predictor", "Early warning of customers at risk"),
            ("Semantic Search", "Search by meaning, not keywords"),
            ("Experiment Hub", "A/B testing with trustworthy statistics"),
            ("Lakehouse", "One governed home for analytical data"),
            ("Model Registry", "Versioned models with lineage and approvals"),
            ("Pricing AI", "Dynamic pricing recommendations"),
        ),
        objectives=(
            "Put a model behind every personalised surface",
            "Give every team trusted self-service data",
            "Cut forecast error to under 8%",
            "Run 200 experiments a quarter",
            "Ship responsible-AI reviews for every model",
        ),
    ),
    PortfolioSpec(
        name="Marketplace",
        description="The two-sided marketplace: sellers, listings, logistics and trust.",
        weight=15,
        products=(
            ("Listings", "Rich listings with photos and variants"),
            ("Seller Hub", "Seller onboarding, tools and analytics"),
            ("Reviews", "Verified ratings and reviews"),
            ("Logistics", "Shipping labels, tracking and delivery promises"),
            ("Returns", "Easy returns and exchanges"),
            ("Catalog", "Product catalogue and taxonomy"),
            ("Bidding", "Auctions and best-offer bidding"),
            ("Storefronts", "Branded seller storefronts"),
            ("Disputes", "Buyer and seller dispute resolution"),
            ("Partner API", "APIs for large sellers and integrators"),
            ("Ads Manager", "Sponsored listings and seller ads"),
            ("Fulfilment", "Warehousing and same-day fulfilment"),
        ),
        objectives=(
            "Onboard 5,000 new sellers",
            "Deliver 90% of orders within two days",
            "Cut dispute rate below 0.5%",
            "Grow ads revenue to a tenth of the take",
        ),
    ),
)

ORGANISATION_OBJECTIVES = (
    "Grow net revenue retention to 115%",
    "Every product passes its next stage gate on time",
)

NAME_PREFIXES = (
    "Atlas", "Beacon", "Cedar", "Cobalt", "Comet", "Compass", "Delta", "Ember", "Falcon", "Fjord",
    "Harbor", "Helix", "Horizon", "Juniper", "Keystone", "Lumen", "Maple", "Meridian", "Nimbus",
    "Nova", "Onyx", "Orbit", "Pioneer", "Prism", "Quartz", "Relay", "Sable", "Sierra", "Solstice",
    "Summit", "Tandem", "Tidal", "Vector", "Velvet", "Willow", "Zenith",
)  # fmt: skip

AUDIENCES = {
    Market.B2B: ("merchants", "finance teams", "enterprise customers", "partners", "operations teams"),
    Market.B2C: ("shoppers", "subscribers", "first-time customers", "families", "frequent travellers"),
}

FIRST_NAMES = (
    "Aisha", "Alejandro", "Amara", "Anders", "Ana", "Arjun", "Beatriz", "Ben", "Camille", "Chen",
    "Chloe", "Daniel", "Elena", "Emeka", "Emma", "Farah", "Felix", "Gabriel", "Hana", "Hugo",
    "Ines", "Isaac", "Jamal", "Julia", "Kai", "Kenji", "Laila", "Lars", "Leila", "Liam",
    "Lucia", "Malik", "Maria", "Mateo", "Maya", "Mei", "Mila", "Nadia", "Noah", "Nora",
    "Olga", "Omar", "Pablo", "Quinn", "Rafael", "Rania", "Ravi", "Rosa", "Sami", "Sara",
    "Sofia", "Tariq", "Theo", "Uma", "Victor", "Wen", "Yara", "Yusuf", "Zara", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Abbott", "Adeyemi", "Andersen", "Bauer", "Becker", "Bianchi", "Brennan", "Castro", "Chandra",
    "Costa", "Dubois", "Eriksen", "Fischer", "Fontaine", "Garcia", "Haddad", "Hansen", "Hoffmann",
    "Ibrahim", "Ivanova", "Jansen", "Kaur", "Kim", "Kowalski", "Larsen", "Lopez", "Martin", "Moreau",
    "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Petrov", "Quinn", "Rossi",
    "Santos", "Schmidt", "Silva", "Singh", "Sorensen", "Tanaka", "Torres", "Usman", "Varga", "Vogel",
    "Walsh", "Wang", "Weber", "Yamamoto", "Yilmaz", "Zhang", "Zimmermann",
)  # fmt: skip

STAGE_NOTES = {
    Stage.PROBLEM: (
        "Product created from the quarterly discovery review.",
        "Idea raised by customer success.",
    ),
    Stage.OPPORTUNITY: (
        "Problem statement and personas signed off.",
        "Pain points confirmed in twelve customer interviews.",
    ),
    Stage.RESEARCH: (
        "Opportunity sized and goals agreed with the director.",
        "Market sizing approved at the portfolio review.",
    ),
    Stage.MVP: (
        "Two hypotheses validated by experiments; MVP scope agreed.",
        "Prototype tests convincing enough to build.",
    ),
    Stage.FEEDBACK: ("MVP launched to a pilot group.", "Beta live with the first design partners."),
    Stage.STRATEGY: (
        "Feedback loop running; top requests triaged.",
        "Retention of pilot users above the gate threshold.",
    ),
    Stage.EXECUTION: (
        "Roadmap approved for the next two quarters.",
        "Strategy signed off; releases planned.",
    ),
}
BACKWARD_NOTE = "Back a stage: feedback showed the core flow needs rework."

# Typical days a product spends in a stage before moving on (the current stage gets its own range).
STAGE_DAYS = {
    Stage.PROBLEM: (10, 35),
    Stage.OPPORTUNITY: (10, 40),
    Stage.RESEARCH: (14, 50),
    Stage.MVP: (30, 90),
    Stage.FEEDBACK: (21, 60),
    Stage.STRATEGY: (10, 35),
    Stage.EXECUTION: (30, 300),
}

# Planned budget range per stage, in thousands of euros.
STAGE_BUDGET_K = {
    Stage.PROBLEM: (20, 80),
    Stage.OPPORTUNITY: (40, 150),
    Stage.RESEARCH: (80, 250),
    Stage.MVP: (150, 600),
    Stage.FEEDBACK: (200, 800),
    Stage.STRATEGY: (250, 900),
    Stage.EXECUTION: (400, 3000),
}

# Volume KPIs of a young product are a fraction of a mature one's.
STAGE_VOLUME = {
    Stage.PROBLEM: 0.2,
    Stage.OPPORTUNITY: 0.3,
    Stage.RESEARCH: 0.4,
    Stage.MVP: 0.6,
    Stage.FEEDBACK: 0.8,
    Stage.STRATEGY: 0.9,
    Stage.EXECUTION: 1.2,
}

STAGE_WEIGHTS = (12, 12, 14, 16, 14, 12, 20)
MARKET_WEIGHTS = (55, 45)
FOCUS_WEIGHTS = (35, 30, 22, 13)
MEMBER_COUNT_WEIGHTS = {1: 30, 2: 35, 3: 20, 4: 15}
LADDER = (Role.INTERN, Role.ASSOCIATE_PM, Role.JUNIOR_PM, Role.PM, Role.SENIOR_PM, Role.PRODUCT_OWNER)
LADDER_WEIGHTS = (8, 12, 18, 28, 16, 18)
OWNER_ROLES = (Role.PM, Role.SENIOR_PM, Role.PRODUCT_OWNER)


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

    @property
    def tolerance_fraction(self) -> float:
        return self.tolerance / 100


H, L = Direction.HIGHER, Direction.LOWER
SUM, AVG, MIN, MAX = Aggregation.SUM, Aggregation.AVG, Aggregation.MIN, Aggregation.MAX
T_SUM, T_AVG, T_LAST = TimeAggregation.SUM, TimeAggregation.AVG, TimeAggregation.LAST
MONTHLY = Frequency.MONTHLY

KPIS: tuple[KPISpec, ...] = (
    KPISpec("Revenue", "€", "Net revenue booked in the period.", H, SUM, T_SUM, 25_000, 10,
            is_key=True, decimals=2, volume=True, noise=0.06, drift=0.03),
    KPISpec("Monthly active users", "users", "Distinct users active in the trailing 30 days.", H, SUM, T_LAST,
            12_000, 10, is_key=True, decimals=0, volume=True, noise=0.02, drift=0.015),
    KPISpec("Weekly active users", "users", "Distinct users active in the week.", H, SUM, T_AVG, 5_000, 10,
            decimals=0, volume=True, noise=0.04, drift=0.02),
    KPISpec("New sign-ups", "sign-ups", "Accounts created in the period.", H, SUM, T_SUM, 600, 15,
            decimals=0, volume=True, noise=0.1, drift=0.04),
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
            volume=True, noise=0.1, drift=0.04),
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


# --------------------------------------------------------------------------------------------------
# The plan: the whole organisation, decided in memory
# --------------------------------------------------------------------------------------------------


@dataclass
class PersonPlan:
    username: str
    first_name: str
    last_name: str
    role: str
    title: str
    date_joined: dt.datetime
    home: int | None = None  # index into PORTFOLIOS of the portfolio the person works in
    is_superuser: bool = False


@dataclass(frozen=True)
class TransitionPlan:
    from_stage: str
    to_stage: str
    at: dt.datetime
    by: str
    note: str


@dataclass(frozen=True)
class MemberPlan:
    username: str
    role: str
    joined_at: dt.datetime


@dataclass
class ProductPlan:
    slug: str
    name: str
    description: str
    portfolio: int
    market: str
    focus: str
    stage: str
    planned_budget: Decimal
    actual_spend: Decimal
    profile: str  # the health the product's latest KPI values add up to
    size: float  # scales volume KPIs
    owner: str = ""
    transitions: list[TransitionPlan] = field(default_factory=list)
    members: list[MemberPlan] = field(default_factory=list)
    targets: list[tuple[str, float]] = field(default_factory=list)  # (KPI name, target), in KPIS order


@dataclass
class OrganisationPlan:
    today: dt.date
    people: list[PersonPlan]
    directors: list[str]  # username per portfolio, in PORTFOLIOS order
    products: list[ProductPlan]
    # Per KPI (KPIS order): how far, in tolerances, the organisation improved over the window
    # (negative: it got worse). Gives the rollup history a story rather than a flat line.
    kpi_trends: list[float]
    troubled_kpis: list[tuple[int, ...]]  # per portfolio: indexes into KPIS


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


def demo_plan(*, products: int, seed: int, today: dt.date) -> OrganisationPlan:
    """Decide the whole organisation for ``products`` products, without touching the database.

    Who and what depend on ``seed`` alone; ``today`` only places the histories in time.
    """
    rng = random.Random(f"spm-demo:{seed}")
    people, directors = _plan_people(rng, product_count=products, today=today)
    product_plans = _plan_products(rng, count=products)
    _assign_owners_and_members(rng, products=product_plans, people=people, today=today)
    for product in product_plans:
        product.transitions = _plan_transitions(rng, product=product, directors=directors, today=today)
        _plan_targets(rng, product)
    kpi_trends = [rng.gauss(1.2, 0.6) if rng.random() < 0.75 else rng.gauss(-0.8, 0.4) for _ in KPIS]
    troubled = [tuple(sorted(rng.sample(range(len(KPIS)), TROUBLED_KPIS_PER_PORTFOLIO))) for _ in PORTFOLIOS]
    return OrganisationPlan(
        today=today,
        people=people,
        directors=directors,
        products=product_plans,
        kpi_trends=kpi_trends,
        troubled_kpis=troubled,
    )


def spread[T](rng: random.Random, values: Sequence[T], weights: Sequence[float], count: int) -> list[T]:
    """``count`` values in random order: each value at least once when ``count`` allows, the rest by weight."""
    chosen = list(values[:count])
    chosen += rng.choices(values, weights=weights, k=count - len(chosen))
    rng.shuffle(chosen)
    return chosen


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A working-hours moment (UTC) on ``day``."""
    return dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randrange(0, 60, 5)), tzinfo=dt.UTC)


def _plan_people(
    rng: random.Random, *, product_count: int, today: dt.date
) -> tuple[list[PersonPlan], list[str]]:
    def joined(low: int, high: int) -> dt.datetime:
        return _at(today - dt.timedelta(days=rng.randint(low, high)), rng)

    portfolio_names = [spec.name for spec in PORTFOLIOS]
    # The demo logins: fixed names, fixed roles. ``director`` directs the first two portfolios.
    people = [
        PersonPlan(
            "admin", "Morgan", "Vance", Role.VP, "VP of product", joined(1500, 2000), is_superuser=True
        ),
        PersonPlan(
            "director",
            "Dana",
            "Okafor",
            Role.DIRECTOR,
            f"Director of product, {' & '.join(portfolio_names[:2])}",
            joined(900, 1500),
        ),
        PersonPlan("pm", "Priya", "Menon", Role.PM, f"PM, {portfolio_names[0]}", joined(300, 900), home=0),
        PersonPlan(
            "junior",
            "Jonas",
            "Weber",
            Role.JUNIOR_PM,
            f"Junior PM, {portfolio_names[0]}",
            joined(30, 200),
            home=0,
        ),
    ]
    taken = {(p.first_name, p.last_name) for p in people}

    def person(role: str, title: str, home: int | None, days: tuple[int, int]) -> PersonPlan:
        first, last = _unique_name(rng, taken)
        return PersonPlan(
            _unique_username(first, last, people), first, last, role, title, joined(*days), home=home
        )

    directors = ["director", "director"]
    for name in portfolio_names[2:]:
        director = person(Role.DIRECTOR, f"Director of product, {name}", None, (700, 1800))
        people.append(director)
        directors.append(director.username)
    people.append(person(Role.VP, "VP of product, Platform and Data", None, (1000, 2000)))

    ladder_count = max(product_count // 4 - len(people), len(LADDER))
    homes = spread(rng, range(len(PORTFOLIOS)), [spec.weight for spec in PORTFOLIOS], ladder_count)
    for role, home in zip(spread(rng, LADDER, LADDER_WEIGHTS, ladder_count), homes, strict=True):
        title = f"{Role(role).label}, {portfolio_names[home]}"
        people.append(person(role, title, home, (20, 1500)))
    return people, directors


def _unique_name(rng: random.Random, taken: set[tuple[str, str]]) -> tuple[str, str]:
    for _ in range(50):
        name = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        if name not in taken:
            taken.add(name)
            return name
    # Thousands of people: the combinations run out, so names repeat and usernames get a number.
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _unique_username(first: str, last: str, people: Sequence[PersonPlan]) -> str:
    base = f"{first}.{last}".lower()
    existing = {p.username for p in people}
    username, number = base, 2
    while username in existing:
        username, number = f"{base}{number}", number + 1
    return username


def _plan_products(rng: random.Random, *, count: int) -> list[ProductPlan]:
    portfolios = spread(rng, range(len(PORTFOLIOS)), [spec.weight for spec in PORTFOLIOS], count)
    stages = spread(rng, list(Stage), STAGE_WEIGHTS, count)
    markets = spread(rng, list(Market), MARKET_WEIGHTS, count)
    focuses = spread(rng, list(Focus), FOCUS_WEIGHTS, count)
    names = {index: _name_pool(rng, spec) for index, spec in enumerate(PORTFOLIOS)}
    used_slugs: set[str] = set()
    plans = []
    for portfolio, stage, market, focus in zip(portfolios, stages, markets, focuses, strict=True):
        name, what = _next_name(names[portfolio], used_slugs)
        low, high = STAGE_BUDGET_K[stage]
        planned = Decimal(rng.randint(low // 5, high // 5) * 5_000)
        # Most products are under budget so far; some have overspent.
        ratio = rng.uniform(1.0, 1.3) if rng.random() < 0.12 else rng.uniform(0.25, 0.95)
        plans.append(
            ProductPlan(
                slug=slugify(name),
                name=name,
                description=f"{what}, built for {rng.choice(AUDIENCES[market])}.",
                portfolio=portfolio,
                market=market.value,
                focus=focus.value,
                stage=stage.value,
                planned_budget=planned.quantize(Decimal("0.01")),
                actual_spend=(planned * Decimal(f"{ratio:.6f}")).quantize(Decimal("0.01")),
                profile=rng.choices(list(PROFILE_WEIGHTS), weights=list(PROFILE_WEIGHTS.values()))[0],
                size=math.exp(rng.gauss(0, 0.6)) * STAGE_VOLUME[stage],
            )
        )
    return plans


def _name_pool(rng: random.Random, spec: PortfolioSpec) -> Iterator[tuple[str, str]]:
    """Endless product names for one portfolio: every prefix/noun pair once, then numbered ones."""
    pairs = [(prefix, noun, what) for prefix in NAME_PREFIXES for noun, what in spec.products]
    rng.shuffle(pairs)
    round_number = 1
    while True:
        for prefix, noun, what in pairs:
            suffix = "" if round_number == 1 else f" {round_number}"
            yield f"{prefix} {noun}{suffix}", what
        round_number += 1


def _next_name(pool: Iterator[tuple[str, str]], used_slugs: set[str]) -> tuple[str, str]:
    for name, what in pool:
        slug = slugify(name)
        if slug not in used_slugs:
            used_slugs.add(slug)
            return name, what
    raise AssertionError("name pools are endless")  # pragma: no cover


def _assign_owners_and_members(
    rng: random.Random, *, products: list[ProductPlan], people: list[PersonPlan], today: dt.date
) -> None:
    """Owners are PM-level people of the product's portfolio; members come from the same team.

    ``pm`` owns several products in the first portfolio and is a member of others; ``junior`` is a
    member of a few and owns none. Neither is picked at random, so their numbers are as planned.
    """
    count = len(products)
    pm_owns = min(max(count // 20, 4), 8, max(count // 2, 1))
    first_portfolio_first = sorted(range(count), key=lambda index: products[index].portfolio != 0)
    pm_owned = set(first_portfolio_first[:pm_owns])

    ladder = [p for p in people if p.home is not None and p.username not in {"pm", "junior"}]
    owners_by_home = {
        home: [p.username for p in ladder if p.home == home and p.role in OWNER_ROLES]
        for home in range(len(PORTFOLIOS))
    }
    all_owners = [p.username for p in ladder if p.role in OWNER_ROLES]
    team_by_home = {home: [p for p in ladder if p.home == home] for home in range(len(PORTFOLIOS))}
    next_owner = dict.fromkeys(owners_by_home, 0)
    for home in owners_by_home:
        rng.shuffle(owners_by_home[home])

    for index, product in enumerate(products):
        if index in pm_owned:
            product.owner = "pm"
        else:
            # Round-robin within the portfolio keeps every owner's load even.
            candidates = owners_by_home[product.portfolio] or all_owners
            product.owner = candidates[next_owner[product.portfolio] % len(candidates)]
            next_owner[product.portfolio] += 1
        team = [p for p in team_by_home[product.portfolio] if p.username != product.owner]
        if len(team) < 4:
            team += [p for p in ladder if p.home != product.portfolio and p.username != product.owner]
        size = rng.choices(list(MEMBER_COUNT_WEIGHTS), weights=list(MEMBER_COUNT_WEIGHTS.values()))[0]
        product.members = [
            MemberPlan(p.username, p.role, joined_at=_at(_joined_day(rng, today), rng))
            for p in rng.sample(team, min(size, len(team)))
        ]

    others = [index for index in first_portfolio_first if index not in pm_owned]
    pm_member_of = others[: min(3, len(others))]
    junior_member_of = sorted(pm_owned)[:2] + pm_member_of[:1]
    if len(junior_member_of) < 3:
        junior_member_of += [i for i in others if i not in junior_member_of][: 3 - len(junior_member_of)]
    for username, role, indexes in (
        ("pm", Role.PM, pm_member_of),
        ("junior", Role.JUNIOR_PM, junior_member_of),
    ):
        for index in indexes:
            product = products[index]
            if len(product.members) >= 4:
                product.members.pop(rng.randrange(len(product.members)))
            joined_at = _at(_joined_day(rng, today), rng)
            product.members.append(MemberPlan(username, role, joined_at=joined_at))


def _joined_day(rng: random.Random, today: dt.date) -> dt.date:
    # Within the last year, never today; _plan_transitions moves it to the product's creation if earlier.
    return today - dt.timedelta(days=rng.randint(1, 365))


def _plan_transitions(
    rng: random.Random, *, product: ProductPlan, directors: list[str], today: dt.date
) -> list[TransitionPlan]:
    """The stage history: "" -> problem -> ... -> the current stage, sometimes with one step back."""
    stages = list(Stage)
    current = Stage(product.stage)
    path = stages[: current.position + 1]
    if current.position >= 3 and rng.random() < 0.12:
        # One step back and forward again, e.g. feedback -> mvp -> feedback.
        back = rng.randint(3, current.position)
        path = [*path[: back + 1], stages[back - 1], *path[back:]]

    low, high = STAGE_DAYS[current]
    days_in_current = rng.randint(max(1, low // 3), int(high * 1.5))
    durations = [rng.randint(*STAGE_DAYS[stage]) for stage in path[:-1]]
    days_ago = days_in_current + sum(durations)
    transitions = []
    previous = ""
    for step, stage in enumerate(path):
        forward = not previous or Stage(previous).position < stage.position
        approver = directors[product.portfolio]
        by = approver if stage in (Stage.STRATEGY, Stage.EXECUTION) and rng.random() < 0.3 else product.owner
        transitions.append(
            TransitionPlan(
                from_stage=previous,
                to_stage=stage.value,
                at=_at(today - dt.timedelta(days=days_ago), rng),
                by=by,
                note=rng.choice(STAGE_NOTES[stage]) if forward else BACKWARD_NOTE,
            )
        )
        previous = stage.value
        if step < len(durations):
            days_ago -= durations[step]
    # Members cannot join before the product existed.
    created = transitions[0].at
    product.members = [
        member if member.joined_at >= created else MemberPlan(member.username, member.role, created)
        for member in product.members
    ]
    return transitions


def _plan_targets(rng: random.Random, product: ProductPlan) -> None:
    """Own targets for about half the products: volume KPIs sized to the product, a few rates tuned."""
    if rng.random() >= 0.55:
        return
    tuned = set(rng.sample([spec.name for spec in KPIS if not spec.volume], rng.randint(0, 2)))
    for spec in KPIS:
        if spec.volume:
            product.targets.append((spec.name, _round_significant(spec.default_target * product.size, 2)))
        elif spec.name in tuned:
            # Within one tolerance of the default: a team's stretch goal or a known handicap.
            nudged = spec.default_target * (1 + rng.uniform(-1, 1) * spec.tolerance_fraction)
            product.targets.append((spec.name, round(min(nudged, spec.cap or nudged), spec.decimals)))


def _round_significant(value: float, digits: int) -> float:
    if value <= 0:
        return value
    return round(value, digits - 1 - math.floor(math.log10(value)))


# --------------------------------------------------------------------------------------------------
# KPI history
# --------------------------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def demo_periods(*, today: dt.date, months: int, frequency: str) -> list[dt.date]:
    """The periods of the last ``months`` months up to the current one: Mondays, or firsts of months."""
    if frequency == Frequency.MONTHLY:
        return [add_months(today.replace(day=1), -back) for back in range(months - 1, -1, -1)]
    start = add_months(today, -months)
    monday = start + dt.timedelta(days=(7 - start.weekday()) % 7)
    current = today - dt.timedelta(days=today.weekday())
    return [monday + dt.timedelta(weeks=week) for week in range((current - monday).days // 7 + 1)]


def kpi_history(
    rng: random.Random, spec: KPISpec, *, target: float, status: str, periods: int, trend: float = 0.0
) -> list[float]:
    """A plausible series of ``periods`` values whose last value has ``status`` against ``target``.

    A linear trend from an earlier level to the final one (volume KPIs grow; rates moved by about
    ``trend`` tolerances in the good direction), a random walk pinned to zero at both ends (a Brownian
    bridge) for slow wandering, and noise per period. The last value is exact, so the product's
    health comes out as planned.
    """
    sign = 1 if spec.direction == Direction.HIGHER else -1
    tolerance = spec.tolerance_fraction
    standing = rng.uniform(*END_BANDS[status])  # in tolerances, positive on the good side of the target
    end = target * (1 + sign * standing * tolerance)
    if spec.volume:
        start = end * math.exp(-rng.gauss(0.25, 0.25))  # most products grew over the window
    else:
        start = target * (1 + sign * (standing - trend + rng.gauss(0, 0.8)) * tolerance)

    # This loop runs a million times for the big portfolio: two uniforms make a bell-shaped step
    # (u1 + u2 - 1 has standard deviation 1/sqrt(6)) at a fraction of random.gauss's cost.
    uniform, drift, noise = rng.random, spec.drift * SQRT_6, spec.noise * SQRT_6
    walk, position = [], 0.0
    for _ in range(periods):
        walk.append(position)
        position += (uniform() + uniform() - 1.0) * drift
    closing, steps = walk[-1], max(periods - 1, 1)
    floor, cap, decimals = spec.floor, spec.cap, spec.decimals
    values = []
    for step in range(periods - 1):
        share = step / steps
        value = (start + (end - start) * share) * (
            1.0 + walk[step] - closing * share + (uniform() + uniform() - 1.0) * noise
        )
        if value < floor:
            value = floor
        elif cap is not None and value > cap:
            value = cap
        values.append(round(value, decimals))
    # Round the last value away from the boundary it must not cross: up when up is its side of the target.
    upward = (sign == 1) == (status == ON_TARGET)
    scale = 10**decimals
    last = (math.ceil if upward else math.floor)(end * scale) / scale
    last = max(last, floor) if cap is None else min(max(last, floor), cap)
    values.append(round(last, decimals))
    return values


def _kpi_statuses(rng: random.Random, profile: str, count: int, troubled: Sequence[int]) -> list[str]:
    """Per-KPI final status for a product: all on target, some at risk, or some off target.

    Misses fall more often on the portfolio's troubled KPIs, so some portfolio rollups turn amber or red.
    """
    statuses = [ON_TARGET] * count
    if profile == ON_TARGET:
        return statuses
    # Weighted sampling without replacement (Efraimidis-Spirakis): the largest u ** (1 / weight) win.
    keys = [rng.random() ** (1 / (TROUBLED_WEIGHT if index in troubled else 1)) for index in range(count)]
    chosen = sorted(range(count), key=keys.__getitem__, reverse=True)[:4]
    if profile == AT_RISK:
        for index in chosen[: rng.randint(1, 3)]:
            statuses[index] = AT_RISK
    else:
        for index in chosen[: rng.randint(1, 2)]:
            statuses[index] = OFF_TARGET
        for index in chosen[2 : 2 + rng.randint(0, 2)]:
            statuses[index] = AT_RISK
    return statuses


def _recorded_at(period: dt.date, frequency: str, anchor: dt.datetime) -> dt.datetime:
    """Values are entered the morning after their period ends (today's values: at the anchor)."""
    end = add_months(period, 1) if frequency == Frequency.MONTHLY else period + dt.timedelta(weeks=1)
    return min(dt.datetime.combine(end, dt.time(9), tzinfo=dt.UTC), anchor)


# --------------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------------


def database_is_empty() -> bool:
    """No users and no portfolio data: seeding would destroy nothing."""
    return not any(model.objects.exists() for model in (User, Portfolio, Product, KPI, Measurement))


def demo_clear() -> None:
    """Delete every row the seeder writes, every user (superusers included) and all recorded history.

    The history goes too: new rows may reuse old ids, and must not inherit their history. The wipe itself
    records none (docs/history.md).
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
    for model in (Measurement, KPITarget, KPI, StageTransition, Membership, Product):
        history = history_model(model)
        history.objects.all()._raw_delete(history.objects.db)
    # The rest is small: the ORM's delete also clears anything other apps hang off these rows.
    with history_paused():
        for model in (KPITarget, StageTransition, Membership, Product, Objective, Portfolio, KPI, User):
            model.objects.all().delete()


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
    objectives = Objective.objects.bulk_create(
        _objectives(random.Random(f"objectives:{seed}"), portfolios, today)
    )
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
    # Each stage's work products: earlier stages mostly done, the current one half done (lifecycle/demo.py).
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
    # Key results, alignments, quarterly budget lines, scores and a draft scenario (docs/strategy.md).
    seed_strategy(
        products=product_rows, portfolios=portfolios, objectives=objectives, kpis=kpis, today=today, seed=seed
    )

    periods = {
        frequency: demo_periods(today=today, months=months, frequency=frequency)
        for frequency in (Frequency.WEEKLY, Frequency.MONTHLY)
    }
    histories = _kpi_histories(
        plan, product_rows=product_rows, kpis=kpis, seed=seed, periods=periods, progress=progress
    )
    measurement_count = _bulk_insert_measurements(histories, periods=periods, anchor=anchor)
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


def _objectives(rng: random.Random, portfolios: list[Portfolio], today: dt.date) -> list[Objective]:
    def quarter_end(quarters_ahead: int) -> dt.date:
        first_of_next = add_months(today.replace(day=1), 3 * quarters_ahead + 3 - (today.month - 1) % 3)
        return first_of_next - dt.timedelta(days=1)

    objectives = [
        Objective(portfolio=None, title=title, order=order, target_date=quarter_end(3))
        for order, title in enumerate(ORGANISATION_OBJECTIVES, start=1)
    ]
    for portfolio, spec in zip(portfolios, PORTFOLIOS, strict=True):
        count = rng.randint(3, min(5, len(spec.objectives)))
        objectives += [
            Objective(
                portfolio=portfolio, title=title, order=order, target_date=quarter_end(rng.randint(0, 3))
            )
            for order, title in enumerate(spec.objectives[:count], start=1)
        ]
    return objectives


# One KPI's history for one product: (product id, KPI id, recorded-by id, frequency, values).
Series = tuple[int, int, int, str, list[float]]


def _kpi_histories(
    plan: OrganisationPlan,
    *,
    product_rows: list[Product],
    kpis: list[KPI],
    seed: int,
    periods: dict[str, list[dt.date]],
    progress: TextIO | None,
) -> Iterator[list[Series]]:
    """Every KPI's history, one list per product (the progress bar counts products)."""
    specs = list(zip(KPIS, kpis, strict=True))
    with tqdm(
        total=len(product_rows), desc="KPI history", unit="product", file=progress, disable=progress is None
    ) as bar:
        for product, plan_product in zip(product_rows, plan.products, strict=True):
            # One generator per product: its history does not depend on the products before it.
            rng = random.Random(f"measurements:{seed}:{plan_product.slug}")
            own_targets = dict(plan_product.targets)
            troubled = plan.troubled_kpis[plan_product.portfolio]
            statuses = _kpi_statuses(rng, plan_product.profile, len(specs), troubled)
            histories = []
            for (spec, kpi), status, trend in zip(specs, statuses, plan.kpi_trends, strict=True):
                target = own_targets.get(spec.name, spec.default_target)
                count = len(periods[spec.frequency])
                values = kpi_history(rng, spec, target=target, status=status, periods=count, trend=trend)
                histories.append((product.pk, kpi.pk, product.owner_id, spec.frequency, values))
            yield histories
            bar.update(1)


MEASUREMENT_COLUMNS = ("product", "kpi", "period", "value", "recorded_at", "recorded_by")


def _bulk_insert_measurements(
    histories: Iterable[list[Series]], *, periods: dict[str, list[dt.date]], anchor: dt.datetime
) -> int:
    """Insert measurements without building model instances: COPY on PostgreSQL, else executemany.

    Rows are built per series from period and timestamp cells prepared once per frequency.
    """
    recorded = {
        frequency: [_recorded_at(period, frequency, anchor) for period in frequency_periods]
        for frequency, frequency_periods in periods.items()
    }
    quote = connection.ops.quote_name
    table = quote(Measurement._meta.db_table)
    columns = ", ".join(quote(Measurement._meta.get_field(name).column) for name in MEASUREMENT_COLUMNS)
    count = 0
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY's text format: tab-separated cells, one line per row, written a product at a time.
            cells = {
                frequency: [
                    (f"{period.isoformat()}\t", f"\t{at.isoformat()}\t")
                    for period, at in zip(periods[frequency], recorded[frequency], strict=True)
                ]
                for frequency in periods
            }
            with (
                _foreign_keys_checked_once(cursor, Measurement._meta.db_table),
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for product_histories in histories:
                    lines = []
                    for product_id, kpi_id, recorded_by_id, frequency, values in product_histories:
                        head, tail = f"{product_id}\t{kpi_id}\t", f"{recorded_by_id}\n"
                        lines += [
                            f"{head}{period}{value!r}{at}{tail}"
                            for (period, at), value in zip(cells[frequency], values, strict=True)
                        ]
                        count += len(values)
                    copy.write("".join(lines))
            return count
        ops = connection.ops
        adapted = {
            frequency: (
                [ops.adapt_datefield_value(period) for period in periods[frequency]],
                [ops.adapt_datetimefield_value(at) for at in recorded[frequency]],
            )
            for frequency in periods
        }
        # Identifiers come from the model's meta; the values are parameters.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(MEASUREMENT_COLUMNS))})"  # noqa: S608
        pending: list[tuple] = []
        for product_histories in histories:
            for product_id, kpi_id, recorded_by_id, frequency, values in product_histories:
                days, ats = adapted[frequency]
                n = len(values)
                pending += zip(
                    repeat(product_id, n),
                    repeat(kpi_id, n),
                    days,
                    values,
                    ats,
                    repeat(recorded_by_id, n),
                    strict=True,
                )
            if len(pending) >= SQLITE_CHUNK_ROWS:
                cursor.executemany(sql, pending)
                count += len(pending)
                pending = []
        if pending:
            cursor.executemany(sql, pending)
            count += len(pending)
    return count


@contextmanager
def _foreign_keys_checked_once(cursor: CursorWrapper, table: str) -> Iterator[None]:
    """PostgreSQL: drop ``table``'s foreign keys for a bulk load and add them back afterwards.

    Checked row by row, three foreign keys on 1M rows cost about 9 s at commit; added back, each is
    validated by one join (https://www.postgresql.org/docs/current/populate.html#POPULATE-RM-FKEYS).
    It all happens inside the seeding transaction, so no one ever sees the table without them.
    ALTER TABLE refuses tables with pending deferred checks (rows written earlier in this
    transaction), so those checks run first and constraints are deferred again afterwards.
    """
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    foreign_keys = cursor.fetchall()
    quote = connection.ops.quote_name
    for name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
    yield
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")


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
