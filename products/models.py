"""Products, the people who work on them, and the vocabulary shared by every app.

``Stage``, ``Market``, ``Focus`` and ``Role`` live here, in the bottom app, because a product stores
them; ``lifecycle`` and ``portfolio`` import them from here.
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

from products.choices import Focus, Health, Market, Role, Stage


def choice_check(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class User(AbstractUser):
    """A person in the product organisation. ``role`` is their rung on the ladder."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PM)
    title = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["username"]
        constraints = [models.CheckConstraint(condition=choice_check("role", Role), name="user_role_valid")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def role_label(self) -> str:
        return "Admin" if self.is_superuser else self.get_role_display()


class Product(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    portfolio = models.ForeignKey("portfolio.Portfolio", on_delete=models.PROTECT, related_name="products")
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="owned_products")
    members = models.ManyToManyField(User, through="Membership", related_name="member_of")
    market = models.CharField(max_length=3, choices=Market.choices)
    focus = models.CharField(max_length=12, choices=Focus.choices)
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.PROBLEM)
    stage_entered_at = models.DateTimeField(default=timezone.now)
    planned_budget = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    actual_spend = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    # Derived from the KPIs' latest rollups by portfolio.rollups; stored so lists filter and sort on it.
    health = models.CharField(max_length=12, choices=Health.choices, default=Health.NO_DATA)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: every save through a service or the admin bumps it, and a save that was loaded
    # with an older version is refused as a conflict instead of overwriting (docs/history.md).
    version = models.PositiveIntegerField(default=1)

    # Health is derived (rewritten in bulk by the rollups): not an edit anybody made.
    history = HistoricalRecords(excluded_fields=["health"])

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["portfolio", "name"]),
            models.Index(fields=["stage", "name"]),
            models.Index(fields=["owner"]),
            models.Index(fields=["health"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_budget__gte=0), name="product_planned_budget_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(actual_spend__gte=0), name="product_actual_spend_non_negative"
            ),
            models.CheckConstraint(condition=choice_check("stage", Stage), name="product_stage_valid"),
            models.CheckConstraint(condition=choice_check("market", Market), name="product_market_valid"),
            models.CheckConstraint(condition=choice_check("focus", Focus), name="product_focus_valid"),
            models.CheckConstraint(condition=choice_check("health", Health), name="product_health_valid"),
            models.CheckConstraint(condition=~Q(slug=""), name="product_slug_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("products:detail", kwargs={"slug": self.slug})

    @property
    def days_in_stage(self) -> int:
        return max((timezone.now() - self.stage_entered_at).days, 0)


class Membership(models.Model):
    """A person's role on one product (the owner is a product field, not a membership)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    joined_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "user"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="membership_unique_person_per_product"),
            models.CheckConstraint(condition=choice_check("role", Role), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} on {self.product}"


# --------------------------------------------------------------------------------------------------
# CSV imports (docs/imports.md): the record of each import, which is also its audit entry, and the uploaded
# file's bytes, kept in the database so that a worker in another container reads what the web received.
# --------------------------------------------------------------------------------------------------


class ImportKind(models.TextChoices):
    """What a CSV file holds; each kind reads exactly the columns of the matching export."""

    PRODUCTS = "products", "Products"
    MEASUREMENTS = "measurements", "KPI measurements"
    KPIS = "kpis", "KPI definitions"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    READY = "ready", "Checked: ready to apply"
    INVALID = "invalid", "Problems found: nothing written"
    APPLIED = "applied", "Applied"
    FAILED = "failed", "Failed: nothing written"
    EXPIRED = "expired", "Expired: not applied"


class ImportStep(models.TextChoices):
    CHECK = "check", "Check"
    APPLY = "apply", "Apply"


class ImportSource(models.TextChoices):
    UPLOAD = "upload", "Upload"
    COMMAND = "command", "Command"


class ImportRun(models.Model):
    """One CSV import: who brought which file, whether it was only checked or applied, and what it did.

    ``errors`` holds at most the first problems found (``[line, column, message]``; ``error_count`` all of them),
    ``changes`` the first cells that replace existing data (``[line, row, column, old, new]``).
    ``rows_processed`` / ``rows_total`` is the progress of a running step (``rows_total`` is counted from the
    file's line breaks at upload, so it is an estimate when cells hold line breaks).
    """

    kind = models.CharField(max_length=12, choices=ImportKind.choices)
    file_name = models.CharField(max_length=255)
    file_size = models.PositiveBigIntegerField(default=0)
    source = models.CharField(max_length=7, choices=ImportSource.choices, default=ImportSource.UPLOAD)
    uploaded_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="import_runs"
    )
    status = models.CharField(max_length=8, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    step = models.CharField(max_length=5, choices=ImportStep.choices, default=ImportStep.CHECK)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    # Further counts by name, e.g. {"targets": 3, "stage_moves": 2}.
    extra = models.JSONField(default=dict, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    # The first changes to existing data, [line, row, column, old, new]; ``updated`` counts the rows.
    changes = models.JSONField(default=list, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["uploaded_by", "created_at"]), models.Index(fields=["created_at"])]
        constraints = [
            models.CheckConstraint(condition=choice_check("kind", ImportKind), name="import_run_kind_valid"),
            models.CheckConstraint(
                condition=choice_check("status", ImportStatus), name="import_run_status_valid"
            ),
            models.CheckConstraint(condition=choice_check("step", ImportStep), name="import_run_step_valid"),
        ]

    def __str__(self) -> str:
        return f"Import #{self.pk}: {self.get_kind_display()} from {self.file_name}"

    def get_absolute_url(self) -> str:
        return reverse("portfolio:import-run", kwargs={"pk": self.pk})

    @property
    def is_active(self) -> bool:
        return self.status in {ImportStatus.QUEUED, ImportStatus.RUNNING}

    @property
    def percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, round(100 * self.rows_processed / self.rows_total))


class ImportChunk(models.Model):
    """One piece (at most ``IMPORT_CHUNK_BYTES``) of an uploaded file, in order. Never served back, never run:
    only the CSV reader reads it. Dropped once the run is applied, invalid or expired."""

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    data = models.BinaryField()

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="import_chunk_unique_index")]

    def __str__(self) -> str:
        return f"{self.run} part {self.index}"
