"""Dense parts of the strategy pages written in Python: an objective's card (key results, products serving it,
the align form), the rows of a page of scenario lines, the rows of the investment money tables.

Template nodes, ``{% url %}`` and ``{% csrf_token %}`` per row cost more than the markup (27 objective cards took
about 25 ms to render, a page of 50 scenario lines about 12 ms). These write the markup the templates wrote,
escaping every value (``html.escape``, as Django's ``escape``; ``format_html`` where it reads better); links are
reversed once per call and completed per row. Tests: tests/portfolio/test_objectives.py and test_scenarios.py."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.urls import reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from portfolio.strategy.rules import BURN_BADGE, BURN_LABELS, burn_status
from portfolio.strategy.selectors.objectives import ALIGNED_NAMES_SHOWN as ALIGNED_SHOWN
from portfolio.strategy.selectors.objectives import KEY_RESULT_STATUSES
from portfolio.templatetags.forecast_places import period_forecast_line
from portfolio.templatetags.rollup_display import kpi_compact
from portfolio.templatetags.strategy_display import money, money_compact, money_signed, plain_number
from spm.web.markup import csrf_input, status_badge

register = template.Library()

_SLUG = "slug-placeholder"
_PK = 987654321
CENT = Decimal("0.01")
MONTHS = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _product_url_prefix() -> tuple[str, str]:
    head, _, tail = reverse("products:detail", kwargs={"slug": _SLUG}).partition(_SLUG)
    return head, tail


def _number(value) -> str:
    """``{{ value|floatformat:"-2"|intcomma }}``: no places when whole, else two (half up), thousands grouped."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.quantize(CENT, rounding=ROUND_HALF_UP):,.2f}"


@register.simple_tag
def key_result_items(view) -> SafeString:
    """The ``<li class="kr">`` items of an objective card (``objectives.ObjectiveView``)."""
    items = []
    for kr_view in view.key_results:
        kr = kr_view.key_result
        status = kr_view.status
        if kr.kpi:
            current = f"<strong>{_number(kr.current)}</strong>" if kr.current is not None else "no rollup yet"
            target = f" of {_number(kr.target)}" if kr.target is not None else ""
            period = kr.current_period
            when = f' <span class="muted">({period.day} {MONTHS[period.month]})</span>' if period else ""
            numbers = (
                f"{escape(kr.kpi.name)}: {current}\n                {target} {escape(kr.kpi.unit)}{when}"
            )
        else:
            numbers = "no KPI linked"
        forecast = _key_result_forecast(kr_view)
        progress = kr_view.progress
        bar = (
            f'<progress class="bar bar--thin bar--{escape(status)}" max="100" value="{progress}" '
            f'aria-label="{progress}% of target"></progress>'
            if progress is not None
            else ""
        )
        items.append(
            f'<li class="kr">\n              <span class="kr__title">{escape(kr.title)}</span>\n'
            f"              {status_badge(status)}\n"
            f'              <span class="kr__numbers">\n                {numbers}\n              </span>\n'
            f"              {forecast}{bar}\n            </li>"
        )
    return mark_safe("\n            ".join(items))  # noqa: S308 - every value above is escaped


def _key_result_forecast(kr_view) -> str:
    """The key result's forecast line (escaped HTML, empty without one): its KPI's quarter forecast in the
    objective's scope, with the chance against the key result's own target (``KeyResultView.forecast_chance``);
    for a ``sum`` KPI that target is the quarter's (the weekly target over its weeks), which the line says."""
    forecast, kr = kr_view.forecast, kr_view.key_result
    if forecast is None or kr.kpi is None:
        return ""
    target = kr_view.forecast_target
    note = ""
    if target is not None and kr.target is not None and target != kr.target:
        note = f" ({kpi_compact(target, kr.kpi.unit)} for the quarter)"
    text = period_forecast_line(forecast, kr.kpi.unit, p_on_target=kr_view.forecast_chance, target_note=note)
    return f'<span class="kr__forecast">{escape(text)}</span>\n              ' if text else ""


