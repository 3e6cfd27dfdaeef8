"""Admin for recorded stage transitions (also shown inline on each product's admin page)."""

from django.contrib import admin
from django.utils.text import Truncator

from lifecycle.models import StageTransition
from products.admin_history import HistoryAdmin
from products.admin_paginator import LargeTableAdminMixin


@admin.register(StageTransition)
class StageTransitionAdmin(LargeTableAdminMixin, HistoryAdmin):
    """Every product's stage history. Grows with every move of every product, so it pages like the other big tables."""

    list_display = ("product", "from_stage", "to_stage", "is_backward", "at", "by", "short_note")
    list_filter = ("to_stage", "from_stage", "product__portfolio", "product__market", "product__focus")
    search_fields = ("product__name", "product__slug", "by__username", "note")
    autocomplete_fields = ("product", "by")
    list_select_related = ("product", "by")
    date_hierarchy = "at"
    ordering = ("-at", "-pk")
    fields = ("product", "from_stage", "to_stage", "is_backward", "at", "by", "note")
    readonly_fields = ("is_backward",)

    @admin.display(boolean=True, description="Backward")
    def is_backward(self, transition: StageTransition) -> bool | None:
        return transition.is_backward if transition.pk else None

    @admin.display(description="Note")
    def short_note(self, transition: StageTransition) -> str:
        return Truncator(transition.note).chars(60)
