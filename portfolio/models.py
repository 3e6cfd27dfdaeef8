"""Portfolios, objectives, KPI definitions, targets, measurements and rollups."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from products.history import history_user_or
from products.models import Health, choice_check


class Portfolio(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    director = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="directed_portfolios",
    )
    budget = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="portfolio_budget_non_negative"),
            models.CheckConstraint(condition=~Q(slug=""), name="portfolio_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return f"/?portfolio={self.slug}"


class Objective(models.Model):
    """A strategic objective of one portfolio, or of the whole organisation when ``portfolio`` is empty."""

    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, null=True, blank=True, related_name="objectives"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    target_date = models.DateField(null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["portfolio__name", "order", "title"]

    def __str__(self) -> str:
        return self.title


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


class KPI(models.Model):
    name = models.CharField(max_length=80, unique=True)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=20, blank=True, help_text="e.g. €, %, users, days")
    direction = models.CharField(max_length=6, choices=Direction.choices, default=Direction.HIGHER)
    aggregation = models.CharField(max_length=3, choices=Aggregation.choices, default=Aggregation.SUM)
    time_aggregation = models.CharField(
        max_length=4, choices=TimeAggregation.choices, default=TimeAggregation.SUM
    )
    default_target = models.FloatField(null=True, blank=True, help_text="Per product and period.")
    tolerance = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal("10"),
        validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Percent. Within this distance of the target a KPI is at risk rather than off target.",
    )
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY)
    is_key = models.BooleanField(default=False, help_text="Shown as the key KPI in product lists.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = "KPI"
        verbose_name_plural = "KPIs"
        constraints = [
            models.CheckConstraint(
                condition=Q(tolerance__gte=0, tolerance__lte=100), name="kpi_tolerance_percent"
            ),
            models.CheckConstraint(
                condition=choice_check("direction", Direction), name="kpi_direction_valid"
            ),
            models.CheckConstraint(
                condition=choice_check("aggregation", Aggregation), name="kpi_aggregation_valid"
            ),
            models.CheckConstraint(
                condition=choice_check("time_aggregation", TimeAggregation), name="kpi_time_aggregation_valid"
            ),
            models.CheckConstraint(
                condition=choice_check("frequency", Frequency), name="kpi_frequency_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="kpi_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class KPITarget(models.Model):
    """A product's own target for a KPI, per period; overrides the KPI's default target."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="kpi_targets")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="targets")
    target = models.FloatField()
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency, as on Product: a save loaded with an older version is refused as a conflict.
    version = models.PositiveIntegerField(default=1)

    history = HistoricalRecords()

    class Meta:
        ordering = ["kpi", "product"]
        verbose_name = "KPI target"
        constraints = [
            models.UniqueConstraint(fields=["product", "kpi"], name="kpi_target_unique_per_product")
        ]

    def __str__(self) -> str:
        return f"{self.kpi} target for {self.product}: {self.target:g}"


