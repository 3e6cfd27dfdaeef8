"""What the few tables written in Python share with the templates, so that each piece of markup has one source.

``status_badge`` is ``includes/status_badge.html`` rendered once per status; ``csrf_input`` is Django's own
``{% csrf_token %}``, rendered once per table. docs/ARCHITECTURE.md lists the tables written in Python and why.
"""

from functools import lru_cache

from django.template import Context, Template
from django.template.loader import get_template
from django.utils.safestring import SafeString


@lru_cache(maxsize=16)
def status_badge(status: str) -> SafeString:
    """``includes/status_badge.html`` for one status: status in words, never colour alone."""
    return SafeString(get_template("includes/status_badge.html").render({"status": status}))


def csrf_input(context: Context) -> SafeString:
    """The hidden CSRF field, as ``{% csrf_token %}`` writes it in this template context (empty without a token)."""
    return SafeString(_csrf_token().render(Context({"csrf_token": context.get("csrf_token")})))


@lru_cache(maxsize=1)
def _csrf_token() -> Template:
    # Compiled on first use: the engine loads every app's tag libraries, which import this module.
    return Template("{% csrf_token %}")
