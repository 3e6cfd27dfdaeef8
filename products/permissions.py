"""Who may see or change what. Views, partials, exports and admin ask here and nowhere else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q

from products.models import Membership, Product, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from products.models import User

PM_LEVEL = frozenset({Role.PM, Role.SENIOR_PM, Role.PRODUCT_OWNER})
LEADERSHIP = frozenset({Role.DIRECTOR, Role.VP})


def is_leadership(user: User | AnonymousUser) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in LEADERSHIP)


def directs(user: User, product: Product) -> bool:
    return user.role == Role.DIRECTOR and product.portfolio.director_id == user.pk


def membership_role(user: User, product: Product) -> str | None:
    """The user's role on the product: their own role when they own it, the membership role, or None."""
    if product.owner_id == user.pk:
        return user.role
    return Membership.objects.filter(product=product, user=user).values_list("role", flat=True).first()


def can_edit_product(user: User | AnonymousUser, product: Product) -> bool:
    """Owners, PM-level members, the portfolio's director, VPs and superusers edit a product."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.role == Role.VP or directs(user, product):
        return True
    return membership_role(user, product) in PM_LEVEL


def can_move_stage(user: User | AnonymousUser, product: Product) -> bool:
    """Moving a product between stages is for the people who may edit it."""
    return can_edit_product(user, product)


def can_record_measurement(user: User | AnonymousUser, product: Product) -> bool:
    """Anyone who works on the product (any role) records its KPI values, as do its editors."""
    if not user.is_authenticated:
        return False
    return can_edit_product(user, product) or membership_role(user, product) is not None


def can_see_budget(user: User | AnonymousUser, product: Product) -> bool:
    """Money is for leadership and the people on the product."""
    if not user.is_authenticated:
        return False
    return is_leadership(user) or directs(user, product) or membership_role(user, product) is not None


def product_ids_with_budget_access(user: User, product_ids: list[int]) -> set[int]:
    """Of some products, those whose budget the user may see, in one query (for tables)."""
    if is_leadership(user):
        return set(product_ids)
    return set(
        Product.objects.filter(pk__in=product_ids)
        .filter(Q(owner=user) | Q(memberships__user=user) | Q(portfolio__director=user))
        .values_list("pk", flat=True)
    )
