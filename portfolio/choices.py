"""The KPI and rollup vocabulary: direction, aggregation across products and over time, frequency,
rollup scope, grain and status. Stored values are contracts (URLs, CSV); ``portfolio.models`` re-exports them."""

from django.db import models


class Direction(models.TextChoices):
    HIGHER = "higher", "Higher is better"
    LOWER = "lower", "Lower is better"


class Aggregation(models.TextChoices):
    """How one period's values of several products combine."""

    SUM = "sum", "Sum"
    AVG = "avg", "Average"
    MIN = "min", "Minimum"
    MAX = "max", "Maximum"


class TimeAggregation(models.TextChoices):
    """How one product's values over several periods combine (a month of weekly values)."""

    SUM = "sum", "Sum"
    AVG = "avg", "Average"
    LAST = "last", "Latest"


class Frequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"


class Scope(models.TextChoices):
    ORGANISATION = "organisation", "Organisation"
    PORTFOLIO = "portfolio", "Portfolio"
    STAGE = "stage", "Stage"
    MARKET = "market", "Market"
    FOCUS = "focus", "Focus"
    OWNER = "owner", "Owner"


class Grain(models.TextChoices):
    NATIVE = "native", "Native period"
    MONTH = "month", "Month"
    QUARTER = "quarter", "Quarter"


class Horizon(models.IntegerChoices):
    """Which period a stored forecast is of: the KPI's current period at its grain, or the one after it."""

    CURRENT = 0, "Current period"
    NEXT = 1, "Next period"


class Status(models.TextChoices):
    ON_TARGET = "on_target", "On target"
    AT_RISK = "at_risk", "At risk"
    OFF_TARGET = "off_target", "Off target"
    NO_TARGET = "no_target", "No target"


class EventKind(models.TextChoices):
    """What a notification is about (the catalogue: ``portfolio.alerts.catalogue``). Stored values are contracts
    (the inbox's filter in URLs)."""

    HEALTH_WORSE = "health_worse", "Product health got worse"
    PRODUCT_STUCK = "product_stuck", "Product stuck in its stage"
    FORECAST_MISS = "forecast_miss", "KPI forecast to miss its target"
    KPI_WORSE = "kpi_worse", "A portfolio's KPI got worse"
    BUDGET_BURN = "budget_burn", "Budget burn off plan"
    ROADMAP_LATE = "roadmap_late", "Roadmap item, release or milestone late"
    KEY_RESULT_OFF = "key_result_off", "Key result off target"
    STAGE_MOVED = "stage_moved", "Stage move"
    GATE_OVERRIDDEN = "gate_overridden", "Gate overridden"
    SCENARIO_CREATED = "scenario_created", "Scenario awaiting approval"
    SCENARIO_APPROVED = "scenario_approved", "Scenario approved"
    SCENARIO_DISCARDED = "scenario_discarded", "Scenario discarded"
    IMPORT_FINISHED = "import_finished", "Import finished"
    IMPORT_FAILED = "import_failed", "Import failed"


class EmailMode(models.TextChoices):
    """How a person hears about one kind of event beyond the inbox (``AlertSettings.modes``)."""

    INBOX = "inbox", "Inbox only"
    IMMEDIATE = "immediate", "Email at once"
    DIGEST = "digest", "In my digest"


class DigestFrequency(models.TextChoices):
    NEVER = "never", "No digest"
    DAILY = "daily", "Daily, at 08:00"
    WEEKLY = "weekly", "Weekly, Mondays at 08:00"
