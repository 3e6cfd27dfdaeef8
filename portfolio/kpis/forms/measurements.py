"""Recording one KPI value on the product page: valid ranges and periods, and no silent replacement."""

import datetime as dt
import math

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from portfolio.models import KPI, Measurement
from portfolio.periods import period_name, period_start
from products.models import Product
from spm.web.figures import kpi_number


class MeasurementForm(forms.Form):
    """One value of one KPI for the product being viewed. Any day in the period may be given: the value counts for
    the period that holds it (``counts_for`` says which). A value outside the KPI's valid range, or for a period
    that has not begun, is refused (``portfolio.validity``). A period that has a different value already is
    not silently replaced: the form answers with the current value, who recorded it and when, and the second
    submit (carrying ``replaces``, the value it confirms replacing) replaces it."""

    kpi = forms.ModelChoiceField(
        queryset=KPI.objects.order_by("-is_key", "name"), label="KPI", empty_label=None
    )
    period = forms.DateField(
        label="Period",
        help_text="Any day in the period: weekly KPIs are stored for the Monday, monthly ones for the 1st.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    value = forms.FloatField(label="Value")
    replaces = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, product: Product | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.product = product
        self.existing: Measurement | None = None  # the value a confirmation would replace
        self.counts_for = ""

    def clean_value(self) -> float:
        value = self.cleaned_data["value"]
        if not math.isfinite(value):
            raise ValidationError("Enter a finite number.")
        return value

    def clean(self) -> dict:
        data = super().clean()
        kpi, day, value = data.get("kpi"), data.get("period"), data.get("value")
        if kpi is None:
            return data
        if value is not None and (problem := kpi.value_problem(value)):
            self.add_error("value", problem)
        if day is None:
            return data
        period = period_start(day, kpi.frequency)
        if problem := kpi.period_problem(period):
            self.add_error("period", problem)
            return data
        data["period"] = period
        self.counts_for = period_name(period, kpi.frequency)
        if self.product is not None and value is not None and not self.errors:
            self._check_replacement(kpi, period, value, data.get("replaces", ""))
        return data

    def _check_replacement(self, kpi: KPI, period: dt.date, value: float, confirmed: str) -> None:
        existing = (
            Measurement.objects.filter(product=self.product, kpi=kpi, period=period)
            .select_related("recorded_by")
            .first()
        )
        if existing is None or existing.value == value or confirmed == replacement_token(existing):
            return
        self.existing = existing
        who = (
            existing.recorded_by.get_full_name() or existing.recorded_by.username
            if existing.recorded_by
            else "an import or the admin"
        )
        when = timezone.localtime(existing.recorded_at)
        raise ValidationError(
            f"{self.counts_for[0].upper()}{self.counts_for[1:]} already has {kpi.name} = "
            f"{exact_number(existing.value, kpi.unit)}, recorded by {who} on {when:%-d %b %Y at %H:%M}. "
            f"Replace it with {exact_number(value, kpi.unit)}?",
            code="replaces",
        )

    @property
    def replacement_token(self) -> str:
        """What the confirming submit carries: the measurement and the value it saw."""
        return replacement_token(self.existing) if self.existing else ""


def exact_number(value: float, unit: str) -> str:
    """A value as stored, grouped but not rounded to a display size: “€5,183.61”, “42.125%”."""
    text = f"{value:,.6f}".rstrip("0").rstrip(".")
    return kpi_number(0, unit).replace("0", text, 1)


def replacement_token(measurement: Measurement) -> str:
    return f"{measurement.pk}:{measurement.value!r}"
