"""Admin for the strategy models. Writes to the live plan go through the same services as the pages
(``budget_line_set``, ``alignment_set``, ``priority_score_set``), so the plan version, its history and the
products' money totals follow an admin edit too. Scenarios and the plan history are read-only here: a scenario
changes and is approved on its page, where the live-plan check runs."""

from django.contrib import admin
from django.db import transaction
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest

from portfolio.models import (
    Alignment,
    BudgetLine,
    KeyResult,
    Objective,
    PlanChange,
    PlanState,
    Portfolio,
    PriorityScore,
    Scenario,
    ScenarioLine,
)
from portfolio.strategy.permissions import can_align, can_edit_budget, can_edit_priority
from portfolio.strategy.rules import SCORE_FIELDS
from portfolio.strategy.services.alignments import alignment_remove, alignment_set
from portfolio.strategy.services.budgets import budget_line_delete, budget_line_set
from portfolio.strategy.services.priorities import priority_score_set
from products.admin import admin_changelist_link
from products.permissions import can_edit_portfolio
from spm.admin_tools.numbers import NumberColumn, grouped
from spm.admin_tools.paginator import CountedDeletionMixin
from spm.admin_tools.permissions import RowPermissionAdminMixin

# --------------------------------------------------------------------------------------------------
# Portfolios and objectives
# --------------------------------------------------------------------------------------------------


class ObjectiveInline(admin.TabularInline):
    model = Objective
    fields = ("order", "title", "target_date", "description")
    ordering = ("order", "title")
    extra = 0
    show_change_link = True


@admin.register(Portfolio)
class PortfolioAdmin(CountedDeletionMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "director",
        NumberColumn("budget"),
        "product_count",
        "planned_budget",
        "actual_spend",
        "created_at",
    )
    search_fields = ("name", "slug", "director__username", "director__first_name", "director__last_name")
    autocomplete_fields = ("director",)
    list_select_related = ("director",)
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    fields = ("name", "slug", "description", "director", "budget", "products_link", "created_at")
    readonly_fields = ("products_link", "created_at")
    inlines = (ObjectiveInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Portfolio]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                product_total=Count("products"),
                planned_total=Sum("products__planned_budget"),
                actual_total=Sum("products__actual_spend"),
            )
        )

    @admin.display(description="Products", ordering="product_total")
    def product_count(self, portfolio: Portfolio) -> str:
        return grouped(portfolio.product_total)

    @admin.display(description="Products' planned budget", ordering="planned_total")
    def planned_budget(self, portfolio: Portfolio) -> str | None:
        return grouped(portfolio.planned_total, 2)

    @admin.display(description="Products' actual spend", ordering="actual_total")
    def actual_spend(self, portfolio: Portfolio) -> str | None:
        return grouped(portfolio.actual_total, 2)

    @admin.display(description="Products")
    def products_link(self, portfolio: Portfolio) -> str:
        if portfolio.pk is None:
            return "-"
        return admin_changelist_link(
            "products.product", f"{portfolio.product_total} product(s)", portfolio__id__exact=portfolio.pk
        )


@admin.register(Objective)
class ObjectiveAdmin(RowPermissionAdminMixin, admin.ModelAdmin):
    row_permission = staticmethod(lambda user, objective: can_edit_portfolio(user, objective.portfolio))
    list_display = ("title", "scope", "target_date", "order")
    list_editable = ("order",)
    list_filter = ("portfolio", "target_date")
    search_fields = ("title", "description", "portfolio__name")
    autocomplete_fields = ("portfolio",)
    list_select_related = ("portfolio",)
    ordering = ("portfolio__name", "order", "title")

    @admin.display(description="Portfolio", ordering="portfolio__name")
    def scope(self, objective: Objective) -> str:
        return objective.portfolio.name if objective.portfolio else "Whole organisation"


@admin.register(KeyResult)
class KeyResultAdmin(RowPermissionAdminMixin, admin.ModelAdmin):
    list_display = ("title", "objective", "kpi", NumberColumn("target"), "order")
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
        saved = alignment_set(
            product=obj.product, objective=obj.objective, weight=obj.weight, by=request.user
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        alignment_remove(alignment=obj, by=request.user)


@admin.register(BudgetLine)
class BudgetLineAdmin(RowPermissionAdminMixin, admin.ModelAdmin):
    list_display = (
        "product",
        "quarter",
        "kind",
        NumberColumn("planned"),
        NumberColumn("actual"),
        "updated_at",
    )
    list_select_related = ("product",)
    list_filter = ("kind", "quarter", "product__portfolio")
    search_fields = ("product__name", "product__slug")
    raw_id_fields = ("product",)
    date_hierarchy = "quarter"
    row_permission = staticmethod(lambda user, obj: can_edit_budget(user, obj.product))

    def save_model(self, request, obj, form, change):
        if not self.may_change_row(request, obj):
            return super().save_model(request, obj, form, change)
        saved = budget_line_set(
            product=obj.product,
            quarter=obj.quarter,
            kind=obj.kind,
            planned=obj.planned,
            actual=obj.actual,
            by=request.user,
        )
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        budget_line_delete(line=obj, by=request.user)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        """ "Delete selected": each line through the service, so the plan's history and the products' totals
        follow (a plain queryset delete would leave both behind)."""
        for line in queryset.select_related("product__portfolio"):
            budget_line_delete(line=line, by=request.user)


@admin.register(PriorityScore)
class PriorityScoreAdmin(RowPermissionAdminMixin, admin.ModelAdmin):
    # The scores are worked out from the inputs on save: shown grouped, never typed.
    rice_grouped = NumberColumn("rice", "RICE")
    wsjf_grouped = NumberColumn("wsjf", "WSJF")
    list_display = (
        "product",
        rice_grouped,
        wsjf_grouped,
        NumberColumn("reach"),
        "impact",
        "confidence",
        "effort",
        "updated_at",
    )
    list_select_related = ("product",)
    search_fields = ("product__name", "product__slug")
    raw_id_fields = ("product",)
    exclude = ("rice", "wsjf")
    readonly_fields = ("rice_grouped", "wsjf_grouped", "updated_by")
    row_permission = staticmethod(lambda user, obj: can_edit_priority(user, obj.product))

    def save_model(self, request, obj, form, change):
        if not self.may_change_row(request, obj):
            return super().save_model(request, obj, form, change)
        values = {name: getattr(obj, name) for name in SCORE_FIELDS}
        saved = priority_score_set(product=obj.product, values=values, by=request.user)
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
    base_planned_grouped = NumberColumn("base_planned")
    planned_grouped = NumberColumn("planned")
    fields = ("product", "new_name", "base_planned_grouped", "planned_grouped", "paused")
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
