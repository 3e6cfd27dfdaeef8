"""Admin for people, products and memberships.

A product's stage is edited here like any field, but the move goes through ``lifecycle.services.
product_move_stage`` as it does everywhere else: the same rules and permission, a recorded transition (from,
to, when, who) and the ``stage_changed`` signal; an added product is created by ``lifecycle.services.
product_create``, which records its first stage. Edits that move a product to another rollup scope (portfolio,
owner, market, focus) or delete it enqueue the recompute of its KPIs' rollups. The product page shows its
transitions and members inline; links lead to its KPI targets and measurements, too many to show inline.

Products and memberships have a read-only "History" page (``spm.admin_tools.history.HistoryAdmin``), and a product
saved from a page loaded before someone else's save is refused as a conflict instead of overwriting it.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from lifecycle.admin import PRODUCT_INLINES, move_to_stage
from lifecycle.models import StageTransition
from lifecycle.services import StageMoveRefused, check_move, product_create, product_move_stage
from portfolio.kpis.services import rollups_mark_stale
from portfolio.models import Measurement
from products.models import ImportRun, Membership, Product, User
from products.permissions import can_edit_product, can_move_stage
from spm.admin_tools.history import HistoryAdmin, VersionCheckedAdminMixin, VersionCheckedForm
from spm.admin_tools.numbers import NumberColumn
from spm.admin_tools.paginator import CountedDeletionMixin
from spm.admin_tools.permissions import RowPermissionAdminMixin

ADMIN_STAGE_NOTE = "Stage set in Django admin."
#: Product fields that decide which rollup scopes its measurements count in. The stage is one too; its moves
#: go through the lifecycle service, whose ``stage_changed`` signal the portfolio app answers.
ROLLUP_SCOPE_FIELDS = {"portfolio", "owner", "market", "focus"}


def measured_kpi_ids(products: QuerySet[Product] | list[Product]) -> set[int]:
    """The KPIs the products have measurements of: the rollups that change when the products do."""
    return set(
        Measurement.objects.filter(product__in=products)
        .order_by()
        .values_list("kpi_id", flat=True)
        .distinct()
    )


def rollups_enqueue_for(kpi_ids: set[int]) -> None:
    """Mark every period of these KPIs' rollups stale; one refresh follows the commit."""
    if kpi_ids:
        rollups_mark_stale(kpi_ids=kpi_ids)


def admin_changelist_link(model_label: str, label: str, **filters: object) -> str:
    """A link to another model's admin list, filtered (``portfolio.measurement``, product=3)."""
    app_label, model_name = model_label.split(".")
    url = reverse(f"admin:{app_label}_{model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


class UserMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    fields = ("product", "role", "joined_at")
    autocomplete_fields = ("product",)
    extra = 0
    show_change_link = True
    verbose_name_plural = "Memberships (roles on products)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        # Each row prints the membership (person and product): join both rather than query them per row.
        return super().get_queryset(request).select_related("product", "user")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin (password hashing, password change form) plus the person's rung and title."""

    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email")}),
        ("Product organisation", {"fields": ("role", "title", "owned_products_link")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "usable_password", "password1", "password2"),
            },
        ),
        (
            "Product organisation",
            {"classes": ("wide",), "fields": ("first_name", "last_name", "email", "role", "title")},
        ),
    )
    list_display = ("username", "full_name", "email", "role", "title", "is_staff", "is_active", "last_login")
    list_filter = ("role", "is_staff", "is_superuser", "is_active", "groups")
    search_fields = ("username", "first_name", "last_name", "email", "title")
    ordering = ("username",)
    readonly_fields = ("owned_products_link", "last_login", "date_joined")
    inlines = (UserMembershipInline,)

    @admin.display(description="Name", ordering="last_name")
    def full_name(self, user: User) -> str:
        return user.get_full_name()

    @admin.display(description="Owned products")
    def owned_products_link(self, user: User) -> str:
        if user.pk is None:
            return "-"
        count = user.owned_products.count()
        return admin_changelist_link(
            "products.product", f"{count} owned product(s)", owner__id__exact=user.pk
        )


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("user", "role", "joined_at")
    autocomplete_fields = ("user",)
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("product", "user")


