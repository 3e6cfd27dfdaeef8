"""Input parsing for the strategy pages: query-string filters and the inline edit forms."""

from __future__ import annotations

from django import forms
from django.http import QueryDict

from portfolio.models import BudgetKind
from portfolio.periods import is_quarter_start
from portfolio.strategy.rules import (
    FIBONACCI,
    IMPACT_CHOICES,
    IMPACT_LABELS,
    RANKINGS,
    SCORE_FIELDS,
    BudgetInvalid,
    ScoreInvalid,
    parse_money,
    validate_scores,
)
from portfolio.strategy.selectors.investment import DIMENSIONS
from portfolio.strategy.selectors.objectives import KEY_RESULT_STATUSES
from products.choices import Focus, Market
from products.forms import ScopeFilterFields, blank_choice, invalid_choice


class StrategyFilterForm(ScopeFilterFields):
    """Portfolio, stage, market and focus (as on the dashboard) plus a page's own choices, from the query string.
    Invalid values are listed for the user and ignored; the valid ones apply."""

    FILTERS = ("portfolio", "stage", "market", "focus")
    EXTRA: tuple[str, ...] = ()
    DEFAULTS: dict[str, object] = {}

    page = forms.IntegerField(required=False, min_value=1, error_messages={"min_value": "Pages start at 1."})

    def __init__(self, *args, portfolios=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields.pop("owner")
        self.fields["portfolio"].choices = blank_choice(
            "All portfolios", [(p.slug, p.name) for p in portfolios]
        )

    def cleaned_or_default(self) -> dict:
        if not hasattr(self, "_cleaned"):
            self.is_valid()
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
            for name, default in self.DEFAULTS.items():
                if data.get(name) in (None, ""):
                    data[name] = default
            data["page"] = data.get("page") or 1
            self._cleaned = data
        return self._cleaned

    def problems(self) -> list[str]:
        return [
            f"{self.fields[name].label or name.title()}: {' '.join(errors)}"
            for name, errors in self.errors.items()
        ]

    def choice_filters(self) -> list:
        return [self[name] for name in self.FILTERS]

    def extra_fields(self) -> list:
        return [self[name] for name in self.EXTRA]

    def query(self, **changes) -> QueryDict:
        data = self.cleaned_or_default()
        query = QueryDict(mutable=True)
        for name in (*self.FILTERS, *self.EXTRA, "page"):
            value = changes.get(name, data.get(name)) if name in changes or name in data else None
            if value in (None, "", False) or (name == "page" and str(value) == "1"):
                continue
            if name in self.DEFAULTS and str(value) == str(self.DEFAULTS[name]):
                continue
            query[name] = str(value)
        return query

    @property
    def querystring(self) -> str:
        """``?`` and the valid filters (``query``), or nothing: the page's CSV links keep what is shown."""
        query = self.query(page=None)
        return f"?{query.urlencode()}" if query else ""


class InvestmentFilterForm(StrategyFilterForm):
    EXTRA = ("year", "dimension")

    year = forms.TypedChoiceField(
        required=False, coerce=int, label="Year", error_messages=invalid_choice("a year")
    )
    dimension = forms.ChoiceField(
        required=False,
        label="Group by",
        choices=list(DIMENSIONS.items()),
        error_messages=invalid_choice("a way to group the money"),
    )

    def __init__(self, *args, years=(), current_year: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        years = sorted(set(years) | {current_year}, reverse=True)
        self.fields["year"].choices = [(year, year) for year in years]
        self.DEFAULTS = {"year": current_year, "dimension": "portfolio"}


class PriorityFilterForm(StrategyFilterForm):
    EXTRA = ("rank",)
    DEFAULTS = {"rank": "rice"}

    rank = forms.ChoiceField(
        required=False,
        label="Rank by",
        choices=list(RANKINGS.items()),
        error_messages=invalid_choice("RICE or WSJF"),
    )


class ObjectiveFilterForm(StrategyFilterForm):
    FILTERS = ("portfolio",)
    EXTRA = ("status",)

    status = forms.ChoiceField(
        required=False,
        label="Key results",
        choices=blank_choice("Any status", list(KEY_RESULT_STATUSES.items())),
        error_messages=invalid_choice("a key result status"),
    )


ROADMAP_KINDS = {"roadmap": "Roadmap items", "release": "Releases", "milestone": "Milestones"}


class RoadmapFilterForm(StrategyFilterForm):
    EXTRA = ("kind", "late")

    kind = forms.ChoiceField(
        required=False,
        label="Show",
        choices=blank_choice("Everything", list(ROADMAP_KINDS.items())),
        error_messages=invalid_choice("roadmap items, releases or milestones"),
    )
    late = forms.BooleanField(required=False, label="Late only")


# ---------------------------------------------------------------------------------------------------------
# Edits
# ---------------------------------------------------------------------------------------------------------


class MoneyField(forms.CharField):
    """An amount of money as a Decimal (``portfolio.strategy.rules.parse_money``)."""

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        try:
            return parse_money(value)
        except BudgetInvalid as error:
            raise forms.ValidationError(str(error)) from None


class BudgetLineForm(forms.Form):
    quarter = forms.DateField(label="Quarter")
    kind = forms.ChoiceField(label="Kind", choices=BudgetKind.choices)
    planned = MoneyField(label="Planned", max_length=20)
    actual = MoneyField(label="Actual", max_length=20, required=False)

    def clean_quarter(self):
        quarter = self.cleaned_data["quarter"]
        if not is_quarter_start(quarter):
            raise forms.ValidationError("Choose the first day of a quarter (1 Jan, 1 Apr, 1 Jul or 1 Oct).")
        return quarter


class AlignmentForm(forms.Form):
    product = forms.CharField(label="Product", max_length=80, help_text="The product's slug or exact name.")
    weight = forms.IntegerField(
        label="Weight %",
        min_value=1,
        max_value=100,
        initial=100,
        error_messages={
            "min_value": "The weight is from 1 to 100.",
            "max_value": "The weight is from 1 to 100.",
        },
    )


class PriorityScoreForm(forms.Form):
    reach = forms.IntegerField(label="Reach", min_value=0)
    impact = forms.TypedChoiceField(
        label="Impact",
        coerce=str,
        choices=[(f"{value}", f"{value} ({IMPACT_LABELS[value]})") for value in IMPACT_CHOICES],
    )
    confidence = forms.IntegerField(label="Confidence %", min_value=0, max_value=100)
    effort = forms.DecimalField(label="Effort (person-months)", min_value=0, max_digits=7, decimal_places=2)
    business_value = forms.TypedChoiceField(
        label="Business value", coerce=int, choices=[(n, n) for n in FIBONACCI]
    )
    time_criticality = forms.TypedChoiceField(
        label="Time criticality", coerce=int, choices=[(n, n) for n in FIBONACCI]
    )
    risk_reduction = forms.TypedChoiceField(
        label="Risk reduction", coerce=int, choices=[(n, n) for n in FIBONACCI]
    )
    job_size = forms.TypedChoiceField(label="Job size", coerce=int, choices=[(n, n) for n in FIBONACCI])

    def clean(self):
        data = super().clean()
        if not self.errors:
            try:
                data = {**data, **validate_scores({name: data[name] for name in SCORE_FIELDS})}
            except ScoreInvalid as invalid:
                for name, problem in invalid.problems.items():
                    self.add_error(name, f"{self.fields[name].label} {problem}.")
        return data


class ScenarioCreateForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    portfolio = forms.ChoiceField(label="Scope", required=False)
    description = forms.CharField(
        label="What it explores", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, portfolios=(), organisation: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [(p.slug, f"{p.name} portfolio") for p in portfolios]
        if organisation:
            choices = [("", "Whole organisation"), *choices]
        self.fields["portfolio"].choices = choices
        self.fields["portfolio"].required = not organisation
        self.portfolios = {p.slug: p for p in portfolios}

    def clean_portfolio(self):
        slug = self.cleaned_data["portfolio"]
        return self.portfolios.get(slug) if slug else None


class ScenarioBudgetForm(forms.Form):
    planned = MoneyField(label="Budget over the horizon", max_length=20)


class ScenarioNewProductForm(forms.Form):
    name = forms.CharField(label="Name", max_length=120)
    portfolio = forms.ChoiceField(label="Portfolio")
    owner = forms.ChoiceField(label="Owner", error_messages=invalid_choice("a person who may own a product"))
    market = forms.ChoiceField(label="Market", choices=Market.choices)
    focus = forms.ChoiceField(label="Focus", choices=Focus.choices)
    objective = forms.TypedChoiceField(label="Serves objective", required=False, coerce=int, empty_value=None)
    planned = MoneyField(label="Budget over the horizon", max_length=20)

    def __init__(self, *args, portfolios=(), objectives=(), people=(), **kwargs) -> None:
        """``people``: who may own the product, picked by name (the value is the username)."""
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].choices = [(p.slug, p.name) for p in portfolios]
        self.fields["owner"].choices = blank_choice(
            "Choose the owner", [(person.username, person_label(person)) for person in people]
        )
        self.fields["objective"].choices = blank_choice(
            "No objective",
            [
                (o.pk, f"{o.title} ({o.portfolio.name if o.portfolio else 'Organisation'})")
                for o in objectives
            ],
        )


def person_label(person) -> str:
    """“Zoe Olsen (zoe.olsen)”: the name people think in, with the username that tells two Zoes apart."""
    name = person.get_full_name()
    return f"{name} ({person.username})" if name else person.username


class ScenarioApproveForm(forms.Form):
    confirm_version = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
