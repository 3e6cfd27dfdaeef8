"""Admin pieces for audit history and edit conflicts, shared by the apps' admins.

``HistoryAdmin`` is django-simple-history's ``SimpleHistoryAdmin`` with its "History" page read-only: the admin
shows who changed what and when, and never reverts to an old version (a revert would bypass the rules the
admins' own saves follow: stage moves, rollup refreshes).

``VersionCheckedAdminMixin`` and ``VersionCheckedForm`` protect models with a ``version`` column (Product,
KPITarget) from lost updates: each form carries the version it was loaded with, and a save from an older one
is refused with a message saying who changed what, keeping the admin's input, and carrying the current version
so that saving again applies it on top. The check reads the row ``SELECT … FOR UPDATE`` inside the admin's
transaction, which holds the lock until the save commits, so two saves cannot both pass it (on SQLite, whose
transactions here are ``IMMEDIATE``, writers are serialised anyway).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import connections, router, transaction
from django.forms.boundfield import BoundField
from django.http import HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from spm.history.conflicts import edit_conflict, rebased_data
from spm.history.records import history_model


class HistoryAdmin(SimpleHistoryAdmin):
    """A model admin with a read-only "History" page per object (who, when, which fields, old → new)."""

    def history_form_view(
        self, request: HttpRequest, object_id, version_id, extra_context=None
    ) -> HttpResponse:
        # SimpleHistoryAdmin saves a POST here even with reverting disabled: history is for reading.
        if request.method == "POST":
            raise PermissionDenied("History is read-only: edit the current version instead.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class VersionCheckedForm(forms.ModelForm):
    """A model form that refuses to overwrite a save made after it was loaded (see the module docstring)."""

    version = forms.IntegerField(
        widget=forms.HiddenInput,
        min_value=1,
        required=False,
        error_messages={"required": "This form is out of date: reload the page and edit again."},
    )
    #: The field whose errors show the conflict; None: the form's own (top) errors.
    conflict_field: str | None = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.initial["version"] = self.instance.version or 1
        self.fields["version"].required = self.instance.pk is not None

    def clean(self) -> dict[str, Any]:
        cleaned_data = super().clean()
        loaded = cleaned_data.get("version")
        if self.instance.pk is None:
            cleaned_data["version"] = self.instance.version or 1  # a new row starts at its default
            return cleaned_data
        if loaded is None:
            return cleaned_data
        model = type(self.instance)
        rows = model._base_manager.filter(pk=self.instance.pk)
        if connections[router.db_for_write(model)].in_atomic_block:
            rows = rows.select_for_update()  # held until the admin's transaction commits the save
        current = rows.get()
        if current.version != loaded:
            tracked = {f.name for f in history_model(model)._meta.fields}
            fields = [f.name for f in model._meta.concrete_fields if f.editable and f.name in tracked]
            submitted = {name: value for name, value in cleaned_data.items() if name != "version"}
            conflict = edit_conflict(
                current=current, loaded_version=loaded, fields=fields, submitted=submitted
            )
            # Shown again with the admin's edits on top of the latest save: saving again applies them.
            self.data, _ = rebased_data(self, conflict)
            self.add_error(self.conflict_field, conflict.message())
            return cleaned_data
        cleaned_data["version"] = loaded + 1
        self.instance.version = loaded + 1  # also when "version" is not one of the form's model fields
        return cleaned_data


class VersionInCellBoundField(BoundField):
    """A list-editable cell that also carries its row's version: the change list renders only the edited
    fields and the primary key of each row, never other hidden fields."""

    def __str__(self) -> str:
        return super().__str__() + str(self.form["version"])


class VersionCheckedAdminMixin:
    """For a ModelAdmin of a model with a ``version`` column: its change form, inlines pointing at it (give
    them ``form = VersionCheckedForm`` and "version" in ``fields``) and list edits check the version.

    A ``form`` of the admin's own must subclass ``VersionCheckedForm``; ``fields``/``fieldsets`` must name
    "version" (it renders hidden).
    """

    form = VersionCheckedForm

    def get_changelist_form(self, request: HttpRequest, **kwargs):
        form = super().get_changelist_form(request, form=kwargs.pop("form", VersionCheckedForm), **kwargs)
        first_editable = self.list_editable[0] if self.list_editable else None

        class ChangelistForm(form):
            conflict_field = first_editable

            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, **kwargs)
                if first_editable in self.fields:
                    self.fields[first_editable].bound_field_class = VersionInCellBoundField

        ChangelistForm.__name__ = f"{self.model.__name__}ChangelistForm"
        return ChangelistForm

    def changelist_view(self, request: HttpRequest, extra_context=None):
        # Django validates list edits before its save transaction opens; one transaction around both keeps
        # the version check's row lock until the save commits.
        if request.method == "POST" and self.list_editable:
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changelist_view(request, extra_context)
        return super().changelist_view(request, extra_context)
