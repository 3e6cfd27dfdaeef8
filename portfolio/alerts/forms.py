"""The inbox's filters, what a follow button posts, and the email settings page."""

from __future__ import annotations

from django import forms

from portfolio.alerts.services import DEFAULT, FOLLOWING, MUTED
from portfolio.choices import DigestFrequency, EmailMode, EventKind
from portfolio.models.alerts import available_time_zones


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
    # Which control answers (a page with several), and in which shape: nothing a person types.
    follow_id = forms.RegexField(regex=r"^follow-[a-z0-9-]{1,40}$", required=False)
    compact = forms.BooleanField(required=False)

    def clean_follow_id(self) -> str:
        return self.cleaned_data["follow_id"] or "follow-control"


MODE_PREFIX = "mode_"


class AlertSettingsForm(forms.Form):
    """The settings page: email on or off, each kind's mode, the digest, the time zone and quiet hours."""

    email_enabled = forms.BooleanField(label="Send me email", required=False)
    digest = forms.ChoiceField(
        label="Digest",
        choices=DigestFrequency.choices,
        error_messages={"invalid_choice": "Choose daily, weekly or no digest."},
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Digests come at 08:00 here; quiet hours are read here.",
        error_messages={"invalid_choice": "“%(value)s” is not a time zone: choose one from the list."},
    )
    quiet_from = forms.TimeField(
        label="Quiet hours from",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter a time such as 22:00."},
    )
    quiet_until = forms.TimeField(
        label="Quiet hours until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={"invalid": "Enter a time such as 07:00."},
    )

    def __init__(self, *args, kinds: dict[str, str], **kwargs) -> None:
        """``kinds``: each kind the person may hear about, with its label."""
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [
            ("", "The site's time zone"),
            *((z, z) for z in sorted(available_time_zones())),
        ]
        for kind, label in kinds.items():
            self.fields[MODE_PREFIX + kind] = forms.ChoiceField(
                label=label,
                required=False,  # not posted: unchanged
                choices=EmailMode.choices,
                error_messages={"invalid_choice": "Choose inbox only, email at once or in my digest."},
            )

    @property
    def mode_fields(self) -> list:
        return [self[name] for name in self.fields if name.startswith(MODE_PREFIX)]

    @property
    def general_fields(self) -> list:
        return [self[name] for name in self.fields if not name.startswith(MODE_PREFIX)]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("quiet_from"), data.get("quiet_until")
        if "quiet_from" not in self.errors and "quiet_until" not in self.errors:
            if (start is None) != (end is None):
                self.add_error(
                    "quiet_until" if start else "quiet_from", "Give both ends of the quiet hours, or neither."
                )
            elif start is not None and start == end:
                self.add_error("quiet_until", "Quiet hours cannot end when they start.")
        data["modes"] = {
            name.removeprefix(MODE_PREFIX): value
            for name, value in data.items()
            if name.startswith(MODE_PREFIX)
        }
        return data


def alert_settings_initial(prefs, modes: dict[str, str]) -> dict:
    initial = {
        "email_enabled": prefs.email_enabled,
        "digest": prefs.digest,
        "time_zone": prefs.time_zone,
        "quiet_from": prefs.quiet_from,
        "quiet_until": prefs.quiet_until,
    }
    return initial | {MODE_PREFIX + kind: mode for kind, mode in modes.items()}
