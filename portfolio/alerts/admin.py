"""Notifications in the admin: what was sent to whom (read-only: a notification is never typed), and what each
person follows or mutes (editable, as on the product page)."""

from django.contrib import admin
from django.http import HttpRequest

from portfolio.models import Follow, Notification
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
