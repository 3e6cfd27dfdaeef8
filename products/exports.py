"""CSV exports of products: formula-safe cells, written row by row so thousands of products stream.

The product columns are a contract: ``manage.py import_products`` reads exactly what ``product_csv_rows``
writes. Stored choice values (``stage``, ``market``, ``focus``, ``health``), the portfolio's slug and the
owner's username identify things; money is a plain decimal number, or empty where the user may not see it.
"""

from __future__ import annotations

from collections.abc import Container, Iterator

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from products.models import Product
from spm.csvfiles.writer import CHUNK_SIZE, csv_response

PRODUCT_COLUMNS = (
    "slug",
    "name",
    "portfolio",
    "stage",
    "market",
    "focus",
    "owner",
    "health",
    "planned_budget",
    "actual_spend",
)


def product_csv_rows(
    products: QuerySet[Product], *, budget_ids: Container[int] | None
) -> Iterator[tuple[object, ...]]:
    """One row per product in ``PRODUCT_COLUMNS`` order, read in chunks with a single query.

    ``budget_ids`` are the products whose money the user may see (None: every product's); the others get
    empty money cells.
    """
    values = products.values_list(
        "pk",
        "slug",
        "name",
        "portfolio__slug",
        "stage",
        "market",
        "focus",
        "owner__username",
        "health",
        "planned_budget",
        "actual_spend",
    )
    for pk, *cells, planned, actual in values.iterator(chunk_size=CHUNK_SIZE):
        if budget_ids is None or pk in budget_ids:
            yield (*cells, planned, actual)
        else:
            yield (*cells, None, None)


def product_csv_response(
    products: QuerySet[Product], *, budget_ids: Container[int] | None, filename: str
) -> StreamingHttpResponse:
    """A streaming CSV download of ``products``: the database is read while the response is sent."""
    return csv_response(PRODUCT_COLUMNS, product_csv_rows(products, budget_ids=budget_ids), filename=filename)
