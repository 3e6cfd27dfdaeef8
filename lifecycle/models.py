"""Recorded stage transitions. Stages themselves are ``products.models.Stage``."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from products.choices import Market, Stage
from products.models import choice_check
from spm.history.records import history_user_or


class StageTransition(models.Model):
    """One change of a product's stage: from, to, when, who, why. ``from_stage`` is empty for the first."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="transitions")
    from_stage = models.CharField(max_length=12, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=12, choices=Stage.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    # A forward move past unmet gate criteria, allowed by a director or VP (``can_override_gate``) with a reason.
    gate_overridden = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)
    unmet_criteria = models.JSONField(
        default=list, blank=True, help_text="The gate criteria unmet at the move."
    )

    # Without a signed-in user (a command), the person who made the move.
    history = HistoricalRecords(get_user=history_user_or("by"))

    class Meta:
        ordering = ["product", "at", "pk"]
        get_latest_by = "at"
        indexes = [models.Index(fields=["product", "at"]), models.Index(fields=["to_stage", "at"])]
        constraints = [
            models.CheckConstraint(
                condition=choice_check("to_stage", Stage), name="transition_to_stage_valid"
            ),
            models.CheckConstraint(
                condition=Q(from_stage="") | choice_check("from_stage", Stage),
                name="transition_from_stage_valid",
            ),
            models.CheckConstraint(condition=~Q(from_stage=F("to_stage")), name="transition_changes_stage"),
            models.CheckConstraint(
                condition=Q(gate_overridden=False) | ~Q(override_reason=""),
                name="transition_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        origin = self.get_from_stage_display() or "start"
        return f"{self.product}: {origin} → {self.get_to_stage_display()}"

    @property
    def is_backward(self) -> bool:
        if not self.from_stage:
            return False
        return Stage(self.to_stage).position < Stage(self.from_stage).position


# ---------------------------------------------------------------------------------------------------------
# Work products: what a product's team records in each stage (docs/lifecycle.md). Every row belongs to one
# product; a stage's "sheet" (one row per product, e.g. the problem statement) is a OneToOneField, its lists
# are ForeignKeys. KPIs and objectives live in the portfolio app, named here by their string label.
# ---------------------------------------------------------------------------------------------------------


class ProblemStatement(models.Model):
    """Problem stage: the problem in the customer's words."""

    product = models.OneToOneField("products.Product", on_delete=models.CASCADE, related_name="problem")
    statement = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Problem statement of {self.product}"


class Severity(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class PainPoint(models.Model):
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="pain_points")
    description = models.CharField(max_length=300)
    severity = models.CharField(max_length=8, choices=Severity.choices, default=Severity.MEDIUM)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=choice_check("severity", Severity), name="pain_point_severity_valid"
            )
        ]

    def __str__(self) -> str:
        return self.description


class Persona(models.Model):
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="personas")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "pk"]

    def __str__(self) -> str:
        return self.name


class Competitor(models.Model):
    """Someone solving the problem already, and the gap in the market they leave."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="competitors")
    name = models.CharField(max_length=120)
    gap = models.TextField("gap in the market", blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "pk"]

    def __str__(self) -> str:
        return self.name


class EvidenceLink(models.Model):
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="evidence_links")
    title = models.CharField(max_length=200)
    url = models.URLField(max_length=500)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "pk"]

    def __str__(self) -> str:
        return self.title


class OpportunityCase(models.Model):
    """Opportunity stage: market sizing, the business case and its money, the target timeline."""

    product = models.OneToOneField("products.Product", on_delete=models.CASCADE, related_name="opportunity")
    tam = models.DecimalField("TAM", max_digits=16, decimal_places=2, null=True, blank=True)
    sam = models.DecimalField("SAM", max_digits=16, decimal_places=2, null=True, blank=True)
    som = models.DecimalField("SOM", max_digits=16, decimal_places=2, null=True, blank=True)
    business_case = models.TextField(blank=True)
    expected_return = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    investment = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    target_date = models.DateField("target date", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(tam__isnull=True) | Q(tam__gte=0))
                & (Q(sam__isnull=True) | Q(sam__gte=0))
                & (Q(som__isnull=True) | Q(som__gte=0))
                & (Q(investment__isnull=True) | Q(investment__gte=0)),
                name="opportunity_amounts_non_negative",
            )
        ]

    def __str__(self) -> str:
        return f"Opportunity of {self.product}"


class Goal(models.Model):
    """A product goal, tied to a business objective of its portfolio (or of the organisation)."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="goals")
    title = models.CharField(max_length=200)
    objective = models.ForeignKey(
        "portfolio.Objective", on_delete=models.SET_NULL, null=True, blank=True, related_name="product_goals"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "pk"]

    def __str__(self) -> str:
        return self.title


