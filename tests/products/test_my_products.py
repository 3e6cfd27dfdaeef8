"""“My products” and the member filter on the product list (``/products/?member=<username>``): the products a
person owns or is a member of, reached from the top bar, with the list's search, sort, pages, CSV and htmx."""

import csv
import html
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from products.choices import Role
from products.models import Product
from tests.factories import MembershipFactory, UserFactory
from tests.product_tables import add_products, build_organisation

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
TABLE = {**HX, "HX-Target": "product-table"}


@pytest.fixture
def org():
    """60 products: ``olga`` owns the 30 of alpha and is a member of two of beta's; ``jun`` (junior PM) owns none
    and is a member of two, one in each portfolio; ``oscar`` is on no product."""
    org = build_organisation()
    add_products(org, 60)
    beta = [p for p in org.products if p.portfolio_id == org.beta.pk]
    alpha = [p for p in org.products if p.portfolio_id == org.alpha.pk]
    for product in beta[1:3]:
        MembershipFactory(product=product, user=org.owner, role=Role.PM)
    MembershipFactory(product=alpha[0], user=org.junior, role=Role.JUNIOR_PM)  # beta[0] is jun's already
    return org


def expected_slugs(user) -> set[str]:
    owned = Product.objects.filter(owner=user)
    member = Product.objects.filter(memberships__user=user)
    return set(owned.values_list("slug", flat=True)) | set(member.values_list("slug", flat=True))


def slugs(response) -> set[str]:
    return {row.product.slug for row in response.context["table"].rows}


def text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"\s+", " ", response.content.decode())))


def nav_link(response, label: str) -> str:
    """The main navigation's link with this text, as written."""
    nav = re.search(r'<nav class="topbar__nav".*?</nav>', response.content.decode(), re.S).group(0)
    return re.search(rf"<a [^>]*>{label}</a>", nav).group(0)


def csv_slugs(response) -> list[str]:
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    return [row["slug"] for row in rows]


# ------------------------------------------------------------------ the top bar


def test_every_page_links_to_my_products_in_the_top_bar(client, org):
    client.force_login(org.owner)
    for url in ("/", "/lifecycle/board/", "/portfolio/rollups/", f"/products/{org.products[0].slug}/"):
        link = nav_link(client.get(url), "My products")
        assert link == '<a href="/products/?member=olga">My products</a>', url


def test_my_products_is_marked_current_and_products_is_not(client, org):
    client.force_login(org.owner)
    response = client.get("/products/?member=olga")
    assert (
        nav_link(response, "My products")
        == '<a href="/products/?member=olga" aria-current="page">My products</a>'
    )
    assert nav_link(response, "Products") == '<a href="/products/">Products</a>'
    assert 'href="/products/?member=olga">My products</a> are those you own or are a member of' in (
        client.get("/products/").content.decode()
    )  # the page's introduction says what the link is
    # With more filters it is still one's own products.
    response = client.get("/products/?member=olga&stage=mvp&sort=health")
    assert 'aria-current="page"' in nav_link(response, "My products")


def test_the_whole_list_or_someone_elses_products_mark_products_current(client, org):
    client.force_login(org.owner)
    for url in ("/products/", "/products/?member=jun", f"/products/{org.products[0].slug}/"):
        response = client.get(url)
        assert 'aria-current="page"' in nav_link(response, "Products"), url
        assert 'aria-current="page"' not in nav_link(response, "My products"), url


# ------------------------------------------------------------------ what the page shows


def test_a_pm_sees_the_products_they_own_and_those_they_are_a_member_of_and_nothing_else(client, org):
    client.force_login(org.owner)
    response = client.get("/products/?member=olga&per_page=100")
    assert response.status_code == 200
    assert slugs(response) == expected_slugs(org.owner)
    assert len(slugs(response)) == 32
    page = text(response)
    assert "Your products: 30 you own, 2 you are a member of" in page
    assert "Showing 1\u201332 of 32 products matching" in page
    assert "Owner or member: Olga Owner" in page  # the filter chip
    assert "Ignored" not in page