class StageTransitionInline(admin.TabularInline):
    """The product's stage history, oldest first. Editable so an admin can correct a date or a note."""

    model = StageTransition
    fields = ("from_stage", "to_stage", "at", "by", "note", "is_backward")
    readonly_fields = ("is_backward",)
    autocomplete_fields = ("by",)
    ordering = ("at", "pk")
    extra = 0
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[StageTransition]:
        return super().get_queryset(request).select_related("product", "by")

    @admin.display(boolean=True, description="Backward")
    def is_backward(self, transition: StageTransition) -> bool | None:
        return transition.is_backward if transition.pk else None


class ProductAdminForm(VersionCheckedForm):
    """Refuses a change of stage that the lifecycle would refuse, as a form error rather than a failed save, and
    a save from a page loaded before someone else's save (``VersionCheckedForm``)."""

    #: The person making the change; ``ProductAdmin.get_form`` sets it on each request's form class.
    mover: User | None = None

    def clean(self):
        cleaned_data = super().clean()
        to = cleaned_data.get("stage")
        # The instance still holds the saved stage here: the form copies its values onto it after clean().
        if self.instance.pk and to and "stage" in self.changed_data:
            if self.mover is None or not can_move_stage(self.mover, self.instance):
                self.add_error("stage", "You may not move this product between stages.")
            else:
                try:
                    check_move(product=self.instance, to=to, note=ADMIN_STAGE_NOTE)
                except StageMoveRefused as refused:
                    self.add_error("stage", refused)
        return cleaned_data


