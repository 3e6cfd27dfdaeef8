"""Row-level rules for the Django admin, from ``products.permissions``.

Django's model permissions (the role groups of ``products.staff``) decide which admin pages a staff member
opens; this mixin then asks the same rules as the app's views whether they may change or delete one row. A
row they may only read opens read-only. A save (the change form, an add, or a list-editable row) is checked
on the row as it would be stored, so nobody moves a row into a portfolio they do not direct.
"""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import HttpRequest


class RowPermissionAdminMixin:
    #: ``staticmethod((user, obj) -> bool)``: may this person change this row? A rule from ``products.permissions``.
    row_permission: Callable[..., bool]

    def may_change_row(self, request: HttpRequest, obj: Model) -> bool:
        return self.row_permission(request.user, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self.may_change_row(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self.may_change_row(request, obj))

    def check_row_save(self, request: HttpRequest, obj: Model) -> None:
        """Raise ``PermissionDenied`` unless this person may store the row as it is now (a save that does not
        go through ``save_model``'s ``super()``, such as a create service, asks this first)."""
        if not self.may_change_row(request, obj):
            raise PermissionDenied("You may not change this row.")

    def save_model(self, request: HttpRequest, obj: Model, form, change: bool) -> None:
        self.check_row_save(request, obj)
        super().save_model(request, obj, form, change)
