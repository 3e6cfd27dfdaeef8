"""Recorded stage transitions. Stages themselves are ``products.models.Stage``."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from products.history import history_user_or
from products.models import Stage, choice_check


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
        ]

    def __str__(self) -> str:
        origin = self.get_from_stage_display() or "start"
        return f"{self.product}: {origin} → {self.get_to_stage_display()}"

    @property
    def is_backward(self) -> bool:
        if not self.from_stage:
            return False
        return Stage(self.to_stage).position < Stage(self.from_stage).position
