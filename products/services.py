"""Writes to products. Atomic and keyword-only; higher apps hear about scope changes through signals."""

from typing import Any

from django.db import transaction

from products.models import Product, User
from products.signals import product_scope_changed


def scope_keys(product: Product) -> dict[str, str]:
    """The keys under which a product's KPIs roll up, by scope (see docs/kpis.md)."""
    return {
        "portfolio": product.portfolio.slug,
        "owner": product.owner.username,
        "market": product.market,
        "focus": product.focus,
        "stage": product.stage,
    }


@transaction.atomic
def product_update(*, product: Product, changes: dict[str, Any], by: User) -> Product:
    """Apply validated field changes to a product and save only what changed.

    When a scope attribute (portfolio, owner, market, focus) changes, ``product_scope_changed`` is sent with
    the old and new keys, so the portfolio app marks exactly those rollups stale. Stages change only through
    ``lifecycle.services.product_move_stage``. Returns the saved product.
    """
    product = Product.objects.select_for_update().select_related("portfolio", "owner").get(pk=product.pk)
    before = scope_keys(product)
    changed = [name for name, value in changes.items() if getattr(product, name) != value]
    for name in changed:
        setattr(product, name, changes[name])
    if changed:
        product.save(update_fields=[*changed, "updated_at"])
    after = scope_keys(product)
    moved = {scope: (before[scope], after[scope]) for scope in before if before[scope] != after[scope]}
    if moved:
        product_scope_changed.send(sender=Product, product_id=product.pk, changes=moved)
    return product
