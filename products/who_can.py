"""Who may do what, in words: what a page says where a control is missing for the person looking, so that they
know whom to ask ("Read-only for you: its owner, Zoe Olsen, or the Payments director, Dana Reyes, can edit it").

The sentences follow the rules of ``products.permissions`` (docs/permissions.md); each function names the people
of one product or portfolio. They read ``product.owner`` and ``product.portfolio.director``: fetch them with the
product (``select_related``) where a page says this for many products.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portfolio.models import Portfolio
    from products.models import Product, User


def _person(user: User | None) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def _director(portfolio: Portfolio | None) -> str:
    """“the Payments director, Dana Reyes,” (the name set off by commas: “… Reyes, or a VP”), or “the Payments
    director” while the post is empty."""
    if portfolio is None:
        return ""
    director = _person(portfolio.director) if portfolio.director_id else ""
    return f"the {portfolio.name} director, {director}," if director else f"the {portfolio.name} director"


def who_can_edit(product: Product) -> str:
    """Who edits ``product`` (and moves it, writes its lifecycle work, sets its targets)."""
    return f"its owner, {_person(product.owner)}, a PM-level member, {_director(product.portfolio)} or a VP"


def who_can_record(product: Product) -> str:
    """Who records ``product``'s KPI values."""
    return f"the people on it (its owner, {_person(product.owner)}, and its members), {_director(product.portfolio)} or a VP"


def who_can_plan(portfolio: Portfolio | None) -> str:
    """Who changes the plan of ``portfolio`` (its budget lines, its scenarios): None is the whole organisation."""
    return f"{_director(portfolio)} or a VP" if portfolio is not None else "a VP"


#: Said once beside a table whose money is hidden for some of its rows (``products.permissions.can_see_budget``).
MONEY_ACCESS = (
    "Budget and spend are shared with leadership and the people on each product: to see a product's, ask its "
    "owner to add you as a member."
)
