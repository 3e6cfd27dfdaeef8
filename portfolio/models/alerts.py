"""Notifications: what a person's inbox holds, and what they follow or mute (docs/alerts.md).

A notification is written once per recipient and event (``key``), with its sentence and link as they read at the
time: a later rename does not rewrite a person's history, and a deleted product takes its notifications along.
"""

import functools
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from portfolio.choices import DigestFrequency, EmailMode, EventKind
from portfolio.models.kpis import KPI
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


class ReportedEvent(models.Model):
    """An event that a recurring check (each recompute's forecasts) has reported already: reported once per change,
    not at every recompute that finds it again."""

    key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.key


class Follow(models.Model):
    """A person follows (hears about it as its owner would) or mutes (never hears about it) one product, one
    portfolio or one KPI. A product's own setting wins over its portfolio's; a KPI's wins over both."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    portfolio = models.ForeignKey(
        Portfolio, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kpi = models.ForeignKey(KPI, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    muted = models.BooleanField(default=False, help_text="Muted: never notified about it.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(product__isnull=False, portfolio__isnull=True, kpi__isnull=True)
                | Q(product__isnull=True, portfolio__isnull=False, kpi__isnull=True)
                | Q(product__isnull=True, portfolio__isnull=True, kpi__isnull=False),
                name="follow_one_thing",
            ),
            models.UniqueConstraint(
                fields=["user", "product"], condition=Q(product__isnull=False), name="follow_product_once"
            ),
            models.UniqueConstraint(
                fields=["user", "portfolio"],
                condition=Q(portfolio__isnull=False),
                name="follow_portfolio_once",
            ),
            models.UniqueConstraint(
                fields=["user", "kpi"], condition=Q(kpi__isnull=False), name="follow_kpi_once"
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.user} {'mutes' if self.muted else 'follows'} {self.product or self.portfolio or self.kpi}"
        )


def validate_time_zone(value: str) -> None:
    if value and value not in available_time_zones():
        raise ValidationError(
            "“%(value)s” is not a time zone: use a name such as Europe/Berlin or America/New_York.",
            params={"value": value},
        )


@functools.cache
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_kinds(value) -> None:
    if not isinstance(value, list) or any(kind not in EventKind.values for kind in value):
        raise ValidationError(
            'List kinds of notification, e.g. ["stage_moved", "gate_overridden"]; known kinds: %(kinds)s.',
            params={"kinds": ", ".join(EventKind.values)},
        )


def validate_modes(value) -> None:
    if not isinstance(value, dict):
        raise ValidationError("The email modes are a mapping of event kind to mode.")
    for kind, mode in value.items():
        if kind not in EventKind.values:
            raise ValidationError("“%(kind)s” is not a kind of notification.", params={"kind": kind})
        if mode not in EmailMode.values:
            raise ValidationError(
                "“%(mode)s” is not a way to hear about %(kind)s: inbox, immediate or digest.",
                params={"mode": mode, "kind": kind},
            )


class AlertSettings(models.Model):
    """How one person hears beyond the inbox: per event kind inbox only, email at once or in a digest; the
    digest's frequency and time zone; quiet hours (no immediate mail then: it waits for their end). A person
    without a row has the catalogue's defaults (``portfolio.alerts.catalogue``)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_settings"
    )
    email_enabled = models.BooleanField(
        default=True, help_text="Off: no email at all (the unsubscribe link turns it off)."
    )
    modes = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_modes],
        help_text="Per event kind: inbox, immediate or digest (a kind not named keeps its default).",
    )
    digest = models.CharField(max_length=10, choices=DigestFrequency.choices, default=DigestFrequency.DAILY)
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="The digest comes at 08:00 here, and quiet hours are read here. Blank: the site's time zone.",
    )
    quiet_from = models.TimeField(null=True, blank=True, help_text="Quiet hours start (local time).")
    quiet_until = models.TimeField(null=True, blank=True, help_text="Quiet hours end (local time).")
    last_digest_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "alert settings"
        verbose_name_plural = "alert settings"
        constraints = [
            models.CheckConstraint(
                condition=choice_check("digest", DigestFrequency), name="alert_digest_valid"
            ),
            models.CheckConstraint(
                condition=Q(quiet_from__isnull=True, quiet_until__isnull=True)
                | (Q(quiet_from__isnull=False, quiet_until__isnull=False) & ~Q(quiet_from=F("quiet_until"))),
                name="alert_quiet_hours_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"Alert settings of {self.user}"

    def clean(self) -> None:
        if (self.quiet_from is None) != (self.quiet_until is None):
            raise ValidationError("Quiet hours need both a start and an end, or neither.")
        if self.quiet_from is not None and self.quiet_from == self.quiet_until:
            raise ValidationError("Quiet hours cannot start and end at the same time.")


class OutboxEmail(models.Model):
    """One email to send, and then its delivery log: Celery sends what is due, a failed send waits for its
    backoff and goes again; nothing is deleted on failure."""

    IMMEDIATE, DIGEST = "immediate", "digest"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    to = models.EmailField()
    kind = models.CharField(max_length=10, choices=[(IMMEDIATE, "Immediate"), (DIGEST, "Digest")])
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(
        default=timezone.now, help_text="Not sent before this (quiet hours, backoff)."
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "outbox email"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["send_after"], condition=Q(sent_at__isnull=True), name="outbox_due"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"

    @property
    def status(self) -> str:
        if self.sent_at:
            return "sent"
        return "retrying" if self.attempts else "queued"


def validate_webhook_url(value: str) -> None:
    """Chat webhooks are https (Slack's and Teams' are); plain http only to this machine (a local relay)."""
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}:
        return
    raise ValidationError(
        "A webhook address starts with https:// (Slack's and Teams' do); http:// only to 127.0.0.1 or localhost."
    )


class ChatWebhook(models.Model):
    """A Slack or Microsoft Teams incoming webhook: a channel that hears one portfolio's events (or every
    portfolio's), as one message per batch. Configured in the admin."""

    SLACK, TEAMS = "slack", "teams"

    name = models.CharField(max_length=100, help_text="E.g. #payments-product")
    service = models.CharField(max_length=10, choices=[(SLACK, "Slack"), (TEAMS, "Microsoft Teams")])
    url = models.URLField(
        max_length=500,
        validators=[validate_webhook_url],
        help_text="The incoming webhook's address (Slack: Incoming Webhooks; Teams: a Workflows webhook).",
    )
    portfolio = models.ForeignKey(
        Portfolio,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="chat_webhooks",
        help_text="Blank: every portfolio's events.",
    )
    kinds = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_kinds],
        help_text="The kinds of event posted (blank: every kind but money). Scenario kinds go to a channel only "
        "when named here: say so only for a channel of people who may see budgets.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = "chat webhook"
        constraints = [
            models.CheckConstraint(
                condition=Q(service__in=["slack", "teams"]), name="chat_webhook_service_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_service_display()})"


class ChatDelivery(models.Model):
    """One message to post to a chat webhook, then its delivery log (as ``OutboxEmail``: retried with backoff,
    never dropped)."""

    webhook = models.ForeignKey(ChatWebhook, on_delete=models.CASCADE, related_name="deliveries")
    text = models.TextField(help_text="The message as it reads in the channel.")
    payload = models.JSONField(help_text="What is posted: the service's own message format.")
    created_at = models.DateTimeField(default=timezone.now)
    send_after = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "chat delivery"
        verbose_name_plural = "chat deliveries"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["send_after"], condition=Q(sent_at__isnull=True), name="chat_due")]

    def __str__(self) -> str:
        return self.text[:80]

    @property
    def status(self) -> str:
        if self.sent_at:
            return "sent"
        return "retrying" if self.attempts else "queued"
