"""Rollups: the stored aggregates of a KPI over a scope and period, and the marks that say which are stale."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from portfolio.choices import Grain, Scope, Status
from portfolio.models.kpis import KPI
from products.models import choice_check


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
    # The one product whose measurement changed, when the writer knows it: its KPI's forecasts are then
    # refreshed for that product alone (and the scopes recombined). Empty: any product.
    product = models.ForeignKey(
        "products.Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
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
