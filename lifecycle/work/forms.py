"""Input parsing for the lifecycle: the stage move (board and product page) and every work product."""

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from lifecycle.models import (
    Competitor,
    EvidenceLink,
    Experiment,
    ExperimentStatus,
    FeedbackItem,
    FeedbackTheme,
    Goal,
    Hypothesis,
    Milestone,
    MilestoneStatus,
    MVPPlan,
    OpportunityCase,
    Outcome,
    PainPoint,
    Persona,
    ProblemStatement,
    Release,
    ReleaseStatus,
    ResearchNote,
    RoadmapItem,
    StrategyBrief,
    SuccessCriterion,
)
from lifecycle.work.kinds import KINDS_BY_SLUG
from products.models import Product

# ---------------------------------------------------------------------------------------------------------
# Work products: one ModelForm per kind. ``product`` is never a form field: the view ties each row to the
# product in its URL (``lifecycle.services.work_product_save``), and choices of related rows (hypotheses,
# themes, releases, objectives) are limited to that product's own.
# ---------------------------------------------------------------------------------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class WorkProductForm(forms.ModelForm):
    def __init__(self, *args, product: Product, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs.setdefault("rows", 3)


class ProblemStatementForm(WorkProductForm):
    class Meta:
        model = ProblemStatement
        fields = KINDS_BY_SLUG["problem-statement"].fields
        widgets = {"statement": forms.Textarea(attrs={"rows": 4})}
        labels = {"statement": "Problem statement"}


class PainPointForm(WorkProductForm):
    class Meta:
        model = PainPoint
        fields = KINDS_BY_SLUG["pain-points"].fields


class PersonaForm(WorkProductForm):
    class Meta:
        model = Persona
        fields = KINDS_BY_SLUG["personas"].fields


class CompetitorForm(WorkProductForm):
    class Meta:
        model = Competitor
        fields = KINDS_BY_SLUG["competitors"].fields


class EvidenceLinkForm(WorkProductForm):
    class Meta:
        model = EvidenceLink
        fields = KINDS_BY_SLUG["evidence"].fields


class OpportunityCaseForm(WorkProductForm):
    class Meta:
        model = OpportunityCase
        fields = KINDS_BY_SLUG["opportunity"].fields
        widgets = {"target_date": DATE_INPUT}
        help_texts = {
            "tam": "Total addressable market, € a year.",
            "sam": "Serviceable addressable market, € a year.",
            "som": "Serviceable obtainable market, € a year.",
        }

    def clean(self):
        cleaned_data = super().clean()
        tam, sam, som = (cleaned_data.get(name) for name in ("tam", "sam", "som"))
        if tam is not None and sam is not None and sam > tam:
            self.add_error("sam", "SAM cannot be larger than TAM.")
        if sam is not None and som is not None and som > sam:
            self.add_error("som", "SOM cannot be larger than SAM.")
        for name in ("tam", "sam", "som", "investment"):
            value = cleaned_data.get(name)
            if value is not None and value < 0:
                self.add_error(name, "Cannot be negative.")
        return cleaned_data


class GoalForm(WorkProductForm):
    class Meta:
        model = Goal
        fields = KINDS_BY_SLUG["goals"].fields
        help_texts = {"objective": "A business objective of the product's portfolio or of the organisation."}

    def __init__(self, *args, product: Product, **kwargs) -> None:
        super().__init__(*args, product=product, **kwargs)
        objective = self.fields["objective"]
        objective.queryset = objective.queryset.filter(
            Q(portfolio_id=product.portfolio_id) | Q(portfolio__isnull=True)
        )


class HypothesisForm(WorkProductForm):
    class Meta:
        model = Hypothesis
        fields = KINDS_BY_SLUG["hypotheses"].fields


class ExperimentForm(WorkProductForm):
    class Meta:
        model = Experiment
        fields = KINDS_BY_SLUG["experiments"].fields

    def __init__(self, *args, product: Product, **kwargs) -> None:
        super().__init__(*args, product=product, **kwargs)
        self.fields["hypothesis"].queryset = Hypothesis.objects.filter(product=product)

    def clean(self):
        cleaned_data = super().clean()
        if cleaned_data.get("outcome") not in (None, Outcome.OPEN) and cleaned_data.get("status") != (
            ExperimentStatus.DONE
        ):
            self.add_error("outcome", "An experiment has an outcome only once it is done.")
        return cleaned_data


class ResearchNoteForm(WorkProductForm):
    class Meta:
        model = ResearchNote
        fields = KINDS_BY_SLUG["research-notes"].fields
        widgets = {"noted_on": DATE_INPUT}


class MVPPlanForm(WorkProductForm):
    class Meta:
        model = MVPPlan
        fields = KINDS_BY_SLUG["mvp"].fields
        widgets = {"launch_date": DATE_INPUT}


class SuccessCriterionForm(WorkProductForm):
    met = forms.NullBooleanField(
        required=False,
        widget=forms.Select(choices=[("unknown", "Not known yet"), ("true", "Met"), ("false", "Not met")]),
    )

    class Meta:
        model = SuccessCriterion
        fields = KINDS_BY_SLUG["success-criteria"].fields
        labels = {"kpi": "KPI"}


class FeedbackThemeForm(WorkProductForm):
    class Meta:
        model = FeedbackTheme
        fields = KINDS_BY_SLUG["feedback-themes"].fields

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = FeedbackTheme.objects.filter(product=self.product, name__iexact=name).exclude(
            pk=self.instance.pk
        )
        if taken.exists():
            raise ValidationError("This product already has a theme with that name.")
        return name


class FeedbackItemForm(WorkProductForm):
    score = forms.IntegerField(required=False, min_value=0, max_value=10, help_text="0 to 10, when given.")

    class Meta:
        model = FeedbackItem
        fields = KINDS_BY_SLUG["feedback"].fields
        widgets = {"received_on": DATE_INPUT}
        labels = {"kpi": "Related KPI"}

    def __init__(self, *args, product: Product, **kwargs) -> None:
        super().__init__(*args, product=product, **kwargs)
        self.fields["theme"].queryset = FeedbackTheme.objects.filter(product=product)
        if not self.instance.pk:
            self.initial.setdefault("segment", product.market)

    def clean_received_on(self):
        received_on = self.cleaned_data["received_on"]
        if received_on > timezone.localdate():
            raise ValidationError("Feedback cannot come from the future.")
        return received_on


class StrategyBriefForm(WorkProductForm):
    class Meta:
        model = StrategyBrief
        fields = KINDS_BY_SLUG["strategy"].fields


class RoadmapItemForm(WorkProductForm):
    class Meta:
        model = RoadmapItem
        fields = KINDS_BY_SLUG["roadmap"].fields
        widgets = {"target_date": DATE_INPUT}


def _finished_needs_date(form: forms.ModelForm, finished: str) -> None:
    status, actual = form.cleaned_data.get("status"), form.cleaned_data.get("actual_date")
    if status == finished and actual is None:
        form.add_error("actual_date", "Say when it happened.")
    if actual is not None and actual > timezone.localdate():
        form.add_error("actual_date", "An actual date cannot be in the future.")


class ReleaseForm(WorkProductForm):
    class Meta:
        model = Release
        fields = KINDS_BY_SLUG["releases"].fields
        widgets = {"planned_date": DATE_INPUT, "actual_date": DATE_INPUT}

    def clean(self):
        cleaned_data = super().clean()
        _finished_needs_date(self, ReleaseStatus.SHIPPED)
        return cleaned_data


class MilestoneForm(WorkProductForm):
    class Meta:
        model = Milestone
        fields = KINDS_BY_SLUG["milestones"].fields
        widgets = {"planned_date": DATE_INPUT, "actual_date": DATE_INPUT}

    def __init__(self, *args, product: Product, **kwargs) -> None:
        super().__init__(*args, product=product, **kwargs)
        self.fields["release"].queryset = Release.objects.filter(product=product)

    def clean(self):
        cleaned_data = super().clean()
        _finished_needs_date(self, MilestoneStatus.DONE)
        return cleaned_data


#: The form of each kind of work product, by its slug in ``lifecycle.work.kinds.WORK_KINDS``.
WORK_FORMS: dict[str, type[WorkProductForm]] = {
    "problem-statement": ProblemStatementForm,
    "pain-points": PainPointForm,
    "personas": PersonaForm,
    "competitors": CompetitorForm,
    "evidence": EvidenceLinkForm,
    "opportunity": OpportunityCaseForm,
    "goals": GoalForm,
    "hypotheses": HypothesisForm,
    "experiments": ExperimentForm,
    "research-notes": ResearchNoteForm,
    "mvp": MVPPlanForm,
    "success-criteria": SuccessCriterionForm,
    "feedback-themes": FeedbackThemeForm,
    "feedback": FeedbackItemForm,
    "strategy": StrategyBriefForm,
    "roadmap": RoadmapItemForm,
    "releases": ReleaseForm,
    "milestones": MilestoneForm,
}


def work_form(slug: str, *, product: Product, instance=None, data=None) -> WorkProductForm:
    """The form of one kind of work product, with ids unique on the product page (several forms share it)."""
    key = f"{slug}-{instance.pk}" if instance is not None and instance.pk else slug
    return WORK_FORMS[slug](data, instance=instance, product=product, auto_id=f"work-{key}-%s")
