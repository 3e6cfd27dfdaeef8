"""A product's own audit history: the product and its team, for the product page's History tab (the
lifecycle and the KPIs add theirs: ``lifecycle.history``, ``portfolio.kpis.history``)."""

from __future__ import annotations

from products.models import Membership, Product, User
from spm.history.pages import HistorySource

#: Entries on one page of the History tab.
HISTORY_PER_PAGE = 25
#: Product fields a history entry or a conflict message shows, in the order of the product page.
PRODUCT_FIELDS = (
    "name",
    "slug",
    "description",
    "portfolio",
    "owner",
    "market",
    "focus",
    "stage",
    "stage_entered_at",
    "planned_budget",
    "actual_spend",
)
#: Shown only to people who may see the product's budget (``products.permissions.can_see_budget``).
MONEY_FIELDS = frozenset({"planned_budget", "actual_spend"})


def product_history_sources(*, product: Product, show_money: bool) -> list[HistorySource]:
    """The product's own rows and its memberships'; money fields only when ``show_money``."""
    return [
        HistorySource(
            kind="product",
            records=Product.history.filter(id=product.pk),
            subject=lambda record, names: f"Product “{record.name}”",
            fields=PRODUCT_FIELDS,
            hidden=frozenset() if show_money else MONEY_FIELDS,
        ),
        HistorySource(
            kind="membership",
            records=Membership.history.filter(product_id=product.pk),
            subject=lambda record, names: f"Team: {names.get((User, record.user_id)) or 'a removed person'}",
            fields=("user", "role", "joined_at"),
            subject_fields=("user",),
            labels={"user": "Person"},
        ),
    ]
