"""The inbox's filters, and what a follow button posts."""

from __future__ import annotations

from django import forms

from portfolio.alerts.services import DEFAULT, FOLLOWING, MUTED
from portfolio.choices import EventKind


class InboxFilterForm(forms.Form):
    """A GET filter form: an unknown kind or page is dropped with a message; the valid values still apply."""

    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Every kind"), *EventKind.choices],
        error_messages={"invalid_choice": "“%(value)s” is not a kind of notification."},
    )
    unread = forms.BooleanField(label="Unread only", required=False)
    page = forms.IntegerField(
        label="Page", required=False, min_value=1, error_messages={"invalid": "A page is a whole number."}
    )

    def values(self) -> dict:
        self.is_valid()
        data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        return {
            "kind": data.get("kind") or "",
            "unread": bool(data.get("unread")),
            "page": data.get("page") or 1,
        }

    @property
    def active(self) -> bool:
        values = self.values()
        return bool(values["kind"] or values["unread"])

    def problems(self) -> list[str]:
        return [
            f"{self.fields[name].label}: {error}" for name, errors in self.errors.items() for error in errors
        ]


class MarkReadForm(forms.Form):
    """Mark one notification read (``id``), or all of them (``all``)."""

    id = forms.IntegerField(required=False, min_value=1)
    all = forms.BooleanField(required=False)

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("id") and not data.get("all"):
            raise forms.ValidationError("Say which notification to mark read, or all of them.")
        return data


class FollowForm(forms.Form):
    mode = forms.ChoiceField(
        choices=[(FOLLOWING, "Follow"), (MUTED, "Mute"), (DEFAULT, "As my role decides")],
        error_messages={"invalid_choice": "Follow, mute, or go back to what your role decides."},
    )
