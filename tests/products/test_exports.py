"""CSV exports: formula-safe cells, and ``/products/?format=csv`` as a streamed download."""

import csv
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from products.exports import PRODUCT_COLUMNS
from spm.csvfiles.writer import csv_cell, csv_lines
from tests.factories import ProductFactory
from tests.product_tables import add_products, build_organisation

HEADER = "slug,name,portfolio,stage,market,focus,owner,health,planned_budget,actual_spend"


# ------------------------------------------------------------------ cells


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Plain name", "Plain name"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
    ],
)
def test_text_that_a_spreadsheet_would_run_gets_an_apostrophe(value, cell):
    assert csv_cell(value) == cell


@pytest.mark.parametrize("number", [0, -5, 12.5, -0.25, Decimal("-100.50"), Decimal("1234.00")])
def test_numbers_stay_numbers(number):
    assert csv_cell(number) == number


def test_lines_quote_like_rfc_4180():
    lines = list(csv_lines(["a", "b"], [["x,y", 'say "hi"'], [None, 3]]))
    assert lines == ["a,b\r\n", '"x,y","say ""hi"""\r\n', ",3\r\n"]


# ------------------------------------------------------------------ the download


def download(client, url="/products/?format=csv"):
    response = client.get(url)
    body = b"".join(response.streaming_content).decode()
    return response, body, list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def org(db):
    org = build_organisation()
    add_products(org, 12)
    return org


@pytest.mark.django_db
def test_the_csv_is_a_streamed_attachment_with_the_contract_columns(client, org):
    client.force_login(org.vp)
    response, body, rows = download(client)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="products-')
    assert body.splitlines()[0] == HEADER
    assert tuple(rows[0]) == PRODUCT_COLUMNS


@pytest.mark.django_db
def test_one_row_per_product_with_stored_values(client, org):
    client.force_login(org.vp)
    _, _, rows = download(client)
    assert len(rows) == 12
    by_slug = {row["slug"]: row for row in rows}
    for product in org.products:
        row = by_slug[product.slug]
        assert row == {
            "slug": product.slug,
            "name": product.name,
            "portfolio": product.portfolio.slug,
            "stage": product.stage,
            "market": product.market,
            "focus": product.focus,
            "owner": product.owner.username,
            "health": product.health,
            "planned_budget": f"{product.planned_budget:.2f}",
            "actual_spend": f"{product.actual_spend:.2f}",
        }


@pytest.mark.django_db
def test_a_product_name_cannot_inject_a_formula(client, org):
    ProductFactory(name="=cmd|' /C calc'!A0", slug="evil", portfolio=org.alpha, owner=org.owner)
    client.force_login(org.vp)
    _, body, rows = download(client, "/products/?format=csv&q=evil")
    assert [row["name"] for row in rows] == ["'=cmd|' /C calc'!A0"]
    assert "\n=" not in body
    assert ",=" not in body


@pytest.mark.django_db
def test_filters_and_sort_apply_to_the_csv(client, org):
    client.force_login(org.vp)
    _, _, rows = download(client, "/products/?format=csv&portfolio=beta&sort=name&dir=desc&page=2")
    expected = sorted((p.slug for p in org.products if p.portfolio_id == org.beta.pk), reverse=True)
    assert [row["slug"] for row in rows] == expected  # every matching product: the page does not apply


@pytest.mark.django_db
def test_money_is_blank_where_the_user_may_not_see_it(client, org):
    client.force_login(org.junior)
    _, _, rows = download(client)
    assert len(rows) == 12
    with_money = [row for row in rows if row["planned_budget"] or row["actual_spend"]]
    junior_products = {p.slug for p in org.products if p.memberships.filter(user=org.junior).exists()}
    assert {row["slug"] for row in with_money} == junior_products
    assert all(row["stage"] for row in rows)  # the rest of the row is there


@pytest.mark.django_db
def test_someone_on_no_product_gets_no_money_at_all(client, org):
    client.force_login(org.outsider)
    _, _, rows = download(client)
    assert rows
    assert all(row["planned_budget"] == row["actual_spend"] == "" for row in rows)


@pytest.mark.django_db
@pytest.mark.parametrize(("who", "limit"), [("vp", 5), ("junior", 6)])
def test_csv_queries_do_not_grow_with_the_portfolio(client, django_assert_max_num_queries, who, limit):
    org = build_organisation()
    add_products(org, 5)
    client.force_login(getattr(org, who))
    counts = []
    for more in (0, 35):
        add_products(org, more)
        with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as queries:
            _, _, rows = download(client)  # the rows are read while the response streams
        assert len(rows) == len(org.products)
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
