"""Dense parts of the strategy pages written in Python: an objective card's key results and aligned products,
a scenario's lines. Template nodes, ``{% url %}`` and ``{% csrf_token %}`` per row cost more than the markup
(a page of scenario lines or 27 objective cards took 20-40 ms to render); these write the same markup, escaping
every value with ``format_html``/``escape``. Links are reversed once per call and completed per row."""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.template.loader import get_template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from portfolio.templatetags.strategy_display import money, plain_number

register = template.Library()

_SLUG = "slug-placeholder"
_PK = 987654321
NO_TOKEN = "NOTPROVIDED"  # noqa: S105 - what Django's csrf context processor gives when there is no request


def _csrf_input(context) -> str:
    token = context.get("csrf_token")
    if not token or token == NO_TOKEN:
        return ""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


def _product_url_prefix() -> tuple[str, str]:
    head, _, tail = reverse("products:detail", kwargs={"slug": _SLUG}).partition(_SLUG)
    return head, tail


@lru_cache(maxsize=8)
def status_badge(status: str) -> str:
    """``includes/status_badge.html`` for one status, rendered once."""
    return get_template("includes/status_badge.html").render({"status": status})


def _number(value) -> str:
    """``{{ value|floatformat:"-2"|intcomma }}``: two places, none when whole, thousands grouped."""
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.template.defaultfilters import floatformat

    return intcomma(floatformat(value, "-2"))


@register.simple_tag
def key_result_items(view) -> SafeString:
    """The ``<li class="kr">`` items of an objective card (``objectives.ObjectiveView``)."""
    from django.template.defaultfilters import date as date_filter

    items = []
    for kr_view in view.key_results:
        kr = kr_view.key_result
        status = kr_view.status
        if kr.kpi:
            current = (
                format_html("<strong>{}</strong>", _number(kr.current))
                if kr.current is not None
                else "no rollup yet"
            )
            target = f" of {escape(_number(kr.target))}" if kr.target is not None else ""
            period = (
                format_html(' <span class="muted">({})</span>', date_filter(kr.current_period, "j M"))
                if kr.current_period
                else ""
            )
            numbers = (
                f"{escape(kr.kpi.name)}: {current}\n                {target} {escape(kr.kpi.unit)}{period}"
            )
        else:
            numbers = "no KPI linked"
        progress = kr_view.progress
        bar = (
            format_html(
                '<progress class="bar bar--thin bar--{}" max="100" value="{}" aria-label="{}% of target">'
                "</progress>",
                status,
                progress,
                progress,
            )
            if progress is not None
            else ""
        )
        items.append(
            f'<li class="kr">\n              <span class="kr__title">{escape(kr.title)}</span>\n'
            f"              {status_badge(status)}\n"
            f'              <span class="kr__numbers">\n                {numbers}\n              </span>\n'
            f"              {bar}\n            </li>"
        )
    return mark_safe("\n            ".join(items))  # noqa: S308 - every value above is escaped


@register.simple_tag(takes_context=True)
def aligned_items(context, view, editable_ids) -> SafeString:
    """The ``<li>`` items of an objective card's products: link, weight and, for editors, a Remove form."""
    head, tail = _product_url_prefix()
    delete_head, _, delete_tail = reverse("portfolio:alignment-delete", args=[_PK]).partition(str(_PK))
    csrf = None
    objective_pk = view.objective.pk
    items = []
    for slug, name, weight, alignment_id, product_id in view.aligned:
        item = format_html(
            '<li><a href="{}{}{}">{}</a> <span class="muted">{}%</span>', head, slug, tail, name, weight
        )
        if product_id in editable_ids:
            if csrf is None:
                csrf = _csrf_input(context)
            action = f"{delete_head}{alignment_id}{delete_tail}"
            item += format_html(
                '\n              <form class="inline-form" method="post" action="{}" hx-post="{}" '
                'hx-target="#objective-{}" hx-swap="outerHTML">{}<button type="submit" '
                'class="btn btn--sm btn--ghost">Remove<span class="visually-hidden"> {} from this objective'
                "</span></button></form>",
                action,
                action,
                objective_pk,
                mark_safe(csrf),  # noqa: S308 - format_html above
                name,
            )
        items.append(item + "</li>")
    return mark_safe("".join(items))  # noqa: S308 - format_html escapes every value


