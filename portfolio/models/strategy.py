"""Strategic alignment and investment: key results, alignments, budget lines, priority scores, the live plan's
version and its history, and scenarios. Rules and formulas: docs/strategy.md.

Re-exported by ``portfolio.models``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from products.choices import Focus, Market
from products.models import choice_check

MONEY = {"max_digits": 14, "decimal_places": 2}


class KeyResult(models.Model):
    """A measurable result of an objective: a KPI reaching a target in the objective's scope (its portfolio, or
    the organisation for an organisation-wide objective). The current value is the KPI's latest rollup there."""

    objective = models.ForeignKey("portfolio.Objective", on_delete=models.CASCADE, related_name="key_results")
    title = models.CharField(max_length=200)
    kpi = models.ForeignKey(
        "portfolio.KPI", on_delete=models.SET_NULL, null=True, blank=True, related_name="key_results"
    )
    target = models.FloatField(
        null=True, blank=True, help_text="In the KPI's unit, for the objective's scope."
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["objective", "order", "title"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        """A target the KPI cannot reach (105 % uptime, a negative count) is refused (``portfolio.validity``)."""
        if (
            self.kpi_id
            and self.target is not None
            and (problem := self.kpi.value_problem(self.target, what="target"))
        ):
            raise ValidationError({"target": problem})


class Alignment(models.Model):
    """A product serves an objective with a weight: the percentage of the product's money and effort that goes
    to it. A product's weights may add up to less than 100 (the rest serves no objective); above 100 they are
    scaled down to 100 (docs/strategy.md)."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="alignments")
    objective = models.ForeignKey("portfolio.Objective", on_delete=models.CASCADE, related_name="alignments")
    weight = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(1), MaxValueValidator(100)], help_text="Percent, 1-100."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["objective", "product"]
        constraints = [
            models.UniqueConstraint(fields=["product", "objective"], name="alignment_unique_per_product"),
            models.CheckConstraint(
                condition=Q(weight__gte=1, weight__lte=100), name="alignment_weight_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} → {self.objective} ({self.weight}%)"


class BudgetKind(models.TextChoices):
    CAPEX = "capex", "Capex"
    OPEX = "opex", "Opex"


class BudgetLine(models.Model):
    """Planned budget and actual spend of one product for one quarter (keyed by its first day), capex or opex.

    The live plan. ``Product.planned_budget`` and ``actual_spend`` are kept equal to the sums of a product's
    lines by ``portfolio.strategy.services.budgets`` (docs/strategy.md)."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="budget_lines")
    quarter = models.DateField(help_text="First day of the quarter.")
    kind = models.CharField(max_length=5, choices=BudgetKind.choices)
    planned = models.DecimalField(**MONEY, default=Decimal("0"))
    actual = models.DecimalField(**MONEY, default=Decimal("0"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "quarter", "kind"]
        indexes = [models.Index(fields=["quarter", "product"])]
        constraints = [
            models.UniqueConstraint(fields=["product", "quarter", "kind"], name="budget_line_unique"),
            models.CheckConstraint(condition=choice_check("kind", BudgetKind), name="budget_line_kind_valid"),
            models.CheckConstraint(condition=Q(planned__gte=0), name="budget_line_planned_non_negative"),
            models.CheckConstraint(condition=Q(actual__gte=0), name="budget_line_actual_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.quarter:%Y-%m} {self.kind}"


class ProductYearMoney(models.Model):
    """One product's budget lines of one calendar year, summed: capex and opex planned, actual spent and planned
    per quarter. Derived, never edited: ``portfolio.strategy.services.budgets.products_sync_money`` rewrites a
    product's rows in the transaction of every write to its lines, so the dashboard's money tile sums a thousand
    rows instead of every line (docs/strategy.md, "Where money comes from")."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="year_money")
    year = models.PositiveSmallIntegerField()
    capex = models.DecimalField(**MONEY, default=Decimal("0"))
    opex = models.DecimalField(**MONEY, default=Decimal("0"))
    actual = models.DecimalField(**MONEY, default=Decimal("0"))
    q1 = models.DecimalField(**MONEY, default=Decimal("0"), help_text="Planned in January-March.")
    q2 = models.DecimalField(**MONEY, default=Decimal("0"), help_text="Planned in April-June.")
    q3 = models.DecimalField(**MONEY, default=Decimal("0"), help_text="Planned in July-September.")
    q4 = models.DecimalField(**MONEY, default=Decimal("0"), help_text="Planned in October-December.")

    class Meta:
        verbose_name = "product money per year"
        verbose_name_plural = "product money per year"
        constraints = [models.UniqueConstraint(fields=["year", "product"], name="product_year_money_unique")]

    def __str__(self) -> str:
        return f"{self.product} {self.year}"


class PriorityScore(models.Model):
    """A product's RICE and WSJF inputs, and the two scores computed from them (``portfolio.strategy.rules``)."""

    product = models.OneToOneField("products.Product", on_delete=models.CASCADE, related_name="priority")
    reach = models.PositiveIntegerField(help_text="People or events per quarter.")
    impact = models.DecimalField(max_digits=4, decimal_places=2, help_text="0.25, 0.5, 1, 2 or 3.")
    confidence = models.PositiveSmallIntegerField(help_text="Percent, 0-100.")
    effort = models.DecimalField(max_digits=7, decimal_places=2, help_text="Person-months, more than 0.")
    business_value = models.PositiveSmallIntegerField()
    time_criticality = models.PositiveSmallIntegerField()
    risk_reduction = models.PositiveSmallIntegerField()
    job_size = models.PositiveSmallIntegerField()
    rice = models.DecimalField(max_digits=16, decimal_places=2)
    wsjf = models.DecimalField(max_digits=8, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-rice"]
        indexes = [models.Index(fields=["-rice"]), models.Index(fields=["-wsjf"])]
        constraints = [
            models.CheckConstraint(condition=Q(confidence__lte=100), name="priority_confidence_percent"),
            models.CheckConstraint(condition=Q(effort__gt=0), name="priority_effort_positive"),
            models.CheckConstraint(condition=Q(job_size__gt=0), name="priority_job_size_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.product}: RICE {self.rice}, WSJF {self.wsjf}"


class PlanState(models.Model):
    """One row: the live plan's version. Every write to the live plan locks it and bumps the version."""

    version = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "plan state"

    def __str__(self) -> str:
        return f"Live plan version {self.version}"


class PlanChange(models.Model):
    """The history of the live plan: one row per write (a budget line, an alignment, an approved scenario)."""

    version = models.PositiveIntegerField(unique=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The portfolio whose plan changed (empty: several, or organisation-wide objectives).
    portfolio = models.ForeignKey(
        "portfolio.Portfolio", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scenario = models.ForeignKey(
        "portfolio.Scenario", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    summary = models.CharField(max_length=300)
    details = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-version"]
        get_latest_by = "version"

    def __str__(self) -> str:
        return f"v{self.version}: {self.summary}"


class ScenarioStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    APPROVED = "approved", "Approved"
    DISCARDED = "discarded", "Discarded"


class Scenario(models.Model):
    """A copy of the live plan over four quarters from ``horizon_start``, of one portfolio or the organisation,
    that a director changes (budgets, paused and added products) and compares before approving it."""

    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    portfolio = models.ForeignKey(
        "portfolio.Portfolio", on_delete=models.CASCADE, null=True, blank=True, related_name="scenarios"
    )
    horizon_start = models.DateField(help_text="First day of the first quarter the scenario plans.")
    status = models.CharField(max_length=10, choices=ScenarioStatus.choices, default=ScenarioStatus.DRAFT)
    base_version = models.PositiveIntegerField(help_text="The live plan's version when it was copied.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=choice_check("status", ScenarioStatus), name="scenario_status_valid"
            ),
            models.CheckConstraint(condition=~Q(name=""), name="scenario_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("portfolio:scenario", kwargs={"pk": self.pk})

    @property
    def is_draft(self) -> bool:
        return self.status == ScenarioStatus.DRAFT


class ScenarioLine(models.Model):
    """One product in a scenario: its planned budget over the horizon in the live plan when copied
    (``base_planned``) and in the scenario, and whether the scenario pauses it. A proposed new product has no
    ``product`` but a name, portfolio, owner, market, focus and an objective it would serve."""

    scenario = models.ForeignKey(Scenario, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        "products.Product", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    base_planned = models.DecimalField(**MONEY, null=True, blank=True)
    planned = models.DecimalField(**MONEY, default=Decimal("0"))
    paused = models.BooleanField(default=False)
    new_name = models.CharField(max_length=120, blank=True)
    new_portfolio = models.ForeignKey(
        "portfolio.Portfolio", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    new_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    new_market = models.CharField(max_length=3, choices=Market.choices, blank=True)
    new_focus = models.CharField(max_length=12, choices=Focus.choices, blank=True)
    new_objective = models.ForeignKey(
        "portfolio.Objective", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["scenario", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["scenario", "product"],
                condition=Q(product__isnull=False),
                name="scenario_line_unique_product",
            ),
            models.CheckConstraint(condition=Q(planned__gte=0), name="scenario_line_planned_non_negative"),
            models.CheckConstraint(
                condition=Q(product__isnull=False) | ~Q(new_name=""), name="scenario_line_new_needs_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scenario}: {self.name}"

    @property
    def is_new(self) -> bool:
        return self.product_id is None

    @property
    def name(self) -> str:
        return self.new_name if self.is_new else str(self.product)

    @property
    def changed(self) -> bool:
        return self.is_new or self.paused or self.planned != self.base_planned
