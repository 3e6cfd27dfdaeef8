"""Who may see or change what. Views, partials, exports and admin ask here and nowhere else.

A view that names one product by its slug fetches it through ``access_product``, which checks as it fetches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Literal

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404

from products.choices import Role
from products.models import ImportKind, Membership, Product

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


def can_view_product(user: User | AnonymousUser, product: Product) -> bool:
    """Every signed-in person sees the whole portfolio (money aside: ``can_see_budget``)."""
    return user.is_authenticated


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


def can_override_gate(user: User | AnonymousUser, product: Product) -> bool:
    """Approving or overriding a stage gate: VPs and superusers anywhere, a director in the portfolios they direct."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.role == Role.VP or directs(user, product)


def can_edit_portfolio(user: User | AnonymousUser, portfolio) -> bool:
    """A portfolio and its objectives: VPs and superusers anywhere, a director the portfolios they direct."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.role == Role.VP:
        return True
    # Organisation-wide objectives (no portfolio) are for VPs.
    return user.role == Role.DIRECTOR and portfolio is not None and portfolio.director_id == user.pk


def can_edit_kpi_target(user: User | AnonymousUser, product: Product) -> bool:
    """A product's own KPI targets are set by the people who edit the product (never by junior members)."""
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


# --------------------------------------------------------------------------------------------------
# The choke point for views that name one product (Zulip's ``access_stream_by_id``): fetch and check together.
# --------------------------------------------------------------------------------------------------

ProductAction = Literal["view", "edit", "edit_work", "move_stage", "record_measurement", "see_budget"]

NOT_FOUND = "No product with that slug."
#: Action -> the rule that allows it and what a refusal (403) says.
PRODUCT_ACTIONS: dict[str, tuple[Callable[..., bool], str]] = {
    "view": (can_view_product, NOT_FOUND),
    "edit": (can_edit_product, "You may not edit this product."),
    "edit_work": (can_edit_product, "You may not edit this product's lifecycle work."),
    "move_stage": (can_move_stage, "You may not move this product between stages."),
    "record_measurement": (can_record_measurement, "You may not record measurements for this product."),
    "see_budget": (can_see_budget, "This product's budget is not shared with you."),
}


def access_product(
    user: User | AnonymousUser,
    slug: str,
    *,
    action: ProductAction,
    queryset: QuerySet[Product] | None = None,
) -> Product:
    """The product with this slug, if ``user`` may do ``action`` with it.

    Raises ``Http404`` when there is no such product or the user may not see it (a hidden product and a
    missing one answer alike), ``PermissionDenied`` with a readable message when they see it but may not do
    ``action`` (``PRODUCT_ACTIONS``). ``queryset`` is where to look, with the joins the caller needs; by default
    the product's portfolio (and its director) and owner, which the rules read. Higher apps add their own
    actions on top (``portfolio.strategy.permissions.access_product_strategy``).
    """
    if action not in PRODUCT_ACTIONS:
        raise ValueError(f"Unknown product action “{action}”.")
    if queryset is None:
        queryset = Product.objects.select_related("portfolio", "portfolio__director", "owner")
    try:
        product = queryset.get(slug=slug)
    except Product.DoesNotExist:
        raise Http404(NOT_FOUND) from None
    if not can_view_product(user, product):
        raise Http404(NOT_FOUND)
    allowed, refusal = PRODUCT_ACTIONS[action]
    if not allowed(user, product):
        raise PermissionDenied(refusal)
    return product


def product_ids_with_budget_access(user: User, product_ids: list[int]) -> set[int]:
    """Of some products, those whose budget the user may see, in one query (for tables)."""
    if is_leadership(user):
        return set(product_ids)
    return set(
        products_with_budget_access(user, Product.objects.filter(pk__in=product_ids)).values_list(
            "pk", flat=True
        )
    )


def products_with_budget_access(user: User | AnonymousUser, products: QuerySet[Product]) -> QuerySet[Product]:
    """Of a queryset of products, those whose budget the user may see: lazy, usable as a subquery
    (totals over thousands of products, money sorts, CSV exports)."""
    if is_leadership(user):
        return products
    if not user.is_authenticated:
        return products.none()
    on_product = Product.objects.filter(
        Q(owner=user) | Q(memberships__user=user) | Q(portfolio__director=user)
    ).values("pk")
    return products.filter(pk__in=on_product)


def product_ids_user_may_edit(user: User | AnonymousUser, product_ids: Iterable[int]) -> set[int]:
    """Of some products, those the user may edit (and so move between stages), in at most one query.

    Mirrors ``can_edit_product`` for boards and tables: superusers, VPs, the portfolio's director, owners
    whose own role is PM-level, and PM-level members (a membership row does not count for the owner, whose
    own role decides, as in ``membership_role``).
    """
    product_ids = set(product_ids)
    if not user.is_authenticated or not product_ids:
        return set()
    if user.is_superuser or user.role == Role.VP:
        return product_ids
    may_edit = Q(memberships__user=user, memberships__role__in=PM_LEVEL) & ~Q(owner=user)
    if user.role in PM_LEVEL:
        may_edit |= Q(owner=user)
    if user.role == Role.DIRECTOR:
        may_edit |= Q(portfolio__director=user)
    return set(
        Product.objects.filter(pk__in=product_ids)
        .filter(may_edit)
        .order_by()
        .values_list("pk", flat=True)
        .distinct()
    )


# --------------------------------------------------------------------------------------------------
# CSV imports (docs/imports.md). The page and the kinds go by the person's role; each row is then checked
# against the product it names, with the rules above.
# --------------------------------------------------------------------------------------------------


def can_import(user: User | AnonymousUser) -> bool:
    """The Import page (and its menu item): PM-level people and leadership. Juniors never bulk-import."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.role in LEADERSHIP or user.role in PM_LEVEL


def import_kinds_allowed(user: User | AnonymousUser) -> list[str]:
    """The kinds of file the user may import: products and measurements (row by row, for the products they
    may edit); KPI definitions, which every product shares, only for VPs and superusers."""
    if not can_import(user):
        return []
    kinds = [ImportKind.MEASUREMENTS, ImportKind.PRODUCTS]
    if user.is_superuser or user.role == Role.VP:
        kinds.append(ImportKind.KPIS)
    return kinds


def can_create_product(user: User | AnonymousUser, portfolio) -> bool:
    """A new product (by import): VPs and superusers anywhere, a director in the portfolios they direct."""
    return can_edit_portfolio(user, portfolio) and portfolio is not None


def can_reassign_product(user: User | AnonymousUser, product: Product, portfolio) -> bool:
    """Changing a product's owner or moving it to ``portfolio`` (by import): VPs and superusers, or a director
    who directs both its portfolio and the new one. PMs edit their products but never hand them over."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.role == Role.VP:
        return True
    return directs(user, product) and can_edit_portfolio(user, portfolio)


def can_see_import_run(user: User | AnonymousUser, run) -> bool:
    """An import's page: the person who brought the file, VPs and superusers."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.role == Role.VP or run.uploaded_by_id == user.pk
