"""Admin for the strategy models. Writes to the live plan go through the same services as the pages
(``budget_line_set``, ``alignment_set``, ``priority_score_set``), so the plan version, its history and the
products' money totals follow an admin edit too. Scenarios and the plan history are read-only here: a scenario
changes and is approved on its page, where the live-plan check runs."""

from django.contrib import admin
from django.db import transaction

from portfolio import investment, objectives, prioritization
from portfolio.models import (
    Alignment,
    BudgetLine,
    KeyResult,
    PlanChange,
    PlanState,
    PriorityScore,
    Scenario,
    ScenarioLine,
)
from portfolio.permissions import can_align, can_edit_budget, can_edit_priority
from portfolio.plan import plan_change
from products.admin_permissions import RowPermissionAdminMixin
from products.permissions import can_edit_portfolio


@admin.register(KeyResult)
class KeyResultAdmin(RowPermissionAdminMixin, admin.ModelAdmin):
    list_display = ("title", "objective", "kpi", "target", "order")
    list_select_related = ("objective__portfolio", "kpi")
    list_filter = ("objective__portfolio",)
    search_fields = ("title", "objective__title")
    autocomplete_fields = ("objective",)
    row_permission = staticmethod(lambda user, obj: can_edit_portfolio(user, obj.objective.portfolio))


@admin.register(Alignment)
class AlignmentAdmin(RowPermissionAdminMixin, admin.ModelAdmin):
    list_display = ("product", "objective", "weight", "updated_at")
    list_select_related = ("product", "objective__portfolio")
    list_filter = ("objective__portfolio",)
    search_fields = ("product__name", "product__slug", "objective__title")
    raw_id_fields = ("product", "objective")
    row_permission = staticmethod(lambda user, obj: can_align(user, obj.product, obj.objective))

    def save_model(self, request, obj, form, change):
        if not self.may_change_row(request, obj):
            return super().save_model(request, obj, form, change)  # the mixin refuses
        saved = objectives.alignment_set(
            product=obj.product, objective=obj.objective, weight=obj.weight, by=request.user
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        objectives.alignment_remove(alignment=obj, by=request.user)


@admin.register(BudgetLine)
class BudgetLineAdmin(RowPermissionAdminMixin, admin.ModelAdmin):
    list_display = ("product", "quarter", "kind", "planned", "actual", "updated_at")
    list_select_related = ("product",)
    list_filter = ("kind", "quarter", "product__portfolio")
    search_fields = ("product__name", "product__slug")
    raw_id_fields = ("product",)
    date_hierarchy = "quarter"
    row_permission = staticmethod(lambda user, obj: can_edit_budget(user, obj.product))

    def save_model(self, request, obj, form, change):
        if not self.may_change_row(request, obj):
            return super().save_model(request, obj, form, change)
        saved = investment.budget_line_set(
            product=obj.product,
            quarter=obj.quarter,
            kind=obj.kind,
            planned=obj.planned,
            actual=obj.actual,
            by=request.user,
        )
        obj.pk = saved.pk

    @transaction.atomic
    def delete_model(self, request, obj):
        summary = f"{obj.product.name} {investment.quarter_label(obj.quarter)} {obj.kind}: line deleted"
        with plan_change(by=request.user, summary=summary, portfolio=obj.product.portfolio):
            obj.delete()
            investment.products_sync_money(product_ids=[obj.product_id])


@admin.register(PriorityScore)
class PriorityScoreAdmin(RowPermissionAdminMixin, admin.ModelAdmin):
    list_display = ("product", "rice", "wsjf", "reach", "impact", "confidence", "effort", "updated_at")
    list_select_related = ("product",)
    search_fields = ("product__name", "product__slug")
    raw_id_fields = ("product",)
    readonly_fields = ("rice", "wsjf", "updated_by")
    row_permission = staticmethod(lambda user, obj: can_edit_priority(user, obj.product))

    def save_model(self, request, obj, form, change):
        if not self.may_change_row(request, obj):
            return super().save_model(request, obj, form, change)
        values = {name: getattr(obj, name) for name in prioritization.SCORE_FIELDS}
        saved = prioritization.priority_score_set(product=obj.product, values=values, by=request.user)
        obj.pk = saved.pk


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class ScenarioLineInline(admin.TabularInline):
    model = ScenarioLine
    fields = ("product", "new_name", "base_planned", "planned", "paused")
    readonly_fields = fields
    raw_id_fields = ("product",)
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


@admin.register(Scenario)
class ScenarioAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "portfolio",
        "status",
        "horizon_start",
        "base_version",
        "created_by",
        "created_at",
        "decided_at",
    )
    list_filter = ("status", "portfolio")
    list_select_related = ("portfolio", "created_by")
    search_fields = ("name",)
    inlines = [ScenarioLineInline]


@admin.register(PlanChange)
class PlanChangeAdmin(ReadOnlyAdmin):
    list_display = ("version", "summary", "by", "portfolio", "scenario", "at")
    list_select_related = ("by", "portfolio", "scenario")
    list_filter = ("portfolio",)
    search_fields = ("summary",)


@admin.register(PlanState)
class PlanStateAdmin(ReadOnlyAdmin):
    list_display = ("version",)
