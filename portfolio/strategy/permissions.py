"""Who may see or change strategy and money: objectives, alignments, budgets, scores and scenarios.

Built on ``products.permissions`` (roles, ``directs``, ``can_see_budget``); the matrix is in docs/permissions.md.

- Objectives, key results and the coverage view: every signed-in person. Money on them (funding per objective)
  only covers products whose budget the person may see.
- Budget lines (the live plan): leadership for the portfolios they lead (``can_override_gate``: VPs and
  superusers anywhere, a director in the portfolios they direct).
- Alignments and RICE/WSJF scores: the people who edit the product (``can_edit_product``: PM-level owners and
  members, the portfolio's director, VPs, superusers); an alignment to a portfolio objective only from a product
  of that portfolio, to an organisation-wide objective from any product.
- Scenarios: leadership sees them (they are about money); a director creates, edits and approves scenarios of
  the portfolios they direct, a VP (or superuser) any, organisation-wide ones included.

A strategy view that names one product by its slug fetches it through ``access_product_strategy``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from django.core.exceptions import PermissionDenied

from products.choices import Role
from products.permissions import (
    ProductAction,
    access_product,
    can_edit_product,
    can_override_gate,
    is_leadership,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import QuerySet

    from portfolio.models import Objective, Portfolio, Scenario
    from products.models import Product, User


def can_edit_budget(user: User | AnonymousUser, product: Product) -> bool:
    return can_override_gate(user, product)


def can_edit_priority(user: User | AnonymousUser, product: Product) -> bool:
    return can_edit_product(user, product)


def can_align(user: User | AnonymousUser, product: Product, objective: Objective) -> bool:
    if objective.portfolio_id is not None and objective.portfolio_id != product.portfolio_id:
        return False
    return can_edit_product(user, product)


def can_view_scenarios(user: User | AnonymousUser) -> bool:
    return is_leadership(user)


def can_plan_portfolio(user: User | AnonymousUser, portfolio: Portfolio | None) -> bool:
    """Create a scenario for ``portfolio`` (None: the whole organisation)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.role == Role.VP:
        return True
    return user.role == Role.DIRECTOR and portfolio is not None and portfolio.director_id == user.pk


def can_edit_scenario(user: User | AnonymousUser, scenario: Scenario) -> bool:
    """Change or approve a scenario: whoever may plan its portfolio."""
    return can_plan_portfolio(user, scenario.portfolio)


# The choke point of the strategy views that name one product, on top of ``products.permissions.access_product``.

StrategyAction = Literal["edit_budget", "edit_priority"]

#: Strategy action -> the product action it needs first, its rule, what a refusal (403) says.
STRATEGY_ACTIONS: dict[str, tuple[ProductAction, Callable[..., bool], str]] = {
    "edit_budget": ("see_budget", can_edit_budget, "Only leadership of this portfolio changes its budget."),
    "edit_priority": ("view", can_edit_priority, "You may not score this product."),
}


def access_product_strategy(
    user: User | AnonymousUser,
    slug: str,
    *,
    action: StrategyAction | ProductAction,
    queryset: QuerySet[Product] | None = None,
) -> Product:
    """``products.permissions.access_product`` with the strategy actions on top, for the strategy views.

    ``edit_budget`` first needs ``see_budget`` (a refusal says the budget is not shared), ``edit_priority`` only
    ``view``; a product action is passed through. Raises ``Http404`` or ``PermissionDenied`` as
    ``access_product`` does."""
    if action not in STRATEGY_ACTIONS:
        return access_product(user, slug, action=action, queryset=queryset)
    first, allowed, refusal = STRATEGY_ACTIONS[action]
    product = access_product(user, slug, action=first, queryset=queryset)
    if not allowed(user, product):
        raise PermissionDenied(refusal)
    return product
