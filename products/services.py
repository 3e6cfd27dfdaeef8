"""Writes to products. Atomic and keyword-only; higher apps hear about scope changes through signals.

New products are created by ``lifecycle.services.product_create``: a product's history starts with its first
stage transition, a lifecycle row, and this bottom app may not import the lifecycle.
"""

from typing import Any

from django.db import transaction

from products.history import PRODUCT_FIELDS
from products.models import Product, User
from products.signals import product_scope_changed
from spm.history.conflicts import EditConflict, edit_conflict, version_claim


class ProductEditConflict(EditConflict):
    """The product was saved by someone else after the editor loaded it. ``current`` is the product now;
    ``changes`` what changed since the editor's version (see ``spm.history.conflicts.EditConflict``)."""


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
def product_update(
    *, product: Product, changes: dict[str, Any], by: User, expected_version: int | None = None
) -> Product:
    """Apply validated field changes to a product and save only what changed, as ``by`` (in its history).

    ``expected_version`` is the version the editor loaded: when someone saved the product since, nothing is
    written and ``ProductEditConflict`` says what they changed. Each save moves the version on by one.

    When a scope attribute (portfolio, owner, market, focus) changes, ``product_scope_changed`` is sent with
    the old and new keys, so the portfolio app marks exactly those rollups stale. Stages change only through
    ``lifecycle.services.product_move_stage``. Returns the saved product.
    """
    product = Product.objects.select_for_update().select_related("portfolio", "owner").get(pk=product.pk)
    if expected_version is not None and product.version != expected_version:
        raise _conflict(product, expected_version, changes)
    before = scope_keys(product)
    changed = [name for name, value in changes.items() if getattr(product, name) != value]
    if changed:
        # The row is locked, so the claim succeeds; it is the check that holds even without the lock.
        if not version_claim(model=Product, pk=product.pk, expected=product.version):
            raise _conflict(Product.objects.get(pk=product.pk), product.version, changes)
        for name in changed:
            setattr(product, name, changes[name])
        product.version += 1
        product._history_user = by
        product.save(update_fields=[*changed, "version", "updated_at"])
    after = scope_keys(product)
    moved = {scope: (before[scope], after[scope]) for scope in before if before[scope] != after[scope]}
    if moved:
        product_scope_changed.send(sender=Product, product_id=product.pk, changes=moved)
    return product


def _conflict(product: Product, loaded_version: int, changes: dict[str, Any]) -> ProductEditConflict:
    return edit_conflict(
        current=product,
        loaded_version=loaded_version,
        fields=PRODUCT_FIELDS,
        submitted=changes,
        error=ProductEditConflict,
    )
