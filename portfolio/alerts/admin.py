"""Notifications in the admin: what was sent to whom (read-only: a notification is never typed), what each
person follows or mutes and how they hear by email (editable, as on their pages), and the email outbox: the
delivery log, where a mail that failed says why and can be sent again now."""

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest

from portfolio.alerts.services import (
    chat_request_send,
    chat_retry_now,
    chat_test_message,
    outbox_request_send,
    outbox_retry_now,
)
from portfolio.models import AlertSettings, ChatDelivery, ChatWebhook, Follow, Notification, OutboxEmail
from spm.admin_tools.paginator import LargeTableAdminMixin


@admin.register(Notification)
class NotificationAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "sentence", "read_at")
    list_filter = ("kind",)
    list_select_related = ("recipient",)
    search_fields = ("recipient__username", "sentence")
    ordering = ("-created_at", "-pk")
    raw_id_fields = ("recipient", "product", "portfolio")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("user", "product", "portfolio", "muted")
    list_filter = ("muted",)
    list_select_related = ("user", "product", "portfolio")
    raw_id_fields = ("user", "product")
    search_fields = ("user__username", "product__name", "portfolio__name")


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "email_enabled",
        "digest",
        "time_zone",
        "quiet_from",
        "quiet_until",
        "last_digest_at",
    )
    list_filter = ("email_enabled", "digest")
    list_select_related = ("user",)
    raw_id_fields = ("user",)
    search_fields = ("user__username", "user__email")
    readonly_fields = ("last_digest_at",)


class DeliveryLogAdmin(LargeTableAdminMixin, admin.ModelAdmin):
    """A delivery log (the email outbox, the chat deliveries): read-only, each row's status, and "send again
    now" for what has not gone yet. ``retry`` and ``request_send`` name the services that do it."""

    ordering = ("-created_at", "-pk")
    actions = ["send_again_now"]
    noun = "message"
    retry = staticmethod(chat_retry_now)
    request_send = staticmethod(chat_request_send)

    @admin.display(description="Status")
    def status(self, item) -> str:
        return {"sent": "Sent", "retrying": "Failed, will retry", "queued": "Queued"}[item.status]

    @admin.action(description="Send the selected unsent ones again now", permissions=["change"])
    def send_again_now(self, request: HttpRequest, queryset) -> None:
        count = self.retry(queryset)
        if count:
            # After commit, as every write's task; a broker that is down leaves them for beat's next minute.
            transaction.on_commit(self.request_send, robust=True)
        self.message_user(
            request,
            f"{count} {self.noun}{'s' if count != 1 else ''} queued to go now."
            if count
            else "Those were sent already.",
            messages.SUCCESS if count else messages.WARNING,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(OutboxEmail)
class OutboxEmailAdmin(DeliveryLogAdmin):
    """The email delivery log: a mail is composed by the notifications, never typed here."""

    list_display = ("created_at", "to", "kind", "subject", "status", "attempts", "sent_at", "send_after")
    list_filter = ("kind", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("to", "subject")
    readonly_fields = [field.name for field in OutboxEmail._meta.fields]
    noun = "mail"
    retry = staticmethod(outbox_retry_now)
    request_send = staticmethod(outbox_request_send)


@admin.register(ChatWebhook)
class ChatWebhookAdmin(admin.ModelAdmin):
    """A Slack or Teams channel per portfolio (docs/alerts.md, "Slack and Microsoft Teams")."""

    list_display = ("name", "service", "portfolio", "active", "created_at")
    list_filter = ("service", "active", "portfolio")
    search_fields = ("name",)
    actions = ["send_test_message"]

    @admin.action(description="Send a test message to the selected channels", permissions=["change"])
    def send_test_message(self, request: HttpRequest, queryset) -> None:
        hooks = list(queryset)
        for hook in hooks:
            chat_test_message(hook)
        self.message_user(
            request,
            f"Test message queued for {len(hooks)} channel{'s' if len(hooks) != 1 else ''}: "
            "the chat deliveries show whether it arrived.",
            messages.SUCCESS,
        )


@admin.register(ChatDelivery)
class ChatDeliveryAdmin(DeliveryLogAdmin):
    """The chat delivery log: what was posted to which channel, and whether it arrived."""

    list_display = ("created_at", "webhook", "text", "status", "attempts", "sent_at", "send_after")
    list_filter = ("webhook", ("sent_at", admin.EmptyFieldListFilter))
    list_select_related = ("webhook",)
    search_fields = ("text",)
    readonly_fields = [field.name for field in ChatDelivery._meta.fields]
