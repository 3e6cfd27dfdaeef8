"""The product list at ``/products/``: the dashboard's filters, sorting and pages, as a page of its own."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from products.choices import Stage
from tests.product_tables import add_products, build_organisation

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
TABLE = {**HX, "HX-Target": "product-table"}
BODY = {**HX, "HX-Target": "products-body"}


@pytest.fixture
def org():
    org = build_organisation()
    add_products(org, 30)
    return org


@pytest.fixture
def as_director(client, org):
    client.force_login(org.director)
    return client


def names(response) -> list[str]:
    return [row.product.name for row in response.context["table"].rows]


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_list_has_breadcrumbs_filters_table_and_csv_link(as_director):
    response = as_director.get("/products/")
    assert response.status_code == 200
    page = text(response)
    assert '<nav class="breadcrumbs" aria-label="Breadcrumb">' in page
    assert '<a href="/">Dashboard</a>' in page
    assert '<span aria-current="page">Products</span>' in page
    assert 'aria-current="page">Products</a>' in page  # main navigation
    for name in ("portfolio", "stage", "market", "focus", "health", "owner"):
        assert f'<select name="{name}" id="id_{name}"' in page
    assert 'name="q"' in page
    assert 'href="/products/?format=csv" download' in page
    assert len(names(response)) == 25


def test_the_filter_form_targets_the_table(as_director):
    form = re.search(r'<form id="product-filters".*?>', as_director.get("/products/").content.decode(), re.S)
    assert 'hx-get="/products/"' in form.group(0)
    assert 'hx-target="#product-table"' in form.group(0)
    assert 'hx-push-url="true"' in form.group(0)
    assert 'action="/products/"' in form.group(0)


def test_an_htmx_filter_returns_only_the_table(as_director):
    response = as_director.get("/products/?stage=feedback", headers=TABLE)
    assert response.status_code == 200
    content = response.content.decode()
    assert "<html" not in content
    assert content.lstrip().startswith('<section id="product-table"')
    assert "HX-Request" in response["Vary"]
    assert {row.product.stage for row in response.context["table"].rows} == {"feedback"}


def test_clear_filters_returns_the_form_and_the_table(as_director):
    response = as_director.get("/products/", headers=BODY)
    content = response.content.decode()
    assert "<html" not in content
    assert 'id="product-filters"' in content
    assert 'id="product-table"' in content


@pytest.mark.parametrize("stage", Stage.values)
def test_the_stage_filter_narrows_to_that_stage(as_director, org, stage):
    response = as_director.get(f"/products/?stage={stage}&per_page=100", headers=TABLE)
    shown = [row.product for row in response.context["table"].rows]
    assert len(shown) == sum(p.stage == stage for p in org.products)
    assert {p.stage for p in shown} == {stage}


def test_search_and_owner_filter(as_director, org):
    assert names(as_director.get("/products/?q=product-02")) == [f"Product 02{n}" for n in range(10)]
    shown = as_director.get(f"/products/?owner={org.owner.username}&per_page=100").context["table"].rows
    assert {row.product.owner_id for row in shown} == {org.owner.pk}


def test_invalid_values_give_a_message_not_an_error(as_director):
    response = as_director.get("/products/?stage=launch&page=abc&sort=evil")
    assert response.status_code == 200
    page = text(response)
    assert "Stage: “launch” is not a lifecycle stage." in page
    assert "Page: Enter a page number." in page
    assert "Sort by: “evil” is not a column to sort by." in page
    assert len(names(response)) == 25


def test_sort_and_pages(as_director):
    response = as_director.get("/products/?sort=name&dir=desc&page=2", headers=TABLE)
    assert names(response) == [f"Product {n:03d}" for n in range(4, -1, -1)]
    page = text(response)
    assert 'rel="prev" href="/products/?sort=name&amp;dir=desc"' in page
    assert '<input type="hidden" name="sort" value="name" form="product-filters">' in page
    assert '<input type="hidden" name="dir" value="desc" form="product-filters">' in page


def test_the_csv_link_carries_the_filters_and_sort(as_director):
    page = text(as_director.get("/products/?stage=mvp&sort=days&dir=desc&page=2"))
    assert 'href="/products/?stage=mvp&amp;sort=days&amp;dir=desc&amp;format=csv" download' in page


def test_no_match_shows_the_empty_state(as_director):
    page = text(as_director.get("/products/?q=zzz", headers=TABLE))
    assert "No products match these filters" in page
    assert re.search(
        r'<a href="/products/" hx-get="/products/" hx-target="#products-body"[^>]*>clear filters</a>', page
    )


def test_a_junior_member_sees_money_only_for_their_product(client, org):
    client.force_login(org.junior)
    rows = client.get("/products/?per_page=100").context["table"].rows
    assert [row.product.slug for row in rows if row.show_budget] == [
        p.slug for p in org.products if p.memberships.filter(user=org.junior).exists()
    ]


def test_someone_on_no_product_sees_no_money(client, org):
    client.force_login(org.outsider)
    response = client.get("/products/?per_page=100")
    assert not any(row.show_budget for row in response.context["table"].rows)
    page = text(response)
    # Each of the 30 rows hides its budget and spend behind a dash; why, and whom to ask, is said once.
    assert page.count("not shared with you</span>") == 60
    assert page.count("Budget and spend not shared with you.") == 1
    assert "ask its owner to add you as a member" in page


@pytest.mark.parametrize(
    ("who", "headers", "query", "limit"),
    [
        ("director", {}, "", 10),
        ("director", TABLE, "?stage=mvp&sort=health", 10),
        ("director", TABLE, "?sort=key_kpi&page=2", 10),
        ("outsider", {}, "?sort=planned&dir=desc", 11),
        ("outsider", TABLE, "?market=b2c", 11),
    ],
)
def test_queries_do_not_grow_with_the_portfolio(
    client, django_assert_max_num_queries, who, headers, query, limit
):
    org = build_organisation()
    add_products(org, 5)
    client.force_login(getattr(org, who))
    counts = []
    for more in (0, 35):  # 5 products, then 40
        add_products(org, more)
        client.get(f"/products/{query}", headers=headers)
        with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as queries:
            response = client.get(f"/products/{query}", headers=headers)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_a_row_shows_the_product_its_money_share_and_key_kpi_with_names_escaped(as_director, org):
    product = org.products[0]
    product.name = "Atlas <b>Pay</b>"
    product.planned_budget = Decimal("10000")
    product.actual_spend = Decimal("12345.60")
    product.stage_entered_at = timezone.now() - dt.timedelta(days=1, hours=1)
    product.save()

    page = text(as_director.get("/products/?q=atlas"))

    row = re.search(r'<tr><th scope="row".*?</tr>', page).group(0)
    assert f'href="/products/{product.slug}/"' in row
    assert "Atlas &lt;b&gt;Pay&lt;/b&gt;" in row
    assert "<b>Pay</b>" not in row
    assert '<td class="num" data-label="Days in stage">1<span class="visually-hidden"> day</span></td>' in row
    assert '<td class="num" data-label="Planned budget">10,000</td>' in row
    # 12,346 spent of 10,000 planned: 123%, over budget, with a bar that says the same.
    assert "<span>12,346</span>" in row
    assert '123%<span class="visually-hidden"> of plan,</span> over' in row
    assert 'max="10000.00" value="12345.60"' in row
    assert "bar--over" in row
    assert 'data-label="Revenue"' in row
    assert '<svg class="sparkline"' in row
