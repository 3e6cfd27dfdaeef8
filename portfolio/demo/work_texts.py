"""The words the demo's lifecycle work products are made of."""

from __future__ import annotations

from lifecycle.models import (
    Sentiment,
)

PAINS = [
    "Reconciling {noun} by hand takes days every month",
    "Customers cannot see where their {noun} stands",
    "Errors in {noun} are found only after they cost money",
    "Onboarding a new team to {noun} takes weeks",
    "Reports on {noun} are out of date when they arrive",
    "Every {noun} change needs a ticket to another team",
]
NOUNS = ["invoices", "orders", "shipments", "claims", "subscriptions", "payouts", "bookings", "tickets"]
PERSONAS = [
    ("Finance lead", "Owns month-end close; measured on accuracy and speed."),
    ("Operations manager", "Runs a team of 10-30; lives in spreadsheets."),
    ("Small-business owner", "Does everything herself; has ten minutes a day for admin."),
    ("IT administrator", "Keeps the tools running; cares about access and audit."),
    ("Frequent customer", "Uses the product weekly from a phone."),
]
COMPETITORS = [
    ("Legacy ERP suite", "Slow to change, priced for enterprises only"),
    ("Spreadsheet templates", "Free but error-prone, no audit trail"),
    ("Niche start-up", "Good UX, no integrations with the tools customers already use"),
    ("In-house tools", "Built once, never maintained"),
]
HYPOTHESES = [
    "Automating the matching step halves the time spent on {noun}",
    "A self-service portal removes most support calls about {noun}",
    "Customers will pay for real-time alerts on {noun}",
    "A mobile-first flow doubles weekly use for {noun}",
]
THEMES = ["Speed", "Ease of use", "Pricing", "Integrations", "Reliability", "Reporting"]
FEEDBACK = {
    Sentiment.POSITIVE: [
        "Saves us hours every week.",
        "Setup was quicker than we expected.",
        "The new report is exactly what finance needed.",
    ],
    Sentiment.NEUTRAL: [
        "Works, but we still export to spreadsheets.",
        "Fine for now; we need the API before we roll out further.",
    ],
    Sentiment.NEGATIVE: [
        "Too slow with our data volume.",
        "Pricing is hard to justify for a small team.",
        "Missing the integration with our accounting tool.",
    ],
}
ROADMAP = [
    "Public API",
    "Bulk import",
    "Role-based access",
    "Mobile app",
    "Usage-based pricing",
    "EU data residency",
]


OVERRIDE_REASONS = [
    "Board wants the pilot in market before the quarter ends; the missing work follows in the next stage.",
    "Strategic bet agreed with the VP: a competitor launches next month.",
    "The criterion does not fit this internal tool; agreed with the portfolio's director.",
]
