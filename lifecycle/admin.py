"""Admin for stage transitions, every lifecycle work product and the stuck thresholds, plus the "Move to
stage…" action on products, which goes through ``lifecycle.services.product_move_stage`` like every move."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.text import Truncator

from lifecycle.forms import StageMoveForm
from lifecycle.models import (
    Competitor,
    EvidenceLink,
    Experiment,
    FeedbackItem,
    FeedbackTheme,
    Goal,
    Hypothesis,
    Milestone,
    MVPPlan,
    OpportunityCase,
    PainPoint,
    Persona,
    ProblemStatement,
    Release,
    ResearchNote,
    RoadmapItem,
    StageThreshold,
    StageTransition,
    StrategyBrief,
    SuccessCriterion,
)
from lifecycle.services import StageMoveRefused, product_move_stage
from products.models import Product
from products.permissions import can_edit_product
from spm.admin_tools.history import HistoryAdmin
from spm.admin_tools.numbers import NumberColumn
from spm.admin_tools.paginator import LargeTableAdminMixin
from spm.admin_tools.permissions import RowPermissionAdminMixin


@admin.register(StageTransition)
class StageTransitionAdmin(LargeTableAdminMixin, HistoryAdmin):
    """Every product's stage history. Grows with every move of every product, so it pages like the other big tables."""

    list_display = (
        "product",
        "from_stage",
        "to_stage",
        "is_backward",
        "gate_overridden",
        "at",
        "by",
        "short_note",
    )
    list_filter = (
        "gate_overridden",
        "to_stage",
        "from_stage",
        "product__portfolio",
        "product__market",
        "product__focus",
    )
    search_fields = ("product__name", "product__slug", "by__username", "note", "override_reason")
    autocomplete_fields = ("product", "by")
    list_select_related = ("product", "by")
    date_hierarchy = "at"
    ordering = ("-at", "-pk")
    fields = (
        "product",
        "from_stage",
        "to_stage",
        "is_backward",
        "at",
        "by",
        "note",
        "gate_overridden",
        "override_reason",
        "unmet_criteria",
    )
    readonly_fields = ("is_backward",)

    @admin.display(boolean=True, description="Backward")
    def is_backward(self, transition: StageTransition) -> bool | None:
        return transition.is_backward if transition.pk else None

    @admin.display(description="Note")
    def short_note(self, transition: StageTransition) -> str:
        return Truncator(transition.override_reason or transition.note).chars(60)


# ------------------------------------------------------------------------------------------------ work products


class WorkProductAdmin(RowPermissionAdminMixin, HistoryAdmin):
    """A work product belongs to one product: it is changed by the people who may edit that product. Its
    "History" page is read-only (docs/history.md)."""

    row_permission = staticmethod(lambda user, row: can_edit_product(user, row.product))
    autocomplete_fields = ("product",)
    list_select_related = ("product",)
    search_fields = ("product__name", "product__slug")
    list_filter = ("product__portfolio",)


def _register(model, *, list_display, list_filter=(), search=(), extra_autocomplete=()):
    admin_class = type(
        f"{model.__name__}Admin",
        (WorkProductAdmin,),
        {
            "list_display": ("product", *list_display),
            "list_filter": (*list_filter, "product__portfolio"),
            "search_fields": ("product__name", "product__slug", *search),
            "autocomplete_fields": ("product", *extra_autocomplete),
            "__module__": __name__,
        },
    )
    admin.site.register(model, admin_class)


