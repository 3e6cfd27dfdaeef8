"""``spm.admin_tools.numbers``: the admin's number columns, grouped without the project-wide thousand separator."""

from decimal import Decimal

import pytest

from products.models import Product
from spm.admin_tools.numbers import NumberColumn, grouped


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (Decimal("2010207.50"), None, "2,010,207.50"),
        (Decimal("-1234.5"), 2, "-1,234.50"),
        (2010207.5, None, "2,010,207.5"),
        (100.0, None, "100"),
        (0.25, None, "0.25"),
        (4403379.219999999, None, "4,403,379.22"),  # a sum of floats, without its binary noise
        (1e20, None, "100,000,000,000,000,000,000"),
        (1_000_000, None, "1,000,000"),
        (None, None, None),
    ],
)
def test_grouped_keeps_the_stored_places_and_groups_thousands(value, places, shown):
    assert grouped(value, places) == shown


def test_a_number_column_reads_its_field_and_sorts_by_it():
    column = NumberColumn("planned_budget")
    assert column(Product(planned_budget=Decimal("2010207.50"))) == "2,010,207.50"
    assert (column.__name__, column.admin_order_field, column.short_description) == (
        "planned_budget",
        "planned_budget",
        "planned budget",
    )
    assert NumberColumn("tam", "TAM", ordering="-tam").admin_order_field == "-tam"
