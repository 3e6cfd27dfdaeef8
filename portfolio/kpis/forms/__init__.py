"""Input parsing for KPIs: the director view's GET filters here; recording a measurement in ``measurements``."""

import datetime as dt
from collections.abc import Iterable
from functools import cache

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from portfolio.choices import Grain, Scope
from portfolio.kpis.forms.measurements import MeasurementForm as MeasurementForm  # the product page's
from portfolio.kpis.selectors.scopes import ExportFilters
from portfolio.models import KPI
from products.forms import ScopeFilterFields, blank_choice, invalid_choice
from products.models import Product

# --------------------------------------------------------------------------------------------------
# Director view filters (docs/kpis.md, "Director view"): read from the query string, never saved
# --------------------------------------------------------------------------------------------------

DIMENSION_FILTERS = ("portfolio", "stage", "market", "focus", "owner")
DIMENSION_PLURALS = {
    "portfolio": "portfolios",
    "stage": "stages",
    "market": "markets",
    "focus": "focus areas",
    "owner": "owners",
}
DATE_ERRORS = {"invalid": "Enter a date as YYYY-MM-DD."}
DEFAULT_GRAIN = Grain.MONTH


def kpi_from_text(value: str, kpis: Iterable[KPI]) -> KPI | None:
    """The KPI named ``value``, else the KPI whose id it is (URLs and CSV filters accept either); None for an
    empty value. An unknown one is a ValidationError."""
    if not value:
        return None
    kpis = list(kpis)
    for kpi in kpis:
        if kpi.name == value:
            return kpi
    for kpi in kpis:
        if value.isdigit() and kpi.pk == int(value):
            return kpi
    raise ValidationError(f"“{value}” is not a KPI name or id.")


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class QueryFilterForm(forms.Form):
    """A GET filter form: invalid values are dropped with a readable message, valid ones kept; ``query()``
    gives the shareable query string of the valid values (used by ``{% filter_url %}``)."""

    DEFAULTS: dict[str, object] = {}

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("period_from"), data.get("period_to")
        if start and end and start > end:
            self.add_error("period_to", "The end of the range is before its start.")
        return data

    def cleaned_or_default(self) -> dict:
        if not hasattr(self, "_cleaned_or_default"):
            self.is_valid()
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
            for name, default in self.DEFAULTS.items():
                if data.get(name) in (None, ""):
                    data[name] = default
            self._cleaned_or_default = data
        return self._cleaned_or_default

    def problems(self) -> list[str]:
        """One sentence per ignored value, e.g. “Grain: “weekly” is not a grain (native, month or quarter).”"""
        problems = []
        for name, errors in self.errors.items():
            label = self.fields[name].label if name in self.fields else None
            prefix = f"{label}: " if label else ""
            problems.extend(f"{prefix}{error}" for error in errors)
        return problems

    def query_value(self, name: str, value: object) -> str:
        if isinstance(value, KPI):
            return str(value.pk)
        if isinstance(value, Product):
            return value.slug
        if isinstance(value, dt.date):
            return value.isoformat()
        return str(value)

    def query(self, **changes) -> QueryDict:
        """The valid values that differ from the defaults, changed by ``changes`` (``None`` drops one)."""
        data = self.cleaned_or_default()
        params = {
            name: value
            for name, value in data.items()
            if value not in (None, "", False) and value != self.DEFAULTS.get(name)
        }
        params.update(changes)
        query = QueryDict(mutable=True)
        for name in self.fields:
            value = params.get(name)
            if value not in (None, "", False) and not (name == "page" and str(value) == "1"):
                query[name] = self.query_value(name, value)
        for name, value in changes.items():
            if name not in self.fields and value not in (None, ""):
                query[name] = str(value)
        return query