@register.simple_tag(takes_context=True)
def aligned_items(context, view, editable_ids) -> SafeString:
    """The ``<li>`` items of an objective card's products: link, weight and, for editors, a Remove form."""
    head, tail = _product_url_prefix()
    delete_head, _, delete_tail = reverse("portfolio:alignment-delete", args=[_PK]).partition(str(_PK))
    csrf = None
    objective_pk = int(view.objective.pk)
    items = []
    for slug, name, weight, alignment_id, product_id in view.aligned:
        name = escape(name)
        item = (
            f'<li><a href="{head}{escape(slug)}{tail}">{name}</a> <span class="muted">{int(weight)}%</span>'
        )
        if product_id in editable_ids:
            if csrf is None:
                csrf = csrf_input(context)
            action = f"{delete_head}{int(alignment_id)}{delete_tail}"
            item += (
                f'\n              <form class="inline-form" method="post" action="{action}" hx-post="{action}" '
                f'hx-target="#objective-{objective_pk}" hx-swap="outerHTML">{csrf}<button type="submit" '
                f'class="btn btn--sm btn--ghost">Remove<span class="visually-hidden"> {name} from this objective'
                "</span></button></form>"
            )
        items.append(item + "</li>")
    return mark_safe("".join(items))  # noqa: S308 - every value above is escaped


@register.simple_tag(name="status_counts")
def status_counts_badges(counts) -> SafeString:
    """``[("at_risk", 2), …]`` as badges in words with their counts ("▲ 2 at risk"), worst first."""
    return mark_safe(  # noqa: S308 - every value is escaped
        " ".join(
            f'<span class="badge status status--{escape(status)}">{int(count)} '
            f"{escape(KEY_RESULT_STATUSES[status].lower())}</span>"
            for status, count in counts
        )
    )


def _objective_summary(view) -> str:
    """The line an objective shows closed: its key results' statuses counted and their mean progress."""
    total = len(view.key_results)
    if not total:
        return '<span class="muted">No key results yet</span>'
    parts = [
        f'<span class="objective__kr-count">{total} key result{"" if total == 1 else "s"}</span>',
        status_counts_badges(view.status_counts),
    ]
    progress = view.progress
    if progress is not None:
        parts.append(
            f'<span class="objective__progress" title="mean progress towards target of the key results with a '
            f'higher-is-better KPI">{progress}% of target</span>'
        )
    return " ".join(parts)


