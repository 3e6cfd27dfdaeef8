"""Audit history and edit conflicts: the pieces every app shares.

django-simple-history writes a historical row (who, when, created / changed / deleted, every tracked field) on
each save and delete of Product, Membership, StageTransition, KPI, KPITarget and Measurement, whoever makes
it: views, services, the admin, commands. ``HistoryRequestMiddleware`` tells it who is signed in; without a
request (a command, an import) a model's ``get_user`` falls back to the row's own "who" field. Bulk writes
(``bulk_create``, ``bulk_update``, ``QuerySet.update``, raw SQL) bypass it: the demo seeder's data has no
history, nor does the product health the rollups store (see docs/history.md).

Here, in the bottom app (so no higher model is named):

- ``history_page``: the history rows of several models merged newest first, one page at a time, in a number of
  queries that does not grow with the history;
- ``describe_value`` and ``FieldChange``: stored values as a person reads them;
- ``version_claim``, ``EditConflict``, ``edit_conflict`` and ``rebased_data``: optimistic concurrency on a
  ``version`` column, and a conflicted form's input carried over onto the latest save.
"""

from __future__ import annotations

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
