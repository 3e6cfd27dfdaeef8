"""Audit history and edit conflicts: the pieces every app shares.

django-simple-history writes a historical row (who, when, created / changed / deleted, every tracked field) on
each save and delete of Product, Membership, StageTransition, the lifecycle work products, KPI, KPITarget and
Measurement, whoever makes it: views, services, the admin, commands. ``HistoryRequestMiddleware`` tells it who
is signed in; without a request (a command, an import) a model's ``get_user`` falls back to the row's own "who"
field (``records.history_user_or``). Bulk writes (``bulk_create``, ``bulk_update``, ``QuerySet.update``, raw
SQL) bypass it: the demo seeder's data has no history, nor does the product health the rollups store (see
docs/history.md).

- ``pages``: the history rows of several models merged newest first, one page at a time, in a number of
  queries that does not grow with the history; each app says what it contributes to a product's history
  (``products.history``, ``lifecycle.history``, ``portfolio.kpis.history``);
- ``values``: stored values as a person reads them;
- ``conflicts``: optimistic concurrency on a ``version`` column, and a conflicted form's input carried over
  onto the latest save.
"""
