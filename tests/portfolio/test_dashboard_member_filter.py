"""The dashboard's member filter (``/?member=<username>``): tiles, funnel and table over the products a person
owns or is a member of."""

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from products.choices import Role
from tests.factories import MembershipFactory
from tests.product_tables import add_products, build_organisation

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
RESULTS = {**HX, "HX-Target": "dashboard-results"}
TABLE = {**HX, "HX-Target": "product-table"}


@pytest.fixture
def org():
    """30 products: ``olga`` owns alpha's 15 and is a member of one of beta's; ``jun`` is on one of beta's."""
    org = build_organisation()
    add_products(org, 30)
    beta = [p for p in org.products if p.portfolio_id == org.beta.pk]
    MembershipFactory(product=beta[4], user=org.owner, role=Role.PM)
    return org


@pytest.fixture
def as_director(client, org):
    client.force_login(org.director)
    return client


def text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"\s+", " ", response.content.decode())))


def olgas(org) -> set[str]:
    beta = [p for p in org.products if p.portfolio_id == org.beta.pk]
    return {p.slug for p in org.products if p.owner_id == org.owner.pk} | {beta[4].slug}


def test_the_member_filter_is_a_control_of_the_dashboard(as_director):
    page = as_director.get("/").content.decode()
    assert '<label for="id_member">Owner or member</label>' in page
    select = re.search(r'<select name="member" id="id_member">.*?</select>', page, re.S).group(0)
    assert '<option value="" selected>Anyone</option>' in select
    assert '<option value="olga">Olga Owner</option>' in select
    assert '<option value="jun">Jun Junior</option>' in select


def test_the_member_filter_narrows_tiles_funnel_and_table(as_director, org):
    response = as_director.get("/?member=olga&per_page=100")
    assert response.status_code == 200
    assert {row.product.slug for row in response.context["table"].rows} == olgas(org)
    summary = response.context["summary"]
    assert summary.products == 16
    assert sum(summary.stages.values()) == 16
    page = text(response)
    assert "Olga Owner\u2019s products: 15 they own, 1 they are a member of" in page
    assert "Owner or member: Olga Owner" in page
    # No rollup is kept per member: the KPI tiles say so rather than show the organisation's.
    assert response.context["kpis"] is None
    assert "KPI rollups exist for the whole organisation" in page


def test_the_member_filter_combines_with_the_others(as_director, org):
    response = as_director.get("/?member=olga&portfolio=beta")
    beta = [p for p in org.products if p.portfolio_id == org.beta.pk]
    assert [row.product.slug for row in response.context["table"].rows] == [beta[4].slug]
    assert "Olga Owner\u2019s products: 0 they own, 1 they are a member of" in text(response)


def test_an_htmx_member_filter_swaps_the_results(client, org):
    client.force_login(org.junior)
    response = client.get("/?member=jun", headers=RESULTS)
    content = response.content.decode()
    assert "<html" not in content
    assert 'id="dashboard-results"' in content
    assert response.context["summary"].products == 1
    assert "Your products: 0 you own, 1 you are a member of" in text(response)


def test_an_unknown_person_is_ignored_with_a_clear_message(as_director):
    for headers in ({}, RESULTS):
        response = as_director.get("/?member=nobody", headers=headers)
        assert response.status_code == 200
        assert "Owner or member: “nobody” is not a product owner or member." in text(response)
        assert response.context["summary"].products == 30  # unfiltered
        assert "they own" not in text(response)


@pytest.mark.parametrize(
    ("headers", "query"), [({}, "?member=olga"), (TABLE, "?member=olga&sort=health&page=2")]
)
def test_the_member_filter_costs_a_constant_number_of_queries(client, headers, query):
    org = build_organisation()
    add_products(org, 5)
    client.force_login(org.director)
    counts = []
    for more in (0, 35):  # 5 products, then 40
        add_products(org, more)
        MembershipFactory(product=org.products[-1], user=org.owner, role=Role.PM)
        client.get(f"/{query}", headers=headers)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"/{query}", headers=headers)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # The dashboard's limits without it (tests/portfolio/test_dashboard.py): the owned/member split takes the
    # place of the page count, or of the KPI tiles' rollups, which no member filter has.
    assert counts[0] <= (14 if not headers else 10), counts