class Outcome(models.TextChoices):
    OPEN = "open", "Open"
    VALIDATED = "validated", "Validated"
    INVALIDATED = "invalidated", "Invalidated"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class Hypothesis(models.Model):
    """Research stage: a solution hypothesis; its outcome is what the experiments showed."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="hypotheses")
    statement = models.CharField(max_length=300)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.OPEN)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "pk"]
        verbose_name_plural = "hypotheses"
        constraints = [
            models.CheckConstraint(
                condition=choice_check("outcome", Outcome), name="hypothesis_outcome_valid"
            )
        ]

    def __str__(self) -> str:
        return self.statement


class ExperimentMethod(models.TextChoices):
    INTERVIEWS = "interviews", "Customer interviews"
    SURVEY = "survey", "Survey"
    PROTOTYPE = "prototype", "Prototype test"
    AB_TEST = "ab_test", "A/B test"
    ANALYTICS = "analytics", "Data analysis"
    FAKE_DOOR = "fake_door", "Fake door"


class ExperimentStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


class Experiment(models.Model):
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="experiments")
    hypothesis = models.ForeignKey(
        Hypothesis, on_delete=models.SET_NULL, null=True, blank=True, related_name="experiments"
    )
    title = models.CharField(max_length=200)
    method = models.CharField(
        max_length=12, choices=ExperimentMethod.choices, default=ExperimentMethod.INTERVIEWS
    )
    status = models.CharField(
        max_length=8, choices=ExperimentStatus.choices, default=ExperimentStatus.PLANNED
    )
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.OPEN)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=choice_check("method", ExperimentMethod), name="experiment_method_valid"
            ),
            models.CheckConstraint(
                condition=choice_check("status", ExperimentStatus), name="experiment_status_valid"
            ),
            models.CheckConstraint(
                condition=choice_check("outcome", Outcome), name="experiment_outcome_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ResearchNote(models.Model):
    """User-research notes: what was heard, from whom, when."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="research_notes")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    noted_on = models.DateField(default=timezone.localdate)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "-noted_on", "pk"]

    def __str__(self) -> str:
        return self.title


