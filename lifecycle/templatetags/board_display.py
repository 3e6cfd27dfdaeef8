"""The lifecycle board's cards, written in Python.

A board shows up to 70 cards (more when a column is expanded), each with its health, owner, days in stage, gate
checklist and Move form. As template markup every card cost about 0.4 ms (variable lookups, ``{% if %}`` and
escaping for some 60 nodes); written here, with the stdlib's escaping, it costs a few microseconds. The markup
is the same as the template's (tests/lifecycle/test_board.py reads it). A card whose move was just refused
keeps its form with the errors: that one still renders through the ``move-form`` partial of the board.
"""

from functools import lru_cache
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from lifecycle.board.selectors import BoardCard, BoardColumn
from lifecycle.gates import GateResult

register = template.Library()

MOVE_FORM_PARTIAL = "lifecycle/board.html#move-form"


@lru_cache(maxsize=512)
def _checklist(gates_a_move: bool, criteria: tuple[tuple[str, bool], ...]) -> str:
    """A card's gate disclosure: it depends only on which criteria of the stage pass, so each is built once."""
    met = sum(1 for _name, passed in criteria if passed)
    items = "".join(
        f'<li class="gate-list__item gate-list__item--{"met" if passed else "unmet"}">'
        f'<span class="gate-list__mark" aria-hidden="true">{"✓" if passed else "✗"}</span>'
        f'<span><span class="visually-hidden">{"Met" if passed else "Not met"}: </span>{escape(name)}</span></li>'
        for name, passed in criteria
    )
    return (
        f'<details class="kgate{" kgate--passed" if met == len(criteria) else ""}">\n'
        f'<summary class="kgate__summary">{"Gate" if gates_a_move else "Delivery"}: {met}/{len(criteria)} '
        f"criteria met</summary>\n"
        f'<ul class="gate-list">{items}</ul>\n</details>'
    )


def checklist_html(gate: GateResult) -> str:
    return _checklist(
        gate.gates_a_move, tuple((criterion.name, criterion.passed) for criterion in gate.criteria)
    )


def move_form_html(card: BoardCard, options: str, csrf_input: str) -> str:
    """The Move disclosure of a card: a plain POST form (htmx submits it in place; drag and drop fills it)."""
    url, name = escape(card.move_url), escape(card.name)
    return (
        f'<details class="kmove" id="move-{escape(card.slug)}">\n'
        f'<summary class="btn btn--sm kmove__toggle">Move<span class="visually-hidden"> {name} to another stage'
        f"</span></summary>\n"
        f'<form class="kmove__form" method="post" action="{url}" hx-post="{url}" hx-target="closest details" '
        f'hx-swap="outerHTML" hx-indicator="#page-loading, closest details" data-board-move>\n{csrf_input}\n'
        f'<label class="kmove__field">Move to <select name="to">{options}</select></label>\n'
        '<label class="kmove__field">Note <span class="kmove__hint">(required to move back)</span>'
        '<textarea name="note" rows="2" maxlength="2000"></textarea></label>\n'
        '<div class="kmove__actions">\n<button type="submit" class="btn btn--sm btn--primary">Move</button>\n'
        '<span class="loading htmx-indicator" aria-hidden="true"><span class="spinner"></span>Moving…</span>\n'
        "</div>\n</form>\n</details>"
    )


def card_html(card: BoardCard, *, moved: bool, move_form: str) -> str:
    slug, health = escape(card.slug), escape(card.health)
    days = card.days_in_stage
    drag = ' draggable="true"' if card.may_move else ""
    return "".join(
        (
            f'<li class="kcard status status--{health}{" kcard--moved" if moved else ""}" id="card-{slug}"{drag}>\n',
            f'<a class="kcard__name" href="{escape(card.url)}"{' draggable="false"' if card.may_move else ""}>',
            f"{escape(card.name)}</a>\n",
            f'<span class="kcard__owner"><span class="visually-hidden">Owner: </span>{escape(card.owner_name)}</span>\n',
            f'<div class="kcard__foot">\n<span class="badge status status--{health}">{escape(card.health_label)}</span>\n',
            f'<span class="kcard__days{" kcard__days--long" if days > 90 else ""}">{days} day{"" if days == 1 else "s"} ',
            "in stage</span>\n</div>\n",
            '<span class="kcard__flag">Just moved</span>\n' if moved else "",
            move_form,
            checklist_html(card.checklist) if card.checklist else "",
            "\n</li>\n",
        )
    )


@register.simple_tag(takes_context=True)
def board_cards(context: template.Context, column: BoardColumn, move_options: str) -> SafeString:
    """One column's list of cards (``move_options``: the column's <option>s, rendered once for all its cards)."""
    moved_id = context.get("moved_id")
    token = context.get("csrf_token")
    csrf_input = (
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{escape(str(token))}">' if token else ""
    )
    parts = ['<ul class="board__cards">\n']
    for card in column.cards:
        if not card.may_move:
            move_form = ""
        elif card.move_form is not None:  # refused: the partial, with the errors and the user's input
            partial = context.template.engine.get_template(MOVE_FORM_PARTIAL)
            with context.push(card=card):
                move_form = partial.render(context)
        else:
            move_form = move_form_html(card, move_options, csrf_input)
        parts.append(card_html(card, moved=card.pk == moved_id, move_form=move_form))
    parts.append("</ul>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
