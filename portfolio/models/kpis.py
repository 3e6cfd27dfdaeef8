"""KPI definitions (with their rollup rules), per-product targets and measurements."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from portfolio.choices import Aggregation, Direction, Frequency, TimeAggregation
from products.models import choice_check
from spm.history.records import history_user_or


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
