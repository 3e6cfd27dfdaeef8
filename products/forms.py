"""Input parsing: the filter form shared by the dashboard, the product list and the board; the product form."""

from django import forms
from django.core.exceptions import ValidationError

from products.models import Focus, Health, Market, Product, Stage

SORTS = {
    "name": ("name",),
    "portfolio": ("portfolio__name", "name"),
    "owner": ("owner__username", "name"),
    "stage": ("stage_position", "name"),
    "days": ("-stage_entered_at", "name"),  # fewest days in stage first
    "market": ("market", "name"),
    "focus": ("focus", "name"),
    "health": ("health_rank", "name"),
    "key_kpi": ("key_kpi_value", "name"),
    "planned": ("planned_budget", "name"),
    "actual": ("actual_spend", "name"),
}
PAGE_SIZES = (25, 50, 100)


def blank_choice(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


class ProductFilterForm(forms.Form):
    """Filters, sort and page from the query string. Unknown values are errors, never silently ignored."""

    q = forms.CharField(required=False, max_length=100, label="Search", strip=True)
    portfolio = forms.ChoiceField(required=False)
    stage = forms.ChoiceField(required=False, choices=blank_choice("All stages", Stage.choices))
    market = forms.ChoiceField(required=False, choices=blank_choice("All markets", Market.choices))
    focus = forms.ChoiceField(required=False, choices=blank_choice("All focus areas", Focus.choices))
    health = forms.ChoiceField(required=False, choices=blank_choice("Any health", Health.choices))
    owner = forms.ChoiceField(required=False)
    sort = forms.ChoiceField(required=False, choices=[(key, key) for key in SORTS])
    dir = forms.ChoiceField(required=False, choices=[("asc", "ascending"), ("desc", "descending")])
    page = forms.IntegerField(required=False, min_value=1)
    per_page = forms.TypedChoiceField(required=False, coerce=int, choices=[(n, n) for n in PAGE_SIZES])

    FILTERS = ("q", "portfolio", "stage", "market", "focus", "health", "owner")

    def __init__(self, *args, portfolios=(), owners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].choices = blank_choice(
            "All portfolios", [(p.slug, p.name) for p in portfolios]
        )
        self.fields["owner"].choices = blank_choice(
            "Any owner", [(u.username, u.get_full_name() or u.username) for u in owners]
        )

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1

    def cleaned_or_default(self) -> dict:
        """The valid values; after errors, the filters that were valid (the view shows the errors)."""
        if self.is_valid():
            data = dict(self.cleaned_data)
        else:
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        data.setdefault("page", 1)
        data["sort"] = data.get("sort") or "name"
        data["dir"] = data.get("dir") or "asc"
        data["per_page"] = data.get("per_page") or PAGE_SIZES[0]
        return data

    def active_filters(self) -> dict[str, str]:
        data = self.cleaned_or_default()
        return {name: data[name] for name in self.FILTERS if data.get(name)}


class ProductForm(forms.ModelForm):
    """What an owner or PM-level member edits inline on the product page."""

    class Meta:
        model = Product
        fields = ["name", "description", "market", "focus", "planned_budget", "actual_spend"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("A product needs a name.")
        return name
