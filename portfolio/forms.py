"""Input parsing for portfolio data: recording a KPI measurement."""

import datetime as dt
import math

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from portfolio.models import KPI, Frequency


def period_start(day: dt.date, frequency: str) -> dt.date:
    """The first day of the KPI period containing ``day``: Monday, the 1st, or the quarter's first day."""
    if frequency == Frequency.MONTHLY:
        return day.replace(day=1)
    if frequency == Frequency.QUARTERLY:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day - dt.timedelta(days=day.weekday())


class MeasurementForm(forms.Form):
    """One value of one KPI for the product being viewed. Any day in the period may be given."""

    kpi = forms.ModelChoiceField(
        queryset=KPI.objects.order_by("-is_key", "name"), label="KPI", empty_label=None
    )
    period = forms.DateField(
        label="Period",
        help_text="Any day in the period: weekly KPIs are stored for the Monday, monthly ones for the 1st.",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    value = forms.FloatField(label="Value")

    def clean_value(self) -> float:
        value = self.cleaned_data["value"]
        if not math.isfinite(value):
            raise ValidationError("Enter a finite number.")
        return value

    def clean(self) -> dict:
        data = super().clean()
        kpi, period = data.get("kpi"), data.get("period")
        if kpi and period:
            if period > timezone.localdate() + dt.timedelta(days=366):
                self.add_error("period", "That period is more than a year away: check the year.")
            else:
                data["period"] = period_start(period, kpi.frequency)
        return data
