"""Input parsing: the filter form shared by the dashboard, the product list and the board; the product form."""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from products.choices import Focus, Health, Market, Stage
from products.models import Product
from spm.history.conflicts import EditConflict, rebased_data

# Column headings of a product table, in display order; every column sorts by the key of the same name.
SORT_LABELS = {
    "name": "Product",
    "portfolio": "Portfolio",
    "owner": "Owner",
    "stage": "Stage",
    "days": "Days in stage",
    "market": "Market",
    "focus": "Focus",
    "health": "Health",
    "key_kpi": "Key KPI",
    "planned": "Planned budget",
    "actual": "Actual spend",
}
PAGE_SIZES = (25, 50, 100)
DEFAULT_SORT = ("name", "asc")


def blank_choice(label: str, choices) -> list[tuple[str, str]]:
    return [("", label), *choices]


def invalid_choice(noun: str) -> dict[str, str]:
    return {"invalid_choice": f"“%(value)s” is not {noun}."}


@dataclass(frozen=True)
class SortLink:
    """One sortable column heading: the query string it links to and how the column is sorted now."""

    key: str
    label: str
    query: str
    aria_sort: str  # "ascending", "descending", or "" when the table is sorted by another column
    next_dir: str


class ScopeFilterFields(forms.Form):
    """The product attributes that product tables and KPI rollups both filter by (the rollup scopes)."""

    portfolio = forms.ChoiceField(
        required=False, label="Portfolio", error_messages=invalid_choice("a portfolio")
    )
    stage = forms.ChoiceField(
        required=False,
        label="Stage",
        choices=blank_choice("All stages", Stage.choices),
        error_messages=invalid_choice("a lifecycle stage"),
    )
    market = forms.ChoiceField(
        required=False,
        label="Market",
        choices=blank_choice("All markets", Market.choices),
        error_messages=invalid_choice("a market"),
    )
    focus = forms.ChoiceField(
        required=False,
        label="Focus",
        choices=blank_choice("Any focus", Focus.choices),
        error_messages=invalid_choice("a focus area"),
    )
    owner = forms.ChoiceField(required=False, label="Owner", error_messages=invalid_choice("a product owner"))


