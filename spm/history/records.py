"""Recording audit history with django-simple-history: who made a change, and the history model of a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models


def history_user_or(field_name: str) -> Callable[..., Any]:
    """A ``get_user`` for ``HistoricalRecords``: the signed-in user, or else (a command, an import) the person
    the row itself names, e.g. a measurement's ``recorded_by``."""

    def get_user(*, instance: models.Model, request: Any = None, **kwargs: Any) -> Any:
        if request is not None:
            return request.user
        return getattr(instance, field_name, None)

    return get_user


def history_model(model: type[models.Model]) -> type[models.Model]:
    """The historical model django-simple-history made for ``model``."""
    return getattr(model, model._meta.simple_history_manager_attribute).model
