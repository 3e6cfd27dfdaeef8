"""The lifecycle board's cards, written in Python; their Move control and gate checklist come from the board's
template partials.

A board shows up to 70 cards (more when a column is expanded), each with its health, owner, days in stage, gate
checklist and Move form. Through template nodes a card's own markup cost about 0.4 ms (some 60 nodes of lookups,
``{% if %}`` and escaping), and the ``move-form`` partial 0.15 ms more: 38 ms for a board of 70, the board's whole
budget. So:

- the card itself is written here (a few microseconds, Django's ``escape`` on every value; the markup that
  tests/lifecycle/test_board.py reads);
- the Move control is the ``move-form`` partial of lifecycle/board.html, the one source of its markup: the view
  renders it once per column for a stand-in card (``BoardCard.stand_in``), and each card's copy replaces the
  stand-in's slug, name and URL with its own, escaped. A card whose move was just refused renders the partial
  itself, with its errors and the user's input;
- the gate checklist is the ``gate-checklist`` partial, rendered once per distinct set of passed criteria.
"""

from functools import lru_cache

from django import template
from django.template.loader import get_template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from lifecycle.board.selectors import STAND_IN_NAME, STAND_IN_SLUG, STAND_IN_URL, BoardCard, BoardColumn
from lifecycle.gates import GateResult

register = template.Library()

BOARD = "lifecycle/board.html"


@lru_cache(maxsize=512)
def _checklist(gates_a_move: bool, criteria: tuple[tuple[str, bool], ...]) -> str:
    met = sum(1 for _name, passed in criteria if passed)
    context = {"gates_a_move": gates_a_move, "criteria": criteria, "met": met}
    return get_template(f"{BOARD}#gate-checklist").render(context)


def checklist_html(gate: GateResult) -> str:
    return _checklist(
        gate.gates_a_move, tuple((criterion.name, criterion.passed) for criterion in gate.criteria)
    )


def move_form_html(card: BoardCard, stand_in_form: str) -> str:
    """The column's stand-in Move control completed for ``card``."""
    return (
        stand_in_form.replace(STAND_IN_URL, escape(card.move_url))
        .replace(STAND_IN_SLUG, escape(card.slug))
        .replace(STAND_IN_NAME, escape(card.name))
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
def board_cards(context: template.Context, column: BoardColumn, stand_in_form: str) -> SafeString:
    """One column's list of cards (``stand_in_form``: the column's Move control for the stand-in card)."""
    moved_id = context.get("moved_id")
    parts = ['<ul class="board__cards">\n']
    for card in column.cards:
        if not card.may_move:
            move_form = ""
        elif card.move_form is not None:  # refused: the partial, with the errors and the user's input
            partial = context.template.engine.get_template(f"{BOARD}#move-form")
            with context.push(card=card):
                move_form = partial.render(context)
        else:
            move_form = move_form_html(card, stand_in_form)
        parts.append(card_html(card, moved=card.pk == moved_id, move_form=move_form))
    parts.append("</ul>")
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