@register.simple_tag(takes_context=True)
def objective_card(context, view) -> SafeString:
    """An objective's row (``objectives.ObjectiveView``): title, target date, products and funding, and a summary
    of its key results that opens (``<details>``, no JavaScript) onto the key results, the products serving it
    and, for people who may align products (``can_align_any``), the align form. Money with ``shows_money``
    (``funding_year``); a note after a write (``card_note``) shows it open. The objectives page's rows and the
    row swapped in after a write."""
    objective = view.objective
    pk = int(objective.pk)
    uncovered = "" if view.covered else " objective--uncovered"
    if objective.target_date:
        day = objective.target_date
        when = f'<span class="objective__when">by {day.day} {MONTHS[day.month]} {day.year}</span>'
    else:
        when = ""
    description = (
        f'<p class="objective__description">{escape(objective.description)}</p>'
        if objective.description
        else ""
    )
    count = int(view.aligned_count)
    funding = (
        f'<span class="count-pill" title="planned {escape(str(context.get("funding_year")))}, weighted">'
        f"{escape(money_compact(view.funding or 0))}</span>"
        if context.get("shows_money")
        else ""
    )
    note = context.get("card_note")
    note_html = (
        f'<p class="card__message message message--{escape(note["level"])}" role="status">'
        f"{escape(str(note['text']))}</p>"
        if note
        else ""
    )
    if view.key_results:
        key_results = f'<ul class="kr-list">\n            {key_result_items(view)}\n          </ul>'
    else:
        key_results = '<p class="muted">No key results yet (add them in the admin).</p>'
    if view.aligned:
        more = (
            f'<li class="muted">and {count - ALIGNED_SHOWN} more (see the CSV)</li>'
            if count > len(view.aligned)
            else ""
        )
        aligned = (
            f'<ul class="aligned-list">\n            {aligned_items(context, view, context.get("editable_ids") or ())}'
            f"\n            {more}\n          </ul>"
        )
    else:
        aligned = '<p class="objective__gap">No product serves this objective.</p>'
    form = ""
    if context.get("can_align_any"):
        action = reverse("portfolio:alignment-create", args=[pk])
        form = (
            f'<form class="form-inline align-form" method="post" action="{action}" hx-post="{action}" '
            f'hx-target="#objective-{pk}" hx-swap="outerHTML">\n            {csrf_input(context)}\n'
            f'            <label for="align-{pk}">Align a product</label>\n'
            f'            <input id="align-{pk}" name="product" type="text" placeholder="product slug or name" required '
            'maxlength="80">\n'
            f'            <label for="weight-{pk}" class="visually-hidden">Weight %</label>\n'
            f'            <input id="weight-{pk}" name="weight" type="number" min="1" max="100" value="100" '
            f'class="input--narrow" aria-describedby="weight-help-{pk}">\n'
            f'            <span id="weight-help-{pk}" class="muted">% of its money</span>\n'
            '            <button type="submit" class="btn btn--sm">Align</button>\n          </form>'
        )
    is_open = " open" if note else ""
    html = f"""<article id="objective-{pk}" class="objective{uncovered}" aria-labelledby="objective-{pk}-title">
      <div class="objective__head">
        <h4 id="objective-{pk}-title" class="objective__title">{escape(objective.title)}</h4>
        <div class="objective__facts">
          {when}
          <span class="count-pill">{count} product{"" if count == 1 else "s"}</span>
          {funding}
        </div>
      </div>
      {note_html}
      <details class="objective__details"{is_open}>
        <summary class="objective__summary">{_objective_summary(view)}</summary>
        {description}
        <div class="objective__body grid-halves">
          <div>
            <h5 class="small">Key results</h5>
            {key_results}
          </div>
          <div>
            <h5 class="small">Products serving it</h5>
            {aligned}
            {form}
          </div>
        </div>
      </details>
    </article>"""
    return mark_safe(html)  # noqa: S308 - every value above is escaped


@register.simple_tag
def money_table_rows(rows, link_products: bool = False) -> SafeString:
    """The ``<tr>`` rows of ``_money_table.html`` (``investment.MoneyRow``): capex, opex, planned, plan to date,
    actual, variance and burn status; with ``link_products`` the label links to the product's budget page."""
    if link_products:
        head, _, tail = reverse("portfolio:product-budget", kwargs={"slug": _SLUG}).partition(_SLUG)
    out = []
    for row in rows:
        if link_products:
            label = (
                f'<a href="{head}{escape(row.key)}{tail}">{escape(row.label)}</a> '
                f'<span class="muted small">{escape(str(row.extra.get("portfolio", "")))}</span>'
            )
        else:
            label = escape(row.label)
        planned, due, actual = row.planned, row.plan_to_date, row.actual
        variance = actual - due
        status = burn_status(plan_to_date=due, actual=actual)
        burn = (actual * 100 / due).quantize(Decimal("1"), rounding=ROUND_HALF_UP) if due > 0 else None
        burn_text = f" · {burn}%" if burn is not None else ""
        over = " variance--over" if variance > 0 else ""
        out.append(
            f'<tr>\n        <th scope="row">{label}</th>\n'
            f'        <td class="num hide-sm">{escape(money(row.capex))}</td>\n'
            f'        <td class="num hide-sm">{escape(money(row.opex))}</td>\n'
            f'        <td class="num">{escape(money(planned))}</td>\n'
            f'        <td class="num">{escape(money(due))}</td>\n'
            f'        <td class="num">{escape(money(actual))}</td>\n'
            f'        <td class="num{over}">{escape(money_signed(variance))}</td>\n'
            f'        <td><span class="badge status status--{BURN_BADGE[status]}">{escape(BURN_LABELS[status])}'
            f"{burn_text}</span></td>\n      </tr>"
        )
    return mark_safe("\n      ".join(out))  # noqa: S308 - every value above is escaped


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
    csrf = mark_safe(csrf_input(context) if can_edit else "")  # noqa: S308 - format_html
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
