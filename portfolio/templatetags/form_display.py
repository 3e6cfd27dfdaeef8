"""``{% select_options choices current %}``: a select's options written in Python.

The owner filter lists every product owner (about 150 at the benchmark's size); a template loop costs a few
milliseconds per render for what is one line of markup each. Same markup as the loops it replaced, escaped.
"""

from html import escape

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

NO_BLANK = object()


@register.simple_tag
def select_options(choices, current, blank=NO_BLANK) -> str:
    """``<option>`` for each (value, label), ``selected`` where the value equals ``current``. A value equal to
    ``blank`` (a select's default) is written empty, so that it stays out of the URL (static/js/filters.js)."""
    options = []
    for value, label in choices:
        shown = "" if blank is not NO_BLANK and value == blank else escape(str(value))
        selected = " selected" if value == current else ""
        options.append(f'<option value="{shown}"{selected}>{escape(str(label))}</option>')
    return mark_safe("".join(options))  # noqa: S308 - values and labels are escaped
