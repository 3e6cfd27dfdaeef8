"""Input parsing for the lifecycle: the stage move (board and product page) and every work product."""

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from lifecycle.analytics import AnalyticsFilters
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
from lifecycle.services import GateNotMet, StageMoveRefused
from products.models import Focus, Market, Product, Stage

NOTE_MAX_LENGTH = 2000


class StageMoveForm(forms.Form):
    """Where to move a product and why. The rules (backwards needs a note, gate criteria) are the service's:
    ``add_refusal`` puts its refusal next to the field it is about: a missing note next to the note, any
    other refusal (a stage it is already in, an unmet gate) next to the stage select."""

    to = forms.ChoiceField(label="Move to", choices=Stage.choices)
    note = forms.CharField(
        label="Note",
        required=False,
        strip=True,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required when moving back.",
    )
    override_reason = forms.CharField(
        label="Override reason",
        required=False,
        strip=True,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Directors and VPs: why the product moves on with unmet gate criteria.",
    )
    #: The refusal of a forward move for unmet gate criteria, for the template to list them (and offer the
    #: override to those who may give it).
    gate_refusal: GateNotMet | None = None

    def add_refusal(self, refusal: StageMoveRefused) -> None:
        if isinstance(refusal, GateNotMet):
            self.gate_refusal = refusal
        field = "note" if refusal.code == "note_required" else "to"
        self.add_error(field, refusal)


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
        fields = ("statement",)
        widgets = {"statement": forms.Textarea(attrs={"rows": 4})}
        labels = {"statement": "Problem statement"}


class PainPointForm(WorkProductForm):
    class Meta:
        model = PainPoint
        fields = ("description", "severity")


class PersonaForm(WorkProductForm):
    class Meta:
        model = Persona
        fields = ("name", "description")


class CompetitorForm(WorkProductForm):
    class Meta:
        model = Competitor
        fields = ("name", "gap")


class EvidenceLinkForm(WorkProductForm):
    class Meta:
        model = EvidenceLink
        fields = ("title", "url")


class OpportunityCaseForm(WorkProductForm):
    class Meta:
        model = OpportunityCase
        fields = ("tam", "sam", "som", "business_case", "expected_return", "investment", "target_date")
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
        fields = ("title", "objective")
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
        fields = ("statement", "outcome")


class ExperimentForm(WorkProductForm):
    class Meta:
        model = Experiment
        fields = ("title", "hypothesis", "method", "status", "outcome")

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
        fields = ("title", "body", "noted_on")
        widgets = {"noted_on": DATE_INPUT}


class MVPPlanForm(WorkProductForm):
    class Meta:
        model = MVPPlan
        fields = ("scope", "launch_date", "result")
        widgets = {"launch_date": DATE_INPUT}


class SuccessCriterionForm(WorkProductForm):
    met = forms.NullBooleanField(
        required=False,
        widget=forms.Select(choices=[("unknown", "Not known yet"), ("true", "Met"), ("false", "Not met")]),
    )

    class Meta:
        model = SuccessCriterion
        fields = ("description", "kpi", "target", "met")
        labels = {"kpi": "KPI"}


class FeedbackThemeForm(WorkProductForm):
    class Meta:
        model = FeedbackTheme
        fields = ("name",)

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
        fields = ("received_on", "source", "segment", "sentiment", "score", "text", "theme", "kpi")
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
        fields = ("positioning", "pricing_notes")


class RoadmapItemForm(WorkProductForm):
    class Meta:
        model = RoadmapItem
        fields = ("title", "description", "target_date", "status", "order")
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
        fields = ("name", "kind", "planned_date", "actual_date", "status", "notes")
        widgets = {"planned_date": DATE_INPUT, "actual_date": DATE_INPUT}

    def clean(self):
        cleaned_data = super().clean()
        _finished_needs_date(self, ReleaseStatus.SHIPPED)
        return cleaned_data


class MilestoneForm(WorkProductForm):
    class Meta:
        model = Milestone
        fields = ("title", "release", "planned_date", "actual_date", "status")
        widgets = {"planned_date": DATE_INPUT, "actual_date": DATE_INPUT}

    def __init__(self, *args, product: Product, **kwargs) -> None:
        super().__init__(*args, product=product, **kwargs)
        self.fields["release"].queryset = Release.objects.filter(product=product)

    def clean(self):
        cleaned_data = super().clean()
        _finished_needs_date(self, MilestoneStatus.DONE)
        return cleaned_data


#: The form of each kind of work product, by its slug in ``lifecycle.work.WORK_KINDS``.
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


DEFAULT_WINDOW_DAYS = 180
MAX_WINDOW_DAYS = 3 * 366


class AnalyticsFilterForm(forms.Form):
    """The lifecycle analytics window and scope, from the query string. Invalid values get a message and the
    defaults stand in for them; the valid ones still apply."""

    start = forms.DateField(required=False, label="From", widget=DATE_INPUT)
    end = forms.DateField(required=False, label="To", widget=DATE_INPUT)
    portfolio = forms.ChoiceField(
        required=False,
        label="Portfolio",
        error_messages={"invalid_choice": "“%(value)s” is not a portfolio."},
    )
    market = forms.ChoiceField(
        required=False,
        label="Market",
        choices=[("", "All markets"), *Market.choices],
        error_messages={"invalid_choice": "“%(value)s” is not a market."},
    )
    focus = forms.ChoiceField(
        required=False,
        label="Focus",
        choices=[("", "Any focus"), *Focus.choices],
        error_messages={"invalid_choice": "“%(value)s” is not a focus area."},
    )

    def __init__(self, *args, portfolios=(), today: dt.date | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.today = today or timezone.localdate()
        self.fields["start"].initial = self.today - dt.timedelta(days=DEFAULT_WINDOW_DAYS)
        self.fields["end"].initial = self.today
        self.fields["portfolio"].choices = [("", "All portfolios"), *((p.slug, p.name) for p in portfolios)]

    def clean(self):
        cleaned_data = super().clean()
        start, end = cleaned_data.get("start"), cleaned_data.get("end")
        if start and end and start > end:
            self.add_error("end", "The window must end on or after its start.")
        elif start and end and (end - start).days > MAX_WINDOW_DAYS:
            self.add_error("start", f"The window can be at most {MAX_WINDOW_DAYS} days.")
        return cleaned_data

    def filters(self) -> AnalyticsFilters:
        """The valid filters, with defaults (the last 180 days) where a value is missing or invalid."""
        valid = {}
        if self.is_bound:
            self.is_valid()
            valid = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        end = valid.get("end") or self.today
        start = valid.get("start") or end - dt.timedelta(days=DEFAULT_WINDOW_DAYS)
        if start > end or (end - start).days > MAX_WINDOW_DAYS:
            end = self.today
            start = end - dt.timedelta(days=DEFAULT_WINDOW_DAYS)
        return AnalyticsFilters(
            start=start,
            end=end,
            portfolio=valid.get("portfolio") or "",
            market=valid.get("market") or "",
            focus=valid.get("focus") or "",
        )

    @property
    def problems(self) -> list[str]:
        return [
            f"{self.fields[name].label}: {error}" if name in self.fields else error
            for name, errors in self.errors.items()
            for error in errors
        ]