@register.simple_tag(takes_context=True)
def scenario_line_rows(
    context, lines, scenario, can_edit: bool, changed_only: bool, page_number
) -> SafeString:
    """The ``<tr>`` rows of a page of scenario lines (``scenarios.scenario_lines``), with the budget and
    pause/resume/remove forms when the user may edit the scenario."""
    head, tail = _product_url_prefix()
    line_head, _, line_tail = reverse("portfolio:scenario-line", args=[scenario.pk, _PK]).partition(str(_PK))
    hidden = format_html('<input type="hidden" name="page" value="{}">', page_number)
    if changed_only:
        hidden = mark_safe(hidden + '<input type="hidden" name="changed" value="1">')  # noqa: S308 - constant
    csrf = mark_safe(_csrf_input(context) if can_edit else "")  # noqa: S308 - format_html
    paused_zero = f'<span class="muted">{escape(money(0))} (paused)</span>'
    rows = []
    for line in lines:
        is_new = line.product_id is None
        name = line.new_name if is_new else line.product.name
        css = "line--paused" if line.paused else ("line--changed" if line.changed else "")
        if is_new:
            title = format_html('{} <span class="badge badge--plain">new</span>', name)
            portfolio = escape(line.new_portfolio.name) if line.new_portfolio_id else ""
            base = "\u2013"
        else:
            title = format_html('<a href="{}{}{}">{}</a>', head, line.product.slug, tail, name)
            portfolio = escape(line.product.portfolio.name)
            base = escape(money(line.base_planned))
        action = f"{line_head}{line.pk}{line_tail}"
        if can_edit and not line.paused:
            planned = format_html(
                '\n            <form method="post" action="{action}" hx-post="{action}" hx-target="#scenario-lines" '
                'hx-swap="outerHTML" class="line-form">\n              {csrf}{hidden}\n'
                '              <label for="planned-{pk}" class="visually-hidden">Scenario budget of {name}</label>\n'
                '              <input id="planned-{pk}" name="planned" value="{value}" inputmode="decimal" '
                'class="input--money" required>\n'
                '              <button type="submit" class="btn btn--sm">Save<span class="visually-hidden"> budget '
                "of {name}</span></button>\n            </form>\n            ",
                action=action,
                csrf=csrf,
                hidden=hidden,
                pk=line.pk,
                name=name,
                value=plain_number(line.planned),
            )
        elif line.paused:
            planned = paused_zero
        else:
            planned = escape(money(line.planned))
        if can_edit:
            if is_new:
                field, value, button, label = "remove", "1", "btn btn--sm btn--ghost", "Remove"
            elif line.paused:
                field, value, button, label = "paused", "0", "btn btn--sm", "Resume"
            else:
                field, value, button, label = "paused", "1", "btn btn--sm btn--ghost", "Pause"
            state = format_html(
                '\n            <form method="post" action="{action}" hx-post="{action}" hx-target="#scenario-lines" '
                'hx-swap="outerHTML" class="inline-form">\n              {csrf}{hidden}\n              '
                '<input type="hidden" name="{field}" value="{value}"><button type="submit" class="{button}">'
                '{label}<span class="visually-hidden"> {name}</span></button>\n            </form>\n            ',
                action=action,
                csrf=csrf,
                hidden=hidden,
                field=field,
                value=value,
                button=button,
                label=label,
                name=name,
            )
        else:
            state = (
                "paused" if line.paused else ("proposed" if is_new else ("changed" if line.changed else ""))
            )
        rows.append(
            f'<tr id="line-{line.pk}" class="{css}">\n'
            f'          <th scope="row">{title}</th>\n'
            f'          <td class="hide-sm">{portfolio}</td>\n'
            f'          <td class="num">{base}</td>\n'
            f'          <td class="num">{planned}</td>\n'
            f"          <td>{state}</td>\n        </tr>"
        )
    return mark_safe("\n        ".join(rows))  # noqa: S308 - every value above is escaped
