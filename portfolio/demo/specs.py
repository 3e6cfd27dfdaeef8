"""What the demo organisation is made of: its portfolios, objectives, names and stages (its KPIs and how their
histories end: ``portfolio.demo.kpi_specs``)."""

from __future__ import annotations

from dataclasses import dataclass

from products.choices import Market, Role, Stage

# --------------------------------------------------------------------------------------------------
# The vocabulary: portfolios, objectives, names
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