def test_a_junior_who_owns_nothing_sees_the_products_they_are_a_member_of(client, org):
    client.force_login(org.junior)
    response = client.get("/products/?member=jun")
    assert slugs(response) == expected_slugs(org.junior)
    assert len(slugs(response)) == 2
    assert {row.product.owner_id for row in response.context["table"].rows} != {org.junior.pk}
    assert "Your products: 0 you own, 2 you are a member of" in text(response)


@pytest.mark.parametrize("who", ["outsider", "superuser"])
def test_someone_on_no_product_is_told_so_with_a_link_to_all_products(client, org, superuser, who):
    user = superuser if who == "superuser" else org.outsider
    client.force_login(user)
    response = client.get(f"/products/?member={user.username}")
    assert response.status_code == 200
    assert response.context["table"].rows == []
    page = text(response)
    assert "Ignored" not in page  # one's own username is always a valid choice
    assert "You are on no product yet" in page
    assert "You own no product and are a member of none." in page
    assert re.search(r'see <a href="/products/">all products</a>', response.content.decode())


def test_a_colleague_can_look_at_someone_elses_products(client, org):
    client.force_login(org.director)
    response = client.get("/products/?member=olga&per_page=100")
    assert slugs(response) == expected_slugs(org.owner)
    assert "Olga Owner\u2019s products: 30 they own, 2 they are a member of" in text(response)
    empty = client.get("/products/?member=oscar")
    # Oscar is on no product: not a choice for the director, so an ignored value, not an empty list.
    assert "Owner or member: “oscar” is not a product owner or member." in text(empty)


def test_the_member_select_lists_the_people_on_products(client, org):
    client.force_login(org.director)
    page = client.get("/products/").content.decode()
    select = re.search(r'<select name="member" id="id_member">.*?</select>', page, re.S).group(0)
    values = re.findall(r'<option value="([^"]*)"', select)
    assert values[0] == ""  # "Anyone"
    assert {"olga", "jun"} <= set(values)
    assert "oscar" not in values  # on no product
    assert "dora" in values  # on no product either, but the person looking
    assert '<label for="id_member">Owner or member</label>' in page
    # The owner select still lists owners only: jun is a member, not an owner.
    owner_select = re.search(r'<select name="owner" id="id_owner">.*?</select>', page, re.S).group(0)
    assert "olga" in owner_select
    assert '"jun"' not in owner_select


def test_the_person_looking_is_a_choice_even_on_no_product(client, org):
    client.force_login(org.outsider)
    page = client.get("/products/?member=oscar").content.decode()
    select = re.search(r'<select name="member" id="id_member".*?</select>', page, re.S).group(0)
    assert '<option value="oscar" selected>Oscar Outsider</option>' in select


# ------------------------------------------------------------------ with the list's other controls


def test_my_products_combine_with_the_other_filters_and_search(client, org):
    client.force_login(org.owner)
    response = client.get("/products/?member=olga&market=b2c&per_page=100")
    expected = {p.slug for p in org.products if p.slug in expected_slugs(org.owner) and p.market == "b2c"}
    assert slugs(response) == expected
    owned = sum(1 for p in org.products if p.slug in expected and p.owner_id == org.owner.pk)
    assert f"Your products: {owned} you own, {len(expected) - owned} you are a member of" in text(response)
    searched = {f"product-00{n}" for n in (0, 2, 3, 4, 5, 6, 8)}  # alpha's are olga's; she is on 003 and 005
    assert slugs(client.get("/products/?member=olga&q=product-00")) == searched


def test_my_products_page_sort_and_keep_the_filter_in_every_link(client, org):
    client.force_login(org.owner)
    first = client.get("/products/?member=olga&sort=name&dir=desc")
    second = client.get("/products/?member=olga&sort=name&dir=desc&page=2", headers=TABLE)
    assert len(slugs(first)) == 25
    assert len(slugs(second)) == 7
    assert slugs(first) | slugs(second) == expected_slugs(org.owner)
    names = [row.product.name for row in first.context["table"].rows]
    assert names == sorted(names, reverse=True)
    page = first.content.decode()
    assert 'rel="next" href="/products/?member=olga&amp;sort=name&amp;dir=desc&amp;page=2"' in page
    assert 'href="/products/?member=olga&amp;sort=name&amp;dir=desc&amp;format=csv" download' in page


