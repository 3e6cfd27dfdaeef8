"""KPI definitions (with their rollup rules), per-product targets and measurements."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from portfolio.choices import Aggregation, Direction, Frequency, TimeAggregation
from portfolio.periods import period_start
from portfolio.validity import ValidRange, period_problem, range_problem, valid_range, value_problem
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
    min_value = models.FloatField(
        "minimum",
        null=True,
        blank=True,
        help_text="The lowest possible value. Blank: 0 (a KPI that can go below zero, such as a net score, sets it).",
    )
    max_value = models.FloatField(
        "maximum",
        null=True,
        blank=True,
        help_text="The highest possible value. Blank: 100 for a percentage (unit %), else no maximum.",
    )
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
            models.CheckConstraint(
                condition=Q(min_value__isnull=True)
                | Q(max_value__isnull=True)
                | Q(min_value__lt=F("max_value")),
                name="kpi_min_below_max",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def valid_range(self) -> ValidRange:
        return valid_range(unit=self.unit, min_value=self.min_value, max_value=self.max_value)

    def value_problem(self, value: float, *, what: str = "value") -> str | None:
        return value_problem(value, kpi_name=self.name, unit=self.unit, valid=self.valid_range, what=what)

    def period_problem(self, period) -> str | None:
        return period_problem(period, frequency=self.frequency, today=timezone.localdate())

    def clean(self) -> None:
        problem = range_problem(min_value=self.min_value, max_value=self.max_value)
        if problem:
            raise ValidationError({"max_value": problem})
        if self.default_target is not None and (
            problem := self.value_problem(self.default_target, what="target")
        ):
            raise ValidationError({"default_target": problem})


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

    def clean(self) -> None:
        problem = (
            self.kpi.value_problem(self.target, what="target")
            if self.kpi_id and self.target is not None
            else None
        )
        if problem:
            raise ValidationError({"target": problem})


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
        indexes = [
            models.Index(fields=["kpi", "period"]),
            models.Index(fields=["period", "id"]),
            # A KPI's series product by product, in period order, from the index alone: the forecasts' read.
            models.Index(
                fields=["kpi", "product", "period"], include=["value"], name="measurement_kpi_series"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "kpi", "period"], name="measurement_unique_per_product_kpi_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kpi} for {self.product} on {self.period:%Y-%m-%d}: {self.value:g}"

    def clean(self) -> None:
        if self.kpi_id is None:
            return
        errors = {}
        if self.value is not None and (problem := self.kpi.value_problem(self.value)):
            errors["value"] = problem
        if self.period is not None:
            start = period_start(self.period, self.kpi.frequency)
            if start != self.period:
                errors["period"] = (
                    f"{self.period:%-d %b %Y} does not start a period of this {self.kpi.get_frequency_display().lower()} "
                    f"KPI: its period starts on {start:%-d %b %Y}."
                )
            elif problem := self.kpi.period_problem(self.period):
                errors["period"] = problem
        if errors:
            raise ValidationError(errors)
