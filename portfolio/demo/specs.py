"""What the demo organisation is made of: its portfolios, names, stages and KPIs."""

from __future__ import annotations

import math
from dataclasses import dataclass

from portfolio.choices import Aggregation, Direction, Frequency, TimeAggregation
from products.choices import Market, Role, Stage

# --------------------------------------------------------------------------------------------------
# The vocabulary: portfolios, objectives, KPIs, names
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveSpec:
    title: str
    kpis: tuple[str, ...]  # the KPIs that measure it: its key results, the first always


@dataclass(frozen=True)
class PortfolioSpec:
    name: str
    description: str
    weight: int  # share of the products
    products: tuple[tuple[str, str], ...]  # (name noun, what it does)
    objectives: tuple[ObjectiveSpec, ...]
    # How its products and key results end, in percent: on target, at risk, off target (PROFILE_WEIGHTS).
    health: tuple[int, int, int]


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
        health=(55, 28, 17),
        objectives=(
            ObjectiveSpec(
                "Raise payment authorisation rate to 95%",
                ("Conversion rate", "Revenue"),
            ),
            ObjectiveSpec(
                "Cut checkout abandonment by a quarter",
                ("Conversion rate", "Page load time (p95)"),
            ),
            ObjectiveSpec(
                "Launch instant payouts in five new markets",
                ("Revenue", "New sign-ups"),
            ),
            ObjectiveSpec(
                "Halve fraud losses as a share of volume",
                ("Support tickets", "Churn rate"),
            ),
            ObjectiveSpec(
                "Reconcile every ledger entry within one day",
                ("Cycle time", "Defects opened"),
            ),
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
        health=(62, 24, 14),
        objectives=(
            ObjectiveSpec(
                "Grow monthly active users by 30%",
                ("Monthly active users", "Weekly active users"),
            ),
            ObjectiveSpec(
                "Lift trial-to-paid conversion to 8%",
                ("Conversion rate", "ARPU"),
            ),
            ObjectiveSpec(
                "Bring 90-day churn below 3%",
                ("Churn rate", "30-day retention"),
            ),
            ObjectiveSpec(
                "Make referrals a fifth of new sign-ups",
                ("New sign-ups", "Customer acquisition cost (CAC)"),
            ),
            ObjectiveSpec(
                "Reach an activation rate of 50% in week one",
                ("Activation rate", "Feature adoption"),
            ),
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
        health=(70, 20, 10),
        objectives=(
            ObjectiveSpec(
                "Reach 99.95% availability on every shared service",
                ("Uptime", "Mean time to recovery"),
            ),
            ObjectiveSpec(
                "Cut lead time for changes to under two days",
                ("Lead time for changes", "Cycle time"),
            ),
            ObjectiveSpec(
                "Move every team to self-service deployments",
                ("Deployment frequency", "Lead time for changes"),
            ),
            ObjectiveSpec(
                "Retire the legacy monolith's identity code",
                ("Defects opened", "Support tickets"),
            ),
            ObjectiveSpec(
                "Halve mean time to recovery",
                ("Mean time to recovery", "Uptime"),
            ),
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
        health=(50, 30, 20),
        objectives=(
            ObjectiveSpec(
                "Keep a 4.7-star rating in both app stores",
                ("Customer satisfaction (CSAT)", "Net Promoter Score"),
            ),
            ObjectiveSpec(
                "Reach 99.8% crash-free sessions",
                ("Uptime", "Defects opened"),
            ),
            ObjectiveSpec(
                "Ship a release every two weeks",
                ("Deployment frequency", "Cycle time"),
            ),
            ObjectiveSpec(
                "Make half of all orders mobile",
                ("Revenue", "Monthly active users"),
            ),
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
        health=(60, 25, 15),
        objectives=(
            ObjectiveSpec(
                "Put a model behind every personalised surface",
                ("Feature adoption", "Conversion rate"),
            ),
            ObjectiveSpec(
                "Give every team trusted self-service data",
                ("Customer satisfaction (CSAT)", "Support tickets"),
            ),
            ObjectiveSpec(
                "Make recommendations drive a tenth of revenue",
                ("Revenue", "ARPU"),
            ),
            ObjectiveSpec(
                "Run 200 experiments a quarter",
                ("Deployment frequency", "Conversion rate"),
            ),
            ObjectiveSpec(
                "Ship responsible-AI reviews for every model",
                ("Defects opened", "Customer satisfaction (CSAT)"),
            ),
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
        health=(58, 27, 15),
        objectives=(
            ObjectiveSpec(
                "Onboard 5,000 new sellers",
                ("New sign-ups", "Activation rate"),
            ),
            ObjectiveSpec(
                "Deliver 90% of orders within two days",
                ("Cycle time", "Customer satisfaction (CSAT)"),
            ),
            ObjectiveSpec(
                "Cut dispute rate below 0.5%",
                ("Support tickets", "Net Promoter Score"),
            ),
            ObjectiveSpec(
                "Grow ads revenue to a tenth of the take",
                ("Revenue", "ARPU"),
            ),
        ),
    ),
)

ORGANISATION_OBJECTIVES = (
    ObjectiveSpec(
        "Grow net revenue retention to 115%",
        ("Revenue", "Churn rate", "Customer lifetime value (LTV)"),
    ),
    ObjectiveSpec(
        "Every product passes its next stage gate on time",
        ("Cycle time", "Deployment frequency"),
    ),
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