def test_an_htmx_filter_change_returns_the_table_with_whose_products_they_are(client, org):
    client.force_login(org.owner)
    response = client.get("/products/?member=jun", headers=TABLE)
    content = response.content.decode()
    assert content.lstrip().startswith('<section id="product-table"')
    assert "<html" not in content
    assert slugs(response) == expected_slugs(org.junior)
    assert "Jun Junior\u2019s products: 0 they own, 2 they are a member of" in text(response)


def test_the_csv_of_my_products_has_exactly_those_products(client, org):
    client.force_login(org.owner)
    response = client.get("/products/?member=olga&format=csv")
    assert response.status_code == 200
    assert sorted(csv_slugs(response)) == sorted(expected_slugs(org.owner))


def test_an_owner_who_is_also_listed_as_a_member_counts_once(client, org):
    owned = org.products[0]
    MembershipFactory(product=owned, user=org.owner, role=Role.PM)
    client.force_login(org.owner)
    response = client.get("/products/?member=olga&per_page=100")
    assert len(slugs(response)) == 32
    assert [row.product.slug for row in response.context["table"].rows].count(owned.slug) == 1
    assert "Your products: 30 you own, 2 you are a member of" in text(response)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("value", ["nobody", "OLGA", "olga'--", "<b>x</b>"])
def test_an_unknown_person_is_ignored_with_a_clear_message(client, org, value):
    client.force_login(org.owner)
    response = client.get("/products/", {"member": value, "stage": "mvp"})
    assert response.status_code == 200
    page = text(response)
    assert f"Owner or member: “{value}” is not a product owner or member." in page
    assert "<b>x</b>" not in response.content.decode()  # escaped
    # Nothing else changes: the valid stage filter applies, no “Your products” line, the select says Anyone.
    assert {row.product.stage for row in response.context["table"].rows} == {"mvp"}
    assert len(slugs(response)) == sum(p.stage == "mvp" for p in org.products)
    assert "Your products" not in page
    assert re.search(r'<select name="member" id="id_member" aria-invalid="true">', response.content.decode())
    assert 'aria-current="page"' not in nav_link(response, "My products")


# ------------------------------------------------------------------ query counts


def test_my_products_cost_no_more_queries_than_another_filter_and_do_not_grow(client):
    org = build_organisation()
    add_products(org, 5)
    client.force_login(org.owner)
    counts = {}
    for more in (0, 35):  # 5 products, then 40
        add_products(org, more)
        MembershipFactory(product=org.products[-1], user=org.owner, role=Role.PM)
        for query, headers in (("?stage=mvp", {}), ("?member=olga", {}), ("?member=olga&page=2", TABLE)):
            client.get(f"/products/{query}", headers=headers)  # warm the session
            with CaptureQueriesContext(connection) as queries:
                response = client.get(f"/products/{query}", headers=headers)
            assert response.status_code == 200
            counts.setdefault(query, []).append(len(queries))
    assert counts["?member=olga"][0] == counts["?member=olga"][1], counts
    assert counts["?member=olga&page=2"][0] == counts["?member=olga&page=2"][1], counts
    # The owned/member split stands in for the page count: no extra query.
    assert counts["?member=olga"] == counts["?stage=mvp"], counts


def test_the_member_choices_add_no_query(client, django_assert_max_num_queries):
    """The owner and member selects come from one query of the people on products."""
    org = build_organisation()
    add_products(org, 5)
    for _ in range(20):
        MembershipFactory(product=org.products[0], user=UserFactory(role=Role.ASSOCIATE_PM), role=Role.PM)
    client.force_login(org.director)
    client.get("/products/")
    with django_assert_max_num_queries(10):  # the product list's limit before the member filter
        response = client.get("/products/")
    select = re.search(r'<select name="member" id="id_member">.*?</select>', response.content.decode(), re.S)
    # Anyone; olga, bert0, jun; dora, who is looking; the 20 members.
    assert len(re.findall(r"<option ", select.group(0))) == 1 + 3 + 1 + 20
