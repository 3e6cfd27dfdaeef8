"""Notifications: what a person's inbox holds, and what they follow or mute (docs/alerts.md).

A notification is written once per recipient and event (``key``), with its sentence and link as they read at the
time: a later rename does not rewrite a person's history, and a deleted product takes its notifications along.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portfolio.choices import EventKind
from portfolio.models.portfolios import Portfolio
from products.models import Product, choice_check


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    sentence = models.CharField(max_length=400)
    url = models.CharField(max_length=300, help_text="The page that explains it.")
    why = models.CharField(
        max_length=200, help_text="Why this person got it: their role, or what they follow."
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, null=True, blank=True, related_name="notifications"
    )
    key = models.CharField(max_length=120, help_text="The event: one notification per person and event.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], name="notification_once_per_event"),
            models.CheckConstraint(condition=choice_check("kind", EventKind), name="notification_kind_valid"),
            models.CheckConstraint(
                condition=~Q(sentence="") & ~Q(url=""), name="notification_says_something"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
        ]

    def __str__(self) -> str:
        return self.sentence

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class Follow(models.Model):
    """A person follows (hears about it as its owner would) or mutes (never hears about it) one product or
    one portfolio. A product's own setting wins over its portfolio's."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    muted = models.BooleanField(default=False, help_text="Muted: never notified about it.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=True) ^ Q(portfolio__isnull=True), name="follow_one_thing"
            ),
            models.UniqueConstraint(
                fields=["user", "product"], condition=Q(product__isnull=False), name="follow_product_once"
            ),
            models.UniqueConstraint(
                fields=["user", "portfolio"],
                condition=Q(portfolio__isnull=False),
                name="follow_portfolio_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} {'mutes' if self.muted else 'follows'} {self.product or self.portfolio}"