class MVPPlan(models.Model):
    """MVP stage: the must-have scope, the launch and its result."""

    product = models.OneToOneField("products.Product", on_delete=models.CASCADE, related_name="mvp")
    scope = models.TextField("must-have features", blank=True, help_text="One feature per line.")
    launch_date = models.DateField(null=True, blank=True)
    result = models.TextField(blank=True, help_text="What the launch showed against the success criteria.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "MVP plan"

    def __str__(self) -> str:
        return f"MVP of {self.product}"

    @property
    def features(self) -> list[str]:
        return [line.strip(" -*\t") for line in self.scope.splitlines() if line.strip(" -*\t")]


class SuccessCriterion(models.Model):
    """What the MVP must show, ideally as a KPI and a target value."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="success_criteria")
    description = models.CharField(max_length=200)
    kpi = models.ForeignKey(
        "portfolio.KPI", on_delete=models.SET_NULL, null=True, blank=True, related_name="success_criteria"
    )
    target = models.FloatField(null=True, blank=True)
    met = models.BooleanField(null=True, blank=True, help_text="Empty until the result is known.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "pk"]
        verbose_name_plural = "success criteria"

    def __str__(self) -> str:
        return self.description


class FeedbackTheme(models.Model):
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="feedback_themes")
    name = models.CharField(max_length=120)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "name"]
        constraints = [models.UniqueConstraint(fields=["product", "name"], name="feedback_theme_unique_name")]

    def __str__(self) -> str:
        return self.name


class FeedbackSource(models.TextChoices):
    INTERVIEW = "interview", "Interview"
    SURVEY = "survey", "Survey"
    SUPPORT = "support", "Support ticket"
    SALES = "sales", "Sales call"
    REVIEW = "review", "App / store review"
    USAGE = "usage", "Usage analytics"


class Sentiment(models.TextChoices):
    POSITIVE = "positive", "Positive"
    NEUTRAL = "neutral", "Neutral"
    NEGATIVE = "negative", "Negative"


class FeedbackItem(models.Model):
    """Feedback stage: one piece of customer feedback. ``score`` is 0 to 10 (NPS-style) when the source gives one."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="feedback_items")
    received_on = models.DateField(default=timezone.localdate)
    source = models.CharField(max_length=10, choices=FeedbackSource.choices, default=FeedbackSource.INTERVIEW)
    segment = models.CharField("customer segment", max_length=3, choices=Market.choices)
    sentiment = models.CharField(max_length=8, choices=Sentiment.choices, default=Sentiment.NEUTRAL)
    score = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField()
    theme = models.ForeignKey(
        FeedbackTheme, on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    kpi = models.ForeignKey(
        "portfolio.KPI", on_delete=models.SET_NULL, null=True, blank=True, related_name="feedback_items"
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "-received_on", "-pk"]
        indexes = [models.Index(fields=["product", "received_on"])]
        constraints = [
            models.CheckConstraint(
                condition=choice_check("source", FeedbackSource), name="feedback_source_valid"
            ),
            models.CheckConstraint(condition=choice_check("segment", Market), name="feedback_segment_valid"),
            models.CheckConstraint(
                condition=choice_check("sentiment", Sentiment), name="feedback_sentiment_valid"
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=10), name="feedback_score_at_most_10"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_sentiment_display()} feedback on {self.product} ({self.received_on})"


class StrategyBrief(models.Model):
    """Strategy stage: positioning and pricing (the roadmap is ``RoadmapItem``)."""

    product = models.OneToOneField("products.Product", on_delete=models.CASCADE, related_name="strategy")
    positioning = models.TextField(blank=True)
    pricing_notes = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"Strategy of {self.product}"


class RoadmapStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    DROPPED = "dropped", "Dropped"


class RoadmapItem(models.Model):
    """One item of a product's roadmap. Late: not done or dropped and its target date has passed."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="roadmap_items")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    target_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=11, choices=RoadmapStatus.choices, default=RoadmapStatus.PLANNED)
    order = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "order", "target_date", "pk"]
        indexes = [models.Index(fields=["target_date"])]
        constraints = [
            models.CheckConstraint(
                condition=choice_check("status", RoadmapStatus), name="roadmap_item_status_valid"
            )
        ]

    def __str__(self) -> str:
        return self.title


class ReleaseKind(models.TextChoices):
    RELEASE = "release", "Release"
    ITERATION = "iteration", "Iteration"


class ReleaseStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    IN_PROGRESS = "in_progress", "In progress"
    SHIPPED = "shipped", "Shipped"
    CANCELLED = "cancelled", "Cancelled"


class Release(models.Model):
    """Execution stage: a release or iteration with its planned and actual dates."""

    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="releases")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=9, choices=ReleaseKind.choices, default=ReleaseKind.RELEASE)
    planned_date = models.DateField()
    actual_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=11, choices=ReleaseStatus.choices, default=ReleaseStatus.PLANNED)
    notes = models.TextField(blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "planned_date", "pk"]
        indexes = [models.Index(fields=["planned_date"])]
        constraints = [
            models.CheckConstraint(condition=choice_check("kind", ReleaseKind), name="release_kind_valid"),
            models.CheckConstraint(
                condition=choice_check("status", ReleaseStatus), name="release_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_late(self) -> bool:
        return is_late(
            done=self.status in (ReleaseStatus.SHIPPED, ReleaseStatus.CANCELLED),
            planned=self.planned_date,
            actual=self.actual_date,
        )


class MilestoneStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    DONE = "done", "Done"
    MISSED = "missed", "Missed"


class Milestone(models.Model):
    product = models.ForeignKey("products.Product", on_delete=models.CASCADE, related_name="milestones")
    release = models.ForeignKey(
        Release, on_delete=models.SET_NULL, null=True, blank=True, related_name="milestones"
    )
    title = models.CharField(max_length=200)
    planned_date = models.DateField()
    actual_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=7, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED)

    history = HistoricalRecords()

    class Meta:
        ordering = ["product", "planned_date", "pk"]
        indexes = [models.Index(fields=["planned_date"])]
        constraints = [
            models.CheckConstraint(
                condition=choice_check("status", MilestoneStatus), name="milestone_status_valid"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_late(self) -> bool:
        return is_late(
            done=self.status == MilestoneStatus.DONE, planned=self.planned_date, actual=self.actual_date
        )


def is_late(*, done: bool, planned, actual) -> bool:
    """Late: not finished and its planned date has passed, or finished after its planned date."""
    if actual is not None and planned is not None:
        return actual > planned
    return not done and planned is not None and planned < timezone.localdate()


class StageThreshold(models.Model):
    """How many days in a stage make a product "stuck" on the lifecycle analytics (defaults in
    ``lifecycle.analytics.selectors.DEFAULT_STUCK_DAYS`` for a stage without a row)."""

    stage = models.CharField(max_length=12, choices=Stage.choices, unique=True)
    stuck_after_days = models.PositiveIntegerField()

    class Meta:
        ordering = ["stage"]
        constraints = [
            models.CheckConstraint(condition=choice_check("stage", Stage), name="threshold_stage_valid")
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: stuck after {self.stuck_after_days} days"

    def clean(self) -> None:
        if self.stage == Stage.EXECUTION:
            raise ValidationError(
                {"stage": "Execution has no stuck threshold: it is the stage products are meant to stay in."}
            )
