"""Forecasts: where each KPI will land at the end of its current period, per product and per rollup scope, and
how sure that is. Derived rows, rewritten with the rollups (``portfolio.kpis.forecast.store``); the method and
its accuracy: docs/kpis.md, "Forecasts"."""

from django.db import models
from django.db.models import Q

from portfolio.choices import Grain, Horizon, Scope, Status
from portfolio.models.kpis import KPI
from products.models import choice_check


class ForecastFields(models.Model):
    """The numbers of one forecast of one period. Without a forecast (``value`` empty), ``reason`` says why."""

    grain = models.CharField(max_length=7, choices=Grain.choices)
    horizon = models.PositiveSmallIntegerField(
        choices=Horizon.choices,
        default=Horizon.CURRENT,
        help_text="The KPI's current period at this grain, or the next one.",
    )
    period = models.DateField(help_text="First day of the period forecast.")
    value = models.FloatField(null=True, blank=True, help_text="The period's projected value.")
    low_80 = models.FloatField(null=True, blank=True)
    high_80 = models.FloatField(null=True, blank=True)
    low_95 = models.FloatField(null=True, blank=True)
    high_95 = models.FloatField(null=True, blank=True)
    target = models.FloatField(null=True, blank=True, help_text="The whole period's target.")
    status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    p_on_target = models.FloatField(null=True, blank=True)
    p_within_tolerance = models.FloatField(null=True, blank=True)
    needed_per_period = models.FloatField(
        null=True, blank=True, help_text="What each remaining native period must bring for the target."
    )
    reached_after = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Native periods until a growing sum reaches its target."
    )
    done = models.PositiveSmallIntegerField(default=0, help_text="Native periods of the period recorded.")
    remaining = models.PositiveSmallIntegerField(default=0, help_text="Native periods of the period to come.")
    method = models.CharField(max_length=20, blank=True)
    history_used = models.PositiveIntegerField(default=0)
    origins = models.PositiveIntegerField(default=0, help_text="Backtest origins behind the method.")
    backtest_error = models.FloatField(null=True, blank=True, help_text="Backtest MAPE of the method, in %.")
    reason = models.CharField(max_length=200, blank=True)
    computed_at = models.DateTimeField()

    class Meta:
        abstract = True

    @property
    def has_forecast(self) -> bool:
        return self.value is not None


class ProductForecast(ForecastFields):
    """One product's forecast of one KPI's current (or next) period at one grain."""

    product = models.ForeignKey(
        "products.Product", on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    kpi = models.ForeignKey(
        KPI, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )

    class Meta:
        indexes = [
            # One KPI's forecasts of every product (a drill-down, a refresh after one measurement).
            models.Index(fields=["kpi", "grain", "horizon", "product"], name="product_forecast_kpi"),
        ]
        constraints = [
            # Also the index of one product's forecasts (its page).
            models.UniqueConstraint(
                fields=["product", "kpi", "grain", "horizon"], name="product_forecast_unique"
            ),
            models.CheckConstraint(
                condition=choice_check("grain", Grain), name="product_forecast_grain_valid"
            ),
            models.CheckConstraint(
                condition=Q(horizon__in=Horizon.values), name="product_forecast_horizon_valid"
            ),
            models.CheckConstraint(
                condition=Q(value__isnull=True) | ~Q(status=""), name="product_forecast_status_with_value"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} · product {self.product_id} · {self.grain} {self.period:%Y-%m-%d}"


class ScopeForecast(ForecastFields):
    """The forecast of one KPI's current (or next) period in one rollup scope key, combined from its products' forecasts
    by the KPI's aggregation (the scorecard cell's forecast)."""

    scope = models.CharField(max_length=12, choices=Scope.choices)
    scope_key = models.CharField(max_length=150)
    kpi = models.ForeignKey(
        KPI, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    products = models.PositiveIntegerField(default=0, help_text="Products whose forecasts it combines.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "grain", "horizon", "kpi", "scope_key"], name="scope_forecast_unique"
            ),
            models.CheckConstraint(condition=choice_check("scope", Scope), name="scope_forecast_scope_valid"),
            models.CheckConstraint(condition=choice_check("grain", Grain), name="scope_forecast_grain_valid"),
            models.CheckConstraint(
                condition=Q(horizon__in=Horizon.values), name="scope_forecast_horizon_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} · {self.scope}={self.scope_key} · {self.grain} {self.period:%Y-%m-%d}"


class ForecastAccuracy(models.Model):
    """How accurate one KPI's forecasts proved when its products' latest periods were hidden and forecast from the
    ones before (``manage.py forecast_backtest``; ``portfolio.kpis.forecast.accuracy``): each forecast's
    explanation quotes its KPI's measured coverage, not an assumed one."""

    kpi = models.OneToOneField(KPI, on_delete=models.CASCADE, related_name="forecast_accuracy")
    hidden = models.PositiveSmallIntegerField(help_text="Native periods hidden and forecast in each series.")
    series = models.PositiveIntegerField(help_text="Series forecast and compared.")
    skipped = models.PositiveIntegerField(default=0, help_text="Series too short to forecast.")
    mape = models.FloatField(help_text="Mean absolute percentage error of the forecasts, in %.")
    naive_mape = models.FloatField(help_text="The same of the naive forecast (the last value stays), in %.")
    at_least_naive = models.FloatField(help_text="Share of series (0-1) forecast at least as well as naive.")
    coverage_80 = models.FloatField(help_text="Share of series (0-1) whose truth fell in the 80 % range.")
    coverage_95 = models.FloatField(help_text="Share of series (0-1) whose truth fell in the 95 % range.")
    measured_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "forecast accuracy"
        constraints = [
            models.CheckConstraint(
                condition=Q(series__gt=0)
                & Q(mape__gte=0)
                & Q(naive_mape__gte=0)
                & Q(at_least_naive__gte=0, at_least_naive__lte=1)
                & Q(coverage_80__gte=0, coverage_80__lte=1)
                & Q(coverage_95__gte=0, coverage_95__lte=1),
                name="forecast_accuracy_possible",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} · {self.series} series · {self.measured_at:%Y-%m-%d}"