class Measurement(models.Model):
    """One value of one KPI for one product and one period (keyed by the period's first day)."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="measurements")
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, related_name="measurements")
    period = models.DateField(help_text="First day of the period the value is for.")
    value = models.FloatField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # Without a signed-in user (a command, an import), the person who recorded the value.
    history = HistoricalRecords(get_user=history_user_or("recorded_by"))

    class Meta:
        ordering = ["-period", "product", "kpi"]
        get_latest_by = "period"
        # (period, id): the newest-first measurement list reads its pages from this index alone.
        indexes = [models.Index(fields=["kpi", "period"]), models.Index(fields=["period", "id"])]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "kpi", "period"], name="measurement_unique_per_product_kpi_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kpi} for {self.product} on {self.period:%Y-%m-%d}: {self.value:g}"


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


class Status(models.TextChoices):
    ON_TARGET = "on_target", "On target"
    AT_RISK = "at_risk", "At risk"
    OFF_TARGET = "off_target", "Off target"
    NO_TARGET = "no_target", "No target"


class Rollup(models.Model):
    """The aggregate of one KPI over one scope and one period at one grain, and when it was computed."""

    scope = models.CharField(max_length=12, choices=Scope.choices)
    scope_key = models.CharField(max_length=150)
    # Derived rows, rewritten in bulk: no database-level foreign key to check per inserted row, and no index of
    # its own to update per row (readers use the unique index below; deleting a KPI, rare, scans). Django still
    # deletes a KPI's rollups with the KPI.
    kpi = models.ForeignKey(
        KPI, on_delete=models.CASCADE, related_name="rollups", db_constraint=False, db_index=False
    )
    grain = models.CharField(max_length=7, choices=Grain.choices)
    period = models.DateField()
    value = models.FloatField()
    target = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    products = models.PositiveIntegerField()
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kpi", "scope", "scope_key", "grain", "period"]
        get_latest_by = "computed_at"
        constraints = [
            # Also the index every reader uses: scope and grain first, then KPI and period.
            models.UniqueConstraint(
                fields=["scope", "grain", "kpi", "period", "scope_key"], name="rollup_unique_per_scope_period"
            ),
            models.CheckConstraint(condition=choice_check("scope", Scope), name="rollup_scope_valid"),
            models.CheckConstraint(condition=choice_check("grain", Grain), name="rollup_grain_valid"),
            models.CheckConstraint(condition=choice_check("status", Status), name="rollup_status_valid"),
            models.CheckConstraint(condition=Q(products__gt=0), name="rollup_has_products"),
            models.CheckConstraint(
                condition=Q(target__isnull=False) | Q(status="no_target"), name="rollup_status_needs_target"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} · {self.scope}={self.scope_key} · {self.grain} {self.period:%Y-%m-%d}"


class StaleRollup(models.Model):
    """A mark that some rollups no longer match their measurements: one KPI's buckets around one native period,
    or one scope's rollups for some keys (a product moved from one stage to another).

    An empty ``kpi`` means every KPI, an empty ``period`` every period, an empty ``scope`` every scope. The
    refresh task drains these marks.
    """

    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    period = models.DateField(null=True, blank=True)
    scope = models.CharField(max_length=12, choices=Scope.choices, blank=True)
    scope_key = models.CharField(max_length=150, blank=True)
    marked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["marked_at", "pk"]

    def __str__(self) -> str:
        if self.scope:
            return f"{self.get_scope_display()} {self.scope_key or 'every key'}, every KPI and period"
        kpi = self.kpi or "every KPI"
        return f"{kpi} around {self.period:%Y-%m-%d}" if self.period else f"{kpi}, every period"


class RollupState(models.Model):
    """One row: whether a refresh is queued, and when rollups were last brought up to date."""

    refresh_queued_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "rollup state"

    def __str__(self) -> str:
        return (
            f"Rollups computed at {self.computed_at:%Y-%m-%d %H:%M}"
            if self.computed_at
            else "Rollups never computed"
        )

    @classmethod
    def current(cls) -> "RollupState":
        state, _ = cls.objects.get_or_create(pk=1)
        return state


# Strategic alignment and investment (issue 7): defined in their own module, registered with this app here.
from portfolio.strategy_models import (  # noqa: E402
    Alignment,
    BudgetKind,
    BudgetLine,
    KeyResult,
    PlanChange,
    PlanState,
    PriorityScore,
    Scenario,
    ScenarioLine,
    ScenarioStatus,
)

__all__ = [
    "KPI",
    "Aggregation",
    "Alignment",
    "BudgetKind",
    "BudgetLine",
    "Direction",
    "Frequency",
    "Grain",
    "Health",
    "KPITarget",
    "KeyResult",
    "Measurement",
    "Objective",
    "PlanChange",
    "PlanState",
    "Portfolio",
    "PriorityScore",
    "Rollup",
    "RollupState",
    "Scenario",
    "ScenarioLine",
    "ScenarioStatus",
    "Scope",
    "StaleRollup",
    "Status",
    "TimeAggregation",
]