class RollupScopeFilters(ScopeFilterFields, QueryFilterForm):
    """The dimension filters, grain and period range shared by the director page and the rollup CSV."""

    grain = forms.ChoiceField(
        required=False,
        label="Grain",
        choices=Grain.choices,
        error_messages=invalid_choice("a grain (native, month or quarter)"),
    )
    period_from = forms.DateField(
        required=False, label="From", widget=date_input(), error_messages=DATE_ERRORS
    )
    period_to = forms.DateField(required=False, label="To", widget=date_input(), error_messages=DATE_ERRORS)

    def __init__(self, *args, kpis: Iterable[KPI] = (), portfolios=(), owners=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kpis = list(kpis)
        # Callables: the portfolios and the owners are read (once) only when their filter is used or shown (the
        # page shows the select of the columns' dimension only).
        self.fields["portfolio"].choices = cache(
            lambda: blank_choice("All portfolios", [(p.slug, p.name) for p in portfolios])
        )
        self.fields["owner"].choices = cache(
            lambda: blank_choice(
                "All owners", [(u.username, u.get_full_name() or u.username) for u in owners]
            )
        )

    def key_labels(self, dimension: str) -> dict[str, str]:
        """Words for the keys of one dimension: portfolio names, owners' full names, stage labels."""
        return {str(value): str(label) for value, label in self.fields[dimension].choices if value}

    def dimension_filters(self) -> dict[str, str]:
        return {name: value for name in DIMENSION_FILTERS if (value := self.cleaned_data.get(name))}


class RollupViewForm(RollupScopeFilters):
    """The director page: which dimension fills the columns, one key of it (optional), grain, period range,
    and the KPI of the trend chart.

    Rollups exist per dimension only, so a filter narrows the columns of its own dimension; without an explicit
    ``dimension`` a single filter chooses it (``?stage=mvp`` shows the MVP column); a filter on another
    dimension than the columns' is ignored with a message.
    """

    dimension = forms.ChoiceField(
        required=False,
        label="Columns",
        choices=[(name, DIMENSION_PLURALS[name].capitalize()) for name in DIMENSION_FILTERS],
        error_messages=invalid_choice("a dimension (portfolio, stage, market, focus or owner)"),
    )
    chart = forms.CharField(required=False, label="Chart KPI", max_length=80)
    field_order = ["dimension", *DIMENSION_FILTERS, "grain", "period_from", "period_to", "chart"]

    DEFAULTS = {"dimension": Scope.PORTFOLIO, "grain": DEFAULT_GRAIN}

    def clean_chart(self) -> KPI | None:
        return kpi_from_text(self.cleaned_data["chart"], self.kpis)

    def clean(self) -> dict:
        data = super().clean()
        filters = self.dimension_filters()
        dimension = data.get("dimension") or ""
        if not dimension and "dimension" not in self.errors:
            dimension = next(iter(filters)) if len(filters) == 1 else Scope.PORTFOLIO
            data["dimension"] = dimension
        for name in filters:
            if name != dimension and dimension:
                self.add_error(
                    name,
                    f"ignored, because the columns are {DIMENSION_PLURALS[dimension]}: rollups are computed for "
                    f"one dimension at a time. Choose {DIMENSION_PLURALS[name]} as the columns to use it.",
                )
        return data

    def cleaned_or_default(self) -> dict:
        data = super().cleaned_or_default()
        if data.get("chart") is None:
            data["chart"] = self.kpis[0] if self.kpis else None
        return data

    @property
    def columns_dimension(self) -> str:
        """The dimension whose keys fill the scorecard's columns."""
        return self.cleaned_or_default()["dimension"]

    @property
    def key_field(self) -> forms.BoundField:
        """The bound select of that dimension's keys (it narrows the columns)."""
        return self[self.columns_dimension]

    @property
    def key(self) -> str:
        """The one key the columns are narrowed to; empty for every key."""
        return self.cleaned_or_default().get(self.columns_dimension) or ""

    @property
    def grain_label(self) -> str:
        return str(Grain(self.cleaned_or_default()["grain"]).label)


class RollupExportForm(RollupScopeFilters):
    """The rollup CSV's filters: scope, scope key, KPI (name or id), grain, period range. A dimension filter
    (``stage=mvp``) means ``scope=stage&scope_key=mvp``; filters that contradict each other are an error."""

    scope = forms.ChoiceField(
        required=False,
        label="Scope",
        choices=blank_choice("Every scope", Scope.choices),
        error_messages=invalid_choice("a scope (organisation, portfolio, stage, market, focus or owner)"),
    )
    scope_key = forms.CharField(required=False, label="Scope key", max_length=150)
    kpi = forms.CharField(required=False, label="KPI", max_length=80)

    def clean_kpi(self) -> KPI | None:
        return kpi_from_text(self.cleaned_data["kpi"], self.kpis)

    def clean(self) -> dict:
        data = super().clean()
        filters = self.dimension_filters()
        if len(filters) > 1:
            raise ValidationError(
                f"Give one of {', '.join(DIMENSION_FILTERS)} at most ({', '.join(filters)} were given): "
                "each rollup row has a single scope."
            )
        if filters:
            ((scope, key),) = filters.items()
            if data.get("scope") and data["scope"] != scope:
                raise ValidationError(
                    f"{scope}={key} means scope={scope}, but scope={data['scope']} was given."
                )
            if data.get("scope_key") and data["scope_key"] != key:
                raise ValidationError(
                    f"{scope}={key} means scope_key={key}, but scope_key={data['scope_key']} was given."
                )
            data["scope"], data["scope_key"] = scope, key
        return data

    def export_filters(self) -> ExportFilters:
        """The filters for ``selectors.rollup_export_rows`` (call after ``is_valid()``)."""
        data = self.cleaned_data
        return ExportFilters(
            scope=data.get("scope") or "",
            scope_key=data.get("scope_key") or "",
            kpi=data.get("kpi"),
            grain=data.get("grain") or "",
            period_from=data.get("period_from"),
            period_to=data.get("period_to"),
        )


class RollupCellForm(QueryFilterForm):
    """One scorecard cell: KPI (name or id), scope, key, grain and period (any day inside the bucket)."""

    kpi = forms.CharField(label="KPI", max_length=80)
    scope = forms.ChoiceField(label="Scope", choices=Scope.choices, error_messages=invalid_choice("a scope"))
    key = forms.CharField(label="Scope key", max_length=150)
    grain = forms.ChoiceField(
        label="Grain",
        choices=Grain.choices,
        error_messages=invalid_choice("a grain (native, month or quarter)"),
    )
    period = forms.DateField(label="Period", error_messages=DATE_ERRORS)
    all = forms.BooleanField(required=False, label="Every product")
    sort = forms.ChoiceField(
        label="Order",
        required=False,
        choices=[
            ("gap", "Furthest off target first"),
            ("change", "What changed it most first"),
            ("forecast", "Most likely to miss first"),
        ],
        error_messages=invalid_choice("an order (gap, change or forecast)"),
    )

    def __init__(self, *args, kpis: Iterable[KPI] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kpis = list(kpis)

    def clean_kpi(self) -> KPI | None:
        return kpi_from_text(self.cleaned_data["kpi"], self.kpis)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("scope") == Scope.ORGANISATION and data.get("key") not in (None, "all"):
            self.add_error("key", "The organisation's only key is “all”.")
        return data


class MeasurementFilterForm(QueryFilterForm):
    """The measurements list: one product (slug), one KPI (name or id), a period range, a page."""

    product = forms.CharField(required=False, label="Product", max_length=80, strip=True)
    kpi = forms.CharField(required=False, label="KPI", max_length=80)
    period_from = forms.DateField(
        required=False, label="From", widget=date_input(), error_messages=DATE_ERRORS
    )
    period_to = forms.DateField(required=False, label="To", widget=date_input(), error_messages=DATE_ERRORS)
    page = forms.IntegerField(
        required=False,
        label="Page",
        min_value=1,
        error_messages={"invalid": "Enter a page number.", "min_value": "Pages start at 1."},
    )

    DEFAULTS = {"page": 1}
    FILTERS = ("product", "kpi", "period_from", "period_to")

    def __init__(self, *args, kpis: Iterable[KPI] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kpis = list(kpis)

    def clean_product(self) -> Product | None:
        slug = self.cleaned_data["product"]
        if not slug:
            return None
        product = Product.objects.filter(slug=slug).only("pk", "slug", "name").first()
        if product is None:
            raise ValidationError(f"No product has the slug “{slug}”.")
        return product

    def clean_kpi(self) -> KPI | None:
        return kpi_from_text(self.cleaned_data["kpi"], self.kpis)

    def list_filters(self) -> dict:
        """Keyword arguments for ``selectors.measurement_list``: the valid filters."""
        data = self.cleaned_or_default()
        return {name: data.get(name) for name in self.FILTERS}

    def active(self) -> bool:
        return any(value is not None for value in self.list_filters().values())