_register(ProblemStatement, list_display=("updated_at",), search=("statement",))
_register(
    PainPoint, list_display=("description", "severity"), list_filter=("severity",), search=("description",)
)
_register(Persona, list_display=("name",), search=("name",))
_register(Competitor, list_display=("name",), search=("name", "gap"))
_register(EvidenceLink, list_display=("title", "url"), search=("title", "url"))
_register(
    OpportunityCase,
    list_display=(
        NumberColumn("tam", "TAM"),
        NumberColumn("sam", "SAM"),
        NumberColumn("som", "SOM"),
        "target_date",
    ),
)
_register(Goal, list_display=("title", "objective"), search=("title",))
_register(Hypothesis, list_display=("statement", "outcome"), list_filter=("outcome",), search=("statement",))
_register(
    Experiment,
    list_display=("title", "method", "status", "outcome"),
    list_filter=("method", "status", "outcome"),
    search=("title",),
)
_register(ResearchNote, list_display=("title", "noted_on"), search=("title", "body"))
_register(MVPPlan, list_display=("launch_date", "updated_at"))
_register(
    SuccessCriterion,
    list_display=("description", "kpi", NumberColumn("target"), "met"),
    search=("description",),
)
_register(FeedbackTheme, list_display=("name",), search=("name",))
_register(
    FeedbackItem,
    list_display=("received_on", "source", "segment", "sentiment", "score", "theme"),
    list_filter=("sentiment", "segment", "source"),
    search=("text",),
)
_register(StrategyBrief, list_display=("updated_at",), search=("positioning", "pricing_notes"))
_register(
    RoadmapItem,
    list_display=("title", "target_date", "status", "order"),
    list_filter=("status",),
    search=("title",),
)
_register(
    Release,
    list_display=("name", "kind", "planned_date", "actual_date", "status"),
    list_filter=("kind", "status"),
    search=("name",),
)
_register(
    Milestone,
    list_display=("title", "release", "planned_date", "actual_date", "status"),
    list_filter=("status",),
    search=("title",),
)


@admin.register(StageThreshold)
class StageThresholdAdmin(admin.ModelAdmin):
    """Days in a stage after which the lifecycle analytics call a product stuck (a stage without a row uses the
    default in ``lifecycle.analytics.selectors.DEFAULT_STUCK_DAYS``)."""

    list_display = ("stage", "stuck_after_days")
    ordering = ("stage",)


# Inlines for the product's admin page: the lists a product's editors look at most.
class RoadmapItemInline(admin.TabularInline):
    model = RoadmapItem
    fields = ("title", "target_date", "status", "order")
    extra = 0


class ReleaseInline(admin.TabularInline):
    model = Release
    fields = ("name", "kind", "planned_date", "actual_date", "status")
    extra = 0


class MilestoneInline(admin.TabularInline):
    model = Milestone
    fields = ("title", "release", "planned_date", "actual_date", "status")
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        # Only this product's releases, not every release of every product.
        formset.form.base_fields["release"].queryset = (
            Release.objects.filter(product=obj) if obj else Release.objects.none()
        )
        return formset


PRODUCT_INLINES = (RoadmapItemInline, ReleaseInline, MilestoneInline)


# ------------------------------------------------------------------------------------------------ the move action


class MoveToStageForm(StageMoveForm):
    """The board's move form (same fields and limits) for the admin's "Move to stage…" of several products."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "override_reason"
        ].help_text = "Directors (their portfolios), VPs and superusers: moves past unmet gate criteria with this reason."


@admin.action(description="Move to stage…")
def move_to_stage(
    modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Product]
) -> HttpResponse | None:
    """Move the selected products through ``product_move_stage``, one by one: each obeys its own gate, and a
    refused one is reported without stopping the others."""
    form = MoveToStageForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        moved, refused = 0, []
        for product in queryset.select_related("portfolio"):
            try:
                product_move_stage(
                    product=product,
                    to=form.cleaned_data["to"],
                    by=request.user,
                    note=form.cleaned_data["note"],
                    override_reason=form.cleaned_data["override_reason"],
                )
            except (StageMoveRefused, PermissionDenied) as refusal:
                refused.append(f"{product.name}: {' '.join(getattr(refusal, 'messages', [str(refusal)]))}")
            else:
                moved += 1
        if moved:
            modeladmin.message_user(
                request, f"Moved {moved} product{'s' if moved != 1 else ''}.", messages.SUCCESS
            )
        for line in refused:
            modeladmin.message_user(request, f"Not moved: {line}", messages.WARNING)
        return None
    return TemplateResponse(
        request,
        "admin/lifecycle/move_to_stage.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": "Move products to another stage",
            "form": form,
            "products": queryset,
            "opts": modeladmin.model._meta,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        },
    )
