"""``{% select_options choices current blank %}``: a select's ``<option>`` elements, written in Python.

``selected`` where the value equals ``current``; the value equal to ``blank`` (the select's default) is written
empty, so that it stays out of the URL (static/js/filters.js). Written here rather than by a template loop: the
owner filter lists every person (250 in the 1,000-product benchmark), and a ``{% for %}`` with two ``{% if %}``
per option cost the product list and the dashboard about 10 ms a page (docs/ARCHITECTURE.md, "The tables written
in Python, and why"). Every value and label is escaped.
"""

from __future__ import annotations

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def select_options(choices, current="", blank=None) -> SafeString:
    current = "" if current is None else str(current)
    blank = None if blank is None else str(blank)
    parts = []
    for value, label in choices:
        value = "" if value is None else str(value)
        written = "" if value == blank else escape(value)
        selected = " selected" if value == current else ""
        parts.append(f'<option value="{written}"{selected}>{escape(label)}</option>')
    return mark_safe("".join(parts))  # noqa: S308 - every value and label escaped above