@admin.register(Product)
class ProductAdmin(RowPermissionAdminMixin, CountedDeletionMixin, VersionCheckedAdminMixin, HistoryAdmin):
    row_permission = staticmethod(can_edit_product)
    # Money with its thousands grouped, in the list and on the product's page (spm.admin_tools.numbers).
    planned_budget_grouped = NumberColumn("planned_budget")
    actual_spend_grouped = NumberColumn("actual_spend")
    list_display = (
        "name",
        "portfolio",
        "owner",
        "stage",
        "days_in_stage",
        "health",
        "market",
        "focus",
        planned_budget_grouped,
        actual_spend_grouped,
        "spend_ratio",
        "updated_at",
    )
    list_filter = ("stage", "health", "market", "focus", "portfolio")
    search_fields = ("name", "slug", "owner__username", "owner__first_name", "owner__last_name")
    autocomplete_fields = ("portfolio", "owner")
    list_select_related = ("portfolio", "owner")
    ordering = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    # Money is the sum of the product's budget lines (their admin page), kept by the budget services.
    readonly_fields = (
        "days_in_stage",
        "health",
        "planned_budget_grouped",
        "actual_spend_grouped",
        "spend_ratio",
        "kpi_links",
        "created_at",
        "updated_at",
    )
    fieldsets = (
        # "version" renders hidden: the version this page was loaded with, checked on save.
        (None, {"fields": ("name", "slug", "description", "portfolio", "owner", "version")}),
        ("Positioning", {"fields": ("market", "focus")}),
        ("Lifecycle", {"fields": ("stage", "stage_entered_at", "days_in_stage")}),
        ("Money", {"fields": ("planned_budget_grouped", "actual_spend_grouped", "spend_ratio")}),
        (
            "KPIs",
            {
                "fields": ("health", "kpi_links"),
                "description": "Health is derived from the product's KPIs when rollups are recomputed.",
            },
        ),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )
    inlines = (MembershipInline, StageTransitionInline, *PRODUCT_INLINES)
    form = ProductAdminForm
    actions = (move_to_stage,)

    def get_form(self, request: HttpRequest, obj: Product | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.mover = request.user  # a class made for this request: the attribute does not leak
        return form

    @admin.display(description="Days in stage", ordering="-stage_entered_at")
    def days_in_stage(self, product: Product) -> int | str:
        return product.days_in_stage if product.pk else "-"

    @admin.display(description="Spent")
    def spend_ratio(self, product: Product) -> str:
        if not product.planned_budget:
            return "-"
        return f"{product.actual_spend / product.planned_budget:.0%}"

    @admin.display(description="KPI data")
    def kpi_links(self, product: Product) -> str:
        if product.pk is None:
            return "-"
        return format_html_join(
            " · ",
            "{}",
            (
                (admin_changelist_link("portfolio.measurement", "Measurements", product=product.pk),),
                (admin_changelist_link("portfolio.kpitarget", "KPI targets", product=product.pk),),
            ),
        )

    def save_model(self, request: HttpRequest, obj: Product, form, change: bool) -> None:
        if not change:
            # The create service saves the product and starts its stage history (the stage it was created in).
            self.check_row_save(request, obj)
            product_create(product=obj, by=request.user, note=ADMIN_STAGE_NOTE)
            return
        changed = set(form.changed_data)
        initial_entered = form.initial.get("stage_entered_at")
        if (
            "stage_entered_at" in changed
            and initial_entered is not None
            and obj.stage_entered_at == initial_entered.replace(microsecond=0)
        ):
            # The admin's date and time fields hold whole seconds: the same moment, not a change.
            obj.stage_entered_at = initial_entered
            changed.discard("stage_entered_at")
        if not changed:
            return  # a save that changes nothing writes nothing: no history entry, no new version
        moved_to = obj.stage if "stage" in changed else None
        if moved_to:
            obj.stage = form.initial["stage"]  # the lifecycle service makes the move, below
        super().save_model(request, obj, form, change)
        if moved_to:
            product_move_stage(product=obj, to=moved_to, by=request.user, note=ADMIN_STAGE_NOTE)
            obj.refresh_from_db(fields=["stage", "stage_entered_at", "updated_at"])
        if ROLLUP_SCOPE_FIELDS & set(form.changed_data):
            rollups_enqueue_for(measured_kpi_ids([obj]))

    # The KPIs are read before the delete and the recompute asked after it: outside a transaction (the
    # "delete selected" action) the request runs at once.
    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        kpi_ids = measured_kpi_ids([obj])
        super().delete_model(request, obj)
        rollups_enqueue_for(kpi_ids)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        kpi_ids = measured_kpi_ids(queryset)
        super().delete_queryset(request, queryset)
        rollups_enqueue_for(kpi_ids)


@admin.register(Membership)
class MembershipAdmin(RowPermissionAdminMixin, HistoryAdmin):
    row_permission = staticmethod(lambda user, membership: can_edit_product(user, membership.product))
    list_display = ("product", "user", "role", "joined_at")
    list_filter = ("role", "product__portfolio")
    search_fields = (
        "product__name",
        "product__slug",
        "user__username",
        "user__first_name",
        "user__last_name",
    )
    autocomplete_fields = ("product", "user")
    list_select_related = ("product", "user")
    ordering = ("product__name", "user__username")


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """The audit list of CSV imports (docs/imports.md): read-only. The uploaded bytes (``ImportChunk``) have no
    admin page: an upload is never served back."""

    list_display = (
        "pk",
        "created_at",
        "kind",
        "file_name",
        "uploaded_by",
        "source",
        "status",
        NumberColumn("created"),
        NumberColumn("updated"),
        NumberColumn("unchanged"),
        NumberColumn("error_count"),
    )
    list_filter = ("kind", "status", "source")
    search_fields = ("file_name", "uploaded_by__username")
    list_select_related = ("uploaded_by",)
    date_hierarchy = "created_at"
    exclude = ("errors",)
    readonly_fields = ("problems",)

    @admin.display(description="problems (the first ones kept)")
    def problems(self, run: ImportRun) -> str:
        return (
            format_html_join(
                "\n",
                "<div>line {}, {}: {}</div>",
                ((line, column or "whole line", message) for line, column, message in run.errors),
            )
            or "—"
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
