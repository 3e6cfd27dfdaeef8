"""Recording audit history with django-simple-history: who made a change, and pausing it for bulk maintenance."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
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


@contextmanager
def history_paused() -> Iterator[None]:
    """Record no history inside the block. Process-wide (django-simple-history reads the setting on each
    write): for bulk maintenance in a command, such as the demo seeder wiping the data it replaces, never for
    a request."""
    previous = getattr(settings, "SIMPLE_HISTORY_ENABLED", True)
    settings.SIMPLE_HISTORY_ENABLED = False
    try:
        yield
    finally:
        settings.SIMPLE_HISTORY_ENABLED = previous
