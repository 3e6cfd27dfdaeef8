"""Where a control is missing for the person looking, the page says why and who can (products.who_can)."""

import pytest
from django.test import Client

from portfolio.strategy.services.scenarios import scenario_create_from_live
from products.choices import Role
from products.who_can import who_can_edit, who_can_plan, who_can_record
from tests.factories import MembershipFactory, PortfolioFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    director = UserFactory(username="dana", first_name="Dana", last_name="Reyes", role=Role.DIRECTOR)
    owner = UserFactory(username="zoe", first_name="Zoe", last_name="Olsen", role=Role.PM)
    junior = UserFactory(username="jo", first_name="Jo", last_name="Ng", role=Role.JUNIOR_PM)
    outsider = UserFactory(username="sam", first_name="Sam", last_name="Berg", role=Role.PM)
    portfolio = PortfolioFactory(name="Payments", slug="payments", director=director)
    product = ProductFactory(name="Atlas", slug="atlas", portfolio=portfolio, owner=owner)
    MembershipFactory(product=product, user=junior, role=Role.JUNIOR_PM)
    return {"director": director, "owner": owner, "junior": junior, "outsider": outsider, "product": product}


def page(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_sentences_name_the_people(people):
    product = people["product"]
    assert who_can_edit(product) == (
        "its owner, Zoe Olsen, a PM-level member, the Payments director, Dana Reyes, or a VP"
    )
    assert who_can_record(product).startswith("the people on it (its owner, Zoe Olsen, and its members)")
    assert who_can_plan(product.portfolio) == "the Payments director, Dana Reyes, or a VP"
    assert who_can_plan(None) == "a VP"
    product.portfolio.director = None
    assert who_can_plan(product.portfolio) == "the Payments director or a VP"


def test_a_junior_member_is_told_who_can_edit_and_records_values(people):
    html = page(people["junior"], "/products/atlas/")
    assert (
        "Read-only for you:</span> Its owner, Zoe Olsen, a PM-level member, the Payments director, Dana Reyes"
        in html
    )
    assert 'id="readonly-record"' not in html  # a member records values
    assert "Record a measurement" in html


def test_an_outsider_is_told_who_records_and_how_to_see_the_money(people):
    html = page(people["outsider"], "/products/atlas/")
    assert 'id="readonly-edit"' in html
    record = html.split('id="readonly-record"', 1)[1].split("</p>", 1)[0]
    assert "The people on it (its owner, Zoe Olsen, and its members)" in record
    assert "Record a measurement" not in html
    budget = html.split("<dt>Budget", 1)[1].split("</div>", 1)[0]
    assert "Not shared with you" in budget
    assert "Ask the owner, Zoe Olsen, to add you as a member, or Payments's director." in budget


def test_the_owner_sees_controls_and_no_read_only_note(people):
    html = page(people["owner"], "/products/atlas/")
    assert "Read-only for you" not in html
    assert "Edit product" in html


def test_the_work_section_and_the_board_say_who_moves_a_product(people):
    work = page(people["outsider"], "/lifecycle/products/atlas/work/")
    assert "can write this work and move the product" in work
    board = page(people["outsider"], "/lifecycle/board/")
    assert "Read-only for you:</span> a product is moved by its owner" in board
    board = page(people["owner"], "/lifecycle/board/")
    assert "Cards without Move are read-only for you:" in board


def test_a_scenario_of_another_portfolio_says_who_plans_it(people):
    other = UserFactory(username="lee", first_name="Lee", last_name="Park", role=Role.DIRECTOR)
    PortfolioFactory(name="Growth", slug="growth", director=other)
    scenario = scenario_create_from_live(
        name="Cut", portfolio=people["product"].portfolio, by=people["director"]
    )
    html = page(other, f"/portfolio/scenarios/{scenario.pk}/")
    assert (
        "Read-only for you:</span> The Payments director, Dana Reyes, or a VP can change, approve or discard"
        in html
    )
    assert "Approve as live plan…" not in html
    assert "Read-only for you" not in page(people["director"], f"/portfolio/scenarios/{scenario.pk}/")
