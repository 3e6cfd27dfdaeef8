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


class Stage(models.TextChoices):
    """The seven lifecycle stages, in order. Stored values are contracts (URLs, CSV)."""

    PROBLEM = "problem", "Problem"
    OPPORTUNITY = "opportunity", "Opportunity"
    RESEARCH = "research", "Research"
    MVP = "mvp", "MVP"
    FEEDBACK = "feedback", "Feedback"
    STRATEGY = "strategy", "Strategy"
    EXECUTION = "execution", "Execution"

    @classmethod
    def ordered(cls) -> list["Stage"]:
        return list(cls)

    @property
    def position(self) -> int:
        return list(Stage).index(self)

    @property
    def activity(self) -> str:
        return STAGE_ACTIVITIES[self.value]


STAGE_ACTIVITIES = {
    "problem": "Defining the problem",
    "opportunity": "Quantifying the opportunity",
    "research": "Researching potential solutions",
    "mvp": "Building an MVP",
    "feedback": "Creating a feedback loop",
    "strategy": "Setting the strategy",
    "execution": "Driving execution",
}


class Market(models.TextChoices):
    B2B = "b2b", "B2B"
    B2C = "b2c", "B2C"


class Focus(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    BUSINESS = "business", "Business"
    ENGINEERING = "engineering", "Engineering / technology"
    DESIGN = "design", "Design"


class Role(models.TextChoices):
    """The product-management ladder. A person's role decides what they may see and do."""

    INTERN = "intern", "Intern"
    ASSOCIATE_PM = "associate_pm", "Associate PM"
    JUNIOR_PM = "junior_pm", "Junior PM"
    PM = "pm", "PM"
    SENIOR_PM = "senior_pm", "Senior PM"
    PRODUCT_OWNER = "product_owner", "Scrum product owner"
    DIRECTOR = "director", "Director of product"
    VP = "vp", "VP of product"


class Health(models.TextChoices):
    """A product's health: the worst status among its KPIs' latest values."""

    ON_TARGET = "on_target", "On target"
    AT_RISK = "at_risk", "At risk"
    OFF_TARGET = "off_target", "Off target"
    NO_DATA = "no_data", "No data"


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