class ProductFilterForm(ScopeFilterFields):
    """Filters, sort and page from the query string. Unknown values are errors, never silently ignored."""

    field_order = ["q", "portfolio", "stage", "market", "focus", "health", "owner", "member"]

    q = forms.CharField(required=False, max_length=100, label="Search", strip=True)
    health = forms.ChoiceField(
        required=False,
        label="Health",
        choices=blank_choice("Any health", Health.choices),
        error_messages=invalid_choice("a health status"),
    )
    # Products the person owns or is a member of ("My products" is this filter with one's own username).
    member = forms.ChoiceField(
        required=False, label="Owner or member", error_messages=invalid_choice("a product owner or member")
    )
    sort = forms.ChoiceField(
        required=False,
        label="Sort by",
        choices=list(SORT_LABELS.items()),
        error_messages=invalid_choice("a column to sort by"),
    )
    dir = forms.ChoiceField(
        required=False,
        label="Order",
        choices=[("asc", "ascending"), ("desc", "descending")],
        error_messages=invalid_choice("a sort order (asc or desc)"),
    )
    page = forms.IntegerField(
        required=False,
        label="Page",
        min_value=1,
        error_messages={"invalid": "Enter a page number.", "min_value": "Pages start at 1."},
    )
    per_page = forms.TypedChoiceField(
        required=False,
        label="Rows per page",
        coerce=int,
        choices=[(n, n) for n in PAGE_SIZES],
        error_messages=invalid_choice(f"a page size ({', '.join(map(str, PAGE_SIZES))})"),
    )

    FILTERS = ("q", "portfolio", "stage", "market", "focus", "health", "owner", "member")

    def __init__(self, *args, portfolios=(), owners=None, people=(), user=None, **kwargs) -> None:
        """``people`` are the member filter's choices (``products.selectors.people_on_products``); without
        ``owners``, the owner filter's are those of them who own a product. ``user``, the person looking, is
        always a member choice, so that their "My products" link is valid even when they are on no product."""
        super().__init__(*args, **kwargs)
        people = list(people)
        if owners is None:
            owners = [person for person in people if getattr(person, "owns_products", False)]
        if user is not None and user.is_authenticated and all(p.username != user.username for p in people):
            people = sorted([*people, user], key=lambda person: person.username)
        self.fields["portfolio"].choices = blank_choice(
            "All portfolios", [(p.slug, p.name) for p in portfolios]
        )
        self.fields["owner"].choices = blank_choice(
            "Any owner", [(u.username, u.get_full_name() or u.username) for u in owners]
        )
        self.fields["member"].choices = blank_choice(
            "Anyone", [(u.username, u.get_full_name() or u.username) for u in people]
        )

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1

    def cleaned_or_default(self) -> dict:
        """The valid values; after errors, the filters that were valid (the view shows the errors)."""
        if not hasattr(self, "_cleaned_or_default"):
            if self.is_valid():
                data = dict(self.cleaned_data)
            else:
                data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
            data.setdefault("page", 1)
            data["sort"] = data.get("sort") or DEFAULT_SORT[0]
            data["dir"] = data.get("dir") or DEFAULT_SORT[1]
            data["per_page"] = data.get("per_page") or PAGE_SIZES[0]
            self._cleaned_or_default = data
        return self._cleaned_or_default

    def active_filters(self) -> dict[str, str]:
        data = self.cleaned_or_default()
        return {name: data[name] for name in self.FILTERS if data.get(name)}

    def active_filter_labels(self) -> list[tuple[str, str]]:
        """(field label, chosen label) of each active filter, for a summary like “Stage: MVP”."""
        labels = []
        for name, value in self.active_filters().items():
            field = self.fields[name]
            shown = dict(field.choices).get(value, value) if hasattr(field, "choices") else f"“{value}”"
            labels.append((str(field.label or name.title()), str(shown)))
        return labels

    def member_label(self) -> str:
        """The name of the person the member filter picked ("" without one)."""
        member = self.active_filters().get("member", "")
        return str(dict(self.fields["member"].choices).get(member, member)) if member else ""

    def problems(self) -> list[str]:
        """Readable messages for the query-string values that were ignored, e.g. “Stage: “launch” is not …”."""
        return [
            f"{self.fields[name].label or name.replace('_', ' ').title()}: {' '.join(errors)}"
            for name, errors in self.errors.items()
        ]

    def query(self, **changes) -> QueryDict:
        """The valid filters, sort and page size as a query string, without defaults: a clean shareable URL.

        ``changes`` set or (with ``None``) drop parameters, e.g. ``query(stage="mvp", page=None)``.
        """
        data = self.cleaned_or_default()
        params: dict[str, object] = dict(self.active_filters())
        if (data["sort"], data["dir"]) != DEFAULT_SORT:
            params.update(sort=data["sort"], dir=data["dir"])
        if data["per_page"] != PAGE_SIZES[0]:
            params["per_page"] = data["per_page"]
        if data["page"] != 1:
            params["page"] = data["page"]
        params.update(changes)
        query = QueryDict(mutable=True)
        for name, value in params.items():
            if name == "page" and str(value) == "1":
                continue
            if value not in (None, ""):
                query[name] = str(value)
        return query

    def choice_filters(self) -> list:
        """The bound select fields of the filter bar, in order."""
        return [self[name] for name in self.FILTERS if name != "q"]

    def sort_state(self) -> dict[str, str]:
        """The sort, order and page size in effect when they differ from the defaults (hidden form inputs)."""
        query = self.query()
        return {name: query[name] for name in ("sort", "dir", "per_page") if name in query}

    def sort_links(self) -> dict[str, SortLink]:
        """Every column heading by sort key, linking to the first page sorted by that column (again: the
        other way)."""
        data = self.cleaned_or_default()
        links = {}
        for key, label in SORT_LABELS.items():
            current = data["sort"] == key
            next_dir = "desc" if current and data["dir"] == "asc" else "asc"
            query = self.query(page=None, sort=key, dir=next_dir)
            if (key, next_dir) == DEFAULT_SORT:
                query.pop("sort")
                query.pop("dir")
            links[key] = SortLink(
                key=key,
                label=label,
                query=f"?{query.urlencode()}" if query else "",
                aria_sort=("ascending" if data["dir"] == "asc" else "descending") if current else "",
                next_dir=next_dir,
            )
        return links


class ProductForm(forms.ModelForm):
    """What an owner or PM-level member edits inline on the product page. Not its money: planned budget and actual
    spend are the sums of its budget lines, changed on its budget page (docs/strategy.md)."""

    # The product's version when the form was loaded: a save from an older one is a conflict, not an overwrite.
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        error_messages={"required": "This form is out of date: reload the page and edit again."},
    )

    class Meta:
        model = Product
        fields = ["name", "description", "market", "focus"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial.setdefault("version", self.instance.version)

    def changes(self) -> dict:
        """The validated product fields, for ``products.services.product_update`` (without the version)."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}

    def on_top_of(self, conflict: EditConflict) -> "ProductForm":
        """After a conflict, this input on top of the latest save (``spm.history.conflicts.rebased_data``): saving it
        again applies this user's edits without undoing the other's. ``conflict_notes`` say, per field, what
        was saved meanwhile."""
        data, notes = rebased_data(self, conflict)
        form = type(self)(data, instance=Product.objects.get(pk=conflict.current.pk))
        form.conflict_notes = notes
        return form

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("A product needs a name.")
        return name
