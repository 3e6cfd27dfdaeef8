"""The lifecycle analytics filter form."""

import datetime as dt

from django import forms
from django.utils import timezone

from lifecycle.analytics.filters import AnalyticsFilters
from lifecycle.work.forms import DATE_INPUT
from products.choices import Focus, Market

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
