"""The lifecycle board: columns, cards, filters, moves (htmx and plain), permissions and query counts."""

import datetime as dt
import re
from itertools import cycle

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from lifecycle.board.selectors import BOARD_CARDS_PER_STAGE, board_columns
from lifecycle.models import StageTransition
from products.choices import Market, Role, Stage
from products.models import Product
from products.permissions import can_edit_product, product_ids_user_may_edit
from tests.factories import MembershipFactory, PortfolioFactory, ProductFactory, UserFactory
from tests.lifecycle.factories import fill_gates

pytestmark = pytest.mark.django_db

BOARD = "/lifecycle/board/"
REGION = {"HX-Request": "true", "HX-Target": "board-region"}
BODY = {"HX-Request": "true", "HX-Target": "board-body"}
MOVE_FROM_BOARD = {"HX-Request": "true", "HX-Target": "move-x"}


def move_url(product: Product, query: str = "") -> str:
    return f"/lifecycle/board/move/{product.slug}/{query}"


@pytest.fixture
def portfolio():
    return PortfolioFactory(name="Payments", slug="payments")


@pytest.fixture
def pm(portfolio):
    return UserFactory(username="pm", first_name="Priya", last_name="Menon", role=Role.PM)


@pytest.fixture
def client_as(client):
    def log_in(user) -> Client:
        client.force_login(user)
        return client

    return log_in


@pytest.fixture
def make_products(portfolio, pm):
    """``n`` products spread over the stages, owners and markets, each with a junior member and a PM member."""

    def make(n: int, **fields) -> list[Product]:
        owners = cycle([pm, *UserFactory.create_batch(2, role=Role.SENIOR_PM)])
        stages = cycle(Stage.values)
        start = Product.objects.count()
        products = []
        for i in range(n):
            values = {
                "portfolio": portfolio,
                "owner": next(owners),
                "stage": next(stages),
                "market": Market.B2B if i % 2 else Market.B2C,
                "stage_entered_at": timezone.now() - dt.timedelta(days=i + 1),
                "slug": f"product-{start + i}",
                "name": f"Product {start + i:04d}",
            }
            values.update(fields)
            products.append(ProductFactory(**values))
        for product in products[:: max(n // 5, 1)]:
            MembershipFactory(product=product, role=Role.JUNIOR_PM)
            MembershipFactory(product=product, role=Role.PM)
        return products

    return make


def cards_in(html: str, stage: str) -> list[str]:
    """The product slugs of one column's cards, in order."""
    column = html.split(f'id="stage-{stage}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<li class="kcard[^"]*" id="card-([\w-]+)"', column)


# ---------------------------------------------------------------------------------------- the page


def test_the_board_has_one_column_per_stage_in_order_with_counts(client_as, pm, make_products):
    make_products(10)
    response = client_as(pm).get(BOARD)
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'id="stage-{stage}"') for stage in Stage.values]
    assert positions == sorted(positions)
    columns = response.context["columns"]
    assert [column.stage for column, _ in columns] == list(Stage)
    assert [column.count for column, _ in columns] == [2, 2, 2, 1, 1, 1, 1]
    assert "10</strong> products across seven stages" in html


def test_a_card_shows_the_product_its_owner_health_and_days_in_stage(client_as, pm, portfolio):
    product = ProductFactory(
        portfolio=portfolio,
        owner=pm,
        stage=Stage.RESEARCH,
        health="at_risk",
        stage_entered_at=timezone.now() - dt.timedelta(days=12, hours=3),
    )
    html = client_as(pm).get(BOARD).content.decode()
    card = html.split(f'id="card-{product.slug}"', 1)[1].split("</li>", 1)[0]
    assert f'href="/products/{product.slug}/"' in card
    assert product.name in card
    assert "Priya Menon" in card
    # health as words on a badge (its shape and colour come from the class; never colour alone)
    assert 'class="badge status status--at_risk">At risk<' in card
    assert "12 days in stage" in card


def test_each_column_shows_the_longest_waiting_first_and_links_to_the_rest(client_as, pm, make_products):
    products = make_products(BOARD_CARDS_PER_STAGE + 5, stage=Stage.MVP)
    html = client_as(pm).get(BOARD).content.decode()
    oldest_first = sorted(products, key=lambda p: p.stage_entered_at)
    assert cards_in(html, "mvp") == [p.slug for p in oldest_first[:BOARD_CARDS_PER_STAGE]]
    assert f"Showing {BOARD_CARDS_PER_STAGE} of {BOARD_CARDS_PER_STAGE + 5}" in html
    assert '<a href="/products/?stage=mvp">see all in the product list</a>' in html


def test_the_see_all_link_keeps_the_filters(client_as, pm, make_products):
    make_products(BOARD_CARDS_PER_STAGE * 2 + 2, stage=Stage.MVP)
    html = client_as(pm).get(BOARD, {"market": "b2c"}).content.decode()
    assert '<a href="/products/?market=b2c&amp;stage=mvp">see all in the product list</a>' in html


def test_the_page_has_navigation_breadcrumbs_and_loading_indicators(client_as, pm, make_products):
    make_products(3, owner=pm)
    html = client_as(pm).get(BOARD).content.decode()
    assert 'aria-current="page">Lifecycle board</a>' in html  # main navigation
    assert '<nav class="breadcrumbs"' in html
    assert '<a href="/">Dashboard</a>' in html
    assert 'id="page-loading" class="page-loading htmx-indicator"' in html
    assert 'hx-indicator="#page-loading' in html  # the filter bar
    assert html.count('hx-indicator="#page-loading, closest details"') == 3  # every move form
    assert html.count("Moving…") == 3


def test_the_page_obeys_the_strict_csp(client_as, pm, make_products):
    make_products(3, owner=pm)
    response = client_as(pm).get(BOARD)
    html = response.content.decode()
    assert " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)
    for script in re.findall(r"<script[^>]*>", html):
        assert 'src="' in script
        assert 'nonce="' in script
    assert re.search(r'<script src="/static/js/board.js" nonce="[^"]+" defer></script>', html)
    assert finders.find("js/board.js")


def test_without_products_the_board_says_so(client_as, pm):
    html = client_as(pm).get(BOARD).content.decode()
    assert "No products yet" in html
    assert html.count("No products in this stage") == len(Stage)


# ---------------------------------------------------------------------------------------- filters


def test_filters_narrow_the_board_and_the_counts(client_as, pm, make_products):
    make_products(14)
    response = client_as(pm).get(BOARD, {"market": "b2b", "owner": "pm"})
    shown = [card for column, _ in response.context["columns"] for card in column.cards]
    expected = Product.objects.filter(market="b2b", owner=pm)
    assert {card.slug for card in shown} == set(expected.values_list("slug", flat=True))
    assert sum(column.count for column, _ in response.context["columns"]) == expected.count()
    html = response.content.decode()
    assert f"{expected.count()}</strong> product" in html
    assert "Clear filters" in html


def test_a_stage_filter_leaves_the_other_columns_empty_and_says_why(client_as, pm, make_products):
    make_products(14)
    html = client_as(pm).get(BOARD, {"stage": "mvp"}).content.decode()
    assert len(cards_in(html, "mvp")) == 2
    assert html.count("Not in the stage filter") == len(Stage) - 1


def test_filters_that_match_nothing_show_an_empty_state(client_as, pm, make_products):
    make_products(4)
    html = client_as(pm).get(BOARD, {"q": "no such product"}).content.decode()
    assert "No products match these filters" in html
    assert html.count("No products here match the filters") == len(Stage)


def test_an_unknown_filter_value_is_reported_not_silently_ignored(client_as, pm, make_products):
    make_products(4)
    response = client_as(pm).get(BOARD, {"stage": "launch", "market": "b2c"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Ignored:" in html
    assert "launch" in html
    assert sum(column.count for column, _ in response.context["columns"]) == 2  # b2c still applies


def test_an_htmx_filter_returns_only_the_board_region_and_the_summary_out_of_band(
    client_as, pm, make_products
):
    make_products(7)
    response = client_as(pm).get(BOARD, {"stage": "mvp"}, headers=REGION)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.lstrip().startswith('<div id="board-region"')
    assert '<div id="board-summary" hx-swap-oob="innerHTML">' in html
    assert 'id="product-filters"' not in html
    assert "HX-Request" in response["Vary"]
    assert "HX-Target" in response["Vary"]


def test_clear_filters_swaps_the_filter_bar_with_the_board(client_as, pm, make_products):
    make_products(7)
    html = client_as(pm).get(BOARD, headers=BODY).content.decode()
    assert html.lstrip().startswith('<div id="board-body"')
    assert 'id="product-filters"' in html
    assert "hx-swap-oob" not in html  # the summary is inside this region


@pytest.mark.parametrize(
    "headers",
    [
        {"HX-Request": "true", "HX-History-Restore-Request": "true", "HX-Target": "board-region"},
        {"HX-Request": "true", "HX-Target": "somewhere-else"},
    ],
)
def test_history_restores_and_unknown_targets_get_the_whole_page(client_as, pm, headers):
    assert b"<html" in client_as(pm).get(BOARD, headers=headers).content


# ---------------------------------------------------------------------------------------- who sees Move


def test_only_people_who_may_move_a_product_see_its_move_control(client_as, portfolio, pm):
    own = ProductFactory(portfolio=portfolio, owner=pm, stage=Stage.MVP)
    member_of = MembershipFactory(product=ProductFactory(portfolio=portfolio), user=pm, role=Role.PM).product
    junior_on = MembershipFactory(
        product=ProductFactory(portfolio=portfolio), user=pm, role=Role.JUNIOR_PM
    ).product
    other = ProductFactory(stage=Stage.MVP)  # another portfolio, no relation

    html = client_as(pm).get(BOARD).content.decode()
    for product, movable in ((own, True), (member_of, True), (junior_on, False), (other, False)):
        card = html.split(f'id="card-{product.slug}"', 1)[1].split("</li>", 1)[0]
        assert ('<select name="to"' in card) is movable, product
        card_tag = re.search(rf'<li class="kcard[^>]*id="card-{product.slug}"[^>]*>', html).group(0)
        assert ('draggable="true"' in card_tag) is movable


def test_a_junior_pm_sees_the_board_without_any_move_control(client_as, make_products):
    products = make_products(6)
    junior = UserFactory(role=Role.JUNIOR_PM)
    MembershipFactory(product=products[0], user=junior, role=Role.JUNIOR_PM)
    html = client_as(junior).get(BOARD).content.decode()
    assert 'class="kcard' in html
    assert "data-board-move" not in html
    assert 'name="to"' not in html
    assert "drag its card" not in html


def test_the_move_control_is_keyboard_usable_with_a_stage_select_and_a_note(client_as, pm, portfolio):
    product = ProductFactory(portfolio=portfolio, owner=pm, stage=Stage.MVP)
    html = client_as(pm).get(BOARD).content.decode()
    card = html.split(f'id="card-{product.slug}"', 1)[1].split("</li>", 1)[0]
    assert '<summary class="btn btn--sm kmove__toggle">Move' in card
    assert f'<label for="move-{product.slug}-to">Move to</label>' in card
    assert f'<select name="to" id="move-{product.slug}-to">' in card
    assert f'<span class="visually-hidden"> {product.name} to another stage</span>' in card
    assert "stand-in" not in html  # every card's control is its own: the column's stand-in is completed
    forward, back = card.split('<optgroup label="Forward">')[1].split(
        '<optgroup label="Back (needs a note)">'
    )
    assert re.findall(r'value="(\w+)"', forward) == ["feedback", "strategy", "execution"]
    assert re.findall(r'value="(\w+)"', back) == ["research", "opportunity", "problem"]
    assert (
        f'<label for="move-{product.slug}-note">Note <span class="kmove__hint">(required to move back)</span></label>'
        in card
    )
    assert f'<textarea name="note" id="move-{product.slug}-note" rows="2" maxlength="2000">' in card
    assert f'method="post" action="/lifecycle/board/move/{product.slug}/"' in card
    assert 'name="csrfmiddlewaretoken"' in card
    assert '<button type="submit" class="btn btn--sm btn--primary">Move</button>' in card


def test_the_bulk_permission_agrees_with_can_edit_product_in_one_query(
    django_assert_max_num_queries, portfolio, pm
):
    other_portfolio = PortfolioFactory()
    junior_owner = UserFactory(role=Role.JUNIOR_PM)
    products = [
        ProductFactory(portfolio=portfolio, owner=pm),
        ProductFactory(portfolio=portfolio, owner=junior_owner),
        ProductFactory(portfolio=other_portfolio, owner=pm),
        ProductFactory(portfolio=other_portfolio),
        ProductFactory(portfolio=portfolio),
    ]
    MembershipFactory(product=products[3], user=pm, role=Role.SENIOR_PM)
    MembershipFactory(product=products[4], user=pm, role=Role.JUNIOR_PM)
    MembershipFactory(product=products[1], user=junior_owner, role=Role.PM)  # an owner's own role decides
    MembershipFactory(product=products[4], user=junior_owner, role=Role.PRODUCT_OWNER)
    people = [
        pm,
        junior_owner,
        portfolio.director,
        other_portfolio.director,
        UserFactory(role=Role.VP),
        UserFactory(role=Role.INTERN, is_superuser=True),
        UserFactory(role=Role.PM),
    ]
    ids = [product.pk for product in products]
    for person in people:
        expected = {product.pk for product in products if can_edit_product(person, product)}
        with django_assert_max_num_queries(1):
            assert product_ids_user_may_edit(person, ids) == expected, person
    assert product_ids_user_may_edit(pm, []) == set()


def test_anonymous_users_may_edit_nothing():
    from django.contrib.auth.models import AnonymousUser

    assert product_ids_user_may_edit(AnonymousUser(), [1, 2]) == set()


# ---------------------------------------------------------------------------------------- moves with htmx


@pytest.fixture
def mvp_product(portfolio, pm):
    # Its work meets every gate ahead: these tests are about the board's moves (test_gate_moves.py: the gates).
    return fill_gates(
        ProductFactory(
            portfolio=portfolio,
            owner=pm,
            stage=Stage.MVP,
            slug="atlas",
            name="Atlas",
            stage_entered_at=timezone.now() - dt.timedelta(days=40),
        )
    )


def test_an_htmx_move_forward_records_it_and_answers_with_the_board_and_a_message(client_as, pm, mvp_product):
    response = client_as(pm).post(
        move_url(mvp_product), {"to": "feedback", "note": ""}, headers=MOVE_FROM_BOARD
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#board-region"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board-region"')
    assert '<div id="board-messages" hx-swap-oob="innerHTML">' in html
    assert "Moved Atlas from MVP to Feedback." in html
    assert cards_in(html, "feedback") == ["atlas"]
    assert 'class="kcard status status--no_data kcard--moved" id="card-atlas"' in html
    transition = StageTransition.objects.get(product=mvp_product)
    assert (transition.from_stage, transition.to_stage, transition.by) == ("mvp", "feedback", pm)
    assert Product.objects.get(pk=mvp_product.pk).stage == "feedback"


def test_a_moved_product_stays_in_sight_in_a_full_column(client_as, pm, mvp_product, make_products):
    make_products(BOARD_CARDS_PER_STAGE + 3, stage=Stage.FEEDBACK)
    html = (
        client_as(pm)
        .post(move_url(mvp_product), {"to": "feedback"}, headers=MOVE_FROM_BOARD)
        .content.decode()
    )
    feedback = cards_in(html, "feedback")
    assert len(feedback) == BOARD_CARDS_PER_STAGE + 1
    assert feedback[-1] == "atlas"  # it has waited least, yet it is shown


def test_an_htmx_move_back_without_a_note_returns_the_form_with_the_error_and_changes_nothing(
    client_as, pm, mvp_product
):
    response = client_as(pm).post(
        move_url(mvp_product), {"to": "research", "note": "  "}, headers=MOVE_FROM_BOARD
    )
    # 200 so htmx's default response handling swaps it into the form's own target
    assert response.status_code == 200
    assert "HX-Retarget" not in response
    html = response.content.decode()
    assert html.lstrip().startswith('<details class="kmove" id="move-atlas" open>')
    assert "<html" not in html
    note = re.search(r"<textarea[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in note
    assert 'aria-describedby="move-atlas-note-error"' in note
    assert "autofocus" in note
    assert (
        '<ul class="errorlist" id="move-atlas-note-error"><li>Moving Atlas back to Research needs a note'
        in html
    )
    assert '<option value="research" selected>Research</option>' in html  # the choice is kept
    assert Product.objects.get(pk=mvp_product.pk).stage == "mvp"
    assert not StageTransition.objects.exists()


def test_an_htmx_move_back_with_a_note_is_recorded(client_as, pm, mvp_product):
    response = client_as(pm).post(
        move_url(mvp_product), {"to": "research", "note": "Pilot users churned."}, headers=MOVE_FROM_BOARD
    )
    assert response.status_code == 200
    assert "Moved Atlas from MVP to Research." in response.content.decode()
    assert StageTransition.objects.get(product=mvp_product).note == "Pilot users churned."


@pytest.mark.parametrize(
    ("to", "error"), [("mvp", "Atlas is already in MVP."), ("launch", "Select a valid choice")]
)
def test_a_refused_target_is_shown_next_to_the_select_and_the_note_is_kept(
    client_as, pm, mvp_product, to, error
):
    response = client_as(pm).post(
        move_url(mvp_product), {"to": to, "note": "Keep this text"}, headers=MOVE_FROM_BOARD
    )
    html = response.content.decode()
    assert 'aria-describedby="move-atlas-to-error"' in html
    assert f'id="move-atlas-to-error"><li>{error}' in html
    assert ">Keep this text</textarea>" in html
    assert not StageTransition.objects.exists()


def test_a_move_keeps_the_boards_filters(client_as, pm, mvp_product, make_products):
    make_products(6)
    html = (
        client_as(pm)
        .post(move_url(mvp_product, "?owner=pm&market=b2c"), {"to": "feedback"}, headers=MOVE_FROM_BOARD)
        .content.decode()
    )
    shown = set(re.findall(r'id="card-([\w-]+)"', html))
    assert shown == set(Product.objects.filter(owner=pm, market="b2c").values_list("slug", flat=True))
    assert "match the filters" in html


# ---------------------------------------------------------------------------------------- moves without JavaScript


def test_a_plain_move_redirects_back_to_the_board_with_a_message(client_as, pm, mvp_product):
    client = client_as(pm)
    response = client.post(move_url(mvp_product, "?owner=pm"), {"to": "strategy"})
    assert response.status_code == 302
    assert response["Location"] == "/lifecycle/board/?owner=pm#card-atlas"
    html = client.get(response["Location"]).content.decode()
    assert "Moved Atlas from MVP to Strategy." in html
    assert cards_in(html, "strategy") == ["atlas"]


def test_a_refused_plain_move_shows_the_board_with_the_cards_form_open_and_the_error(
    client_as, pm, mvp_product
):
    response = client_as(pm).post(move_url(mvp_product), {"to": "problem", "note": ""})
    assert response.status_code == 422
    html = response.content.decode()
    assert "<html" in html
    card = html.split('id="card-atlas"', 1)[1].split("</li>", 1)[0]
    assert '<details class="kmove" id="move-atlas" open>' in card
    assert "Moving Atlas back to Problem needs a note saying why." in card
    assert '<option value="problem" selected>Problem</option>' in card
    assert Product.objects.get(pk=mvp_product.pk).stage == "mvp"


def test_a_refused_plain_move_of_a_card_filtered_out_says_so_at_the_top(client_as, pm, mvp_product):
    response = client_as(pm).post(move_url(mvp_product, "?stage=problem"), {"to": "problem"})
    assert response.status_code == 422
    html = response.content.decode()
    assert 'class="message message--error" role="alert"' in html
    assert "Moving Atlas back to Problem needs a note saying why." in html


# ---------------------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("headers", [{}, MOVE_FROM_BOARD])
def test_people_who_may_not_move_get_403_and_nothing_changes(client_as, mvp_product, headers):
    junior = MembershipFactory(product=mvp_product, role=Role.JUNIOR_PM).user
    response = client_as(junior).post(move_url(mvp_product), {"to": "feedback"}, headers=headers)
    assert response.status_code == 403
    assert Product.objects.get(pk=mvp_product.pk).stage == "mvp"
    assert not StageTransition.objects.exists()


def test_a_stranger_gets_403(client_as, mvp_product):
    response = client_as(UserFactory(role=Role.SENIOR_PM)).post(move_url(mvp_product), {"to": "feedback"})
    assert response.status_code == 403
    assert Product.objects.get(pk=mvp_product.pk).stage == "mvp"


def test_a_move_without_the_csrf_token_is_refused(pm, mvp_product):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pm)
    response = client.post(move_url(mvp_product), {"to": "feedback"}, headers=MOVE_FROM_BOARD)
    assert response.status_code == 403
    assert Product.objects.get(pk=mvp_product.pk).stage == "mvp"

    # With the token the page gives htmx (hx-headers on <body>), the same request goes through.
    page = client.get(BOARD).content.decode()
    token = re.search(r'hx-headers=\'\{"X-CSRFToken": "([^"]+)"\}\'', page).group(1)
    response = client.post(
        move_url(mvp_product), {"to": "feedback"}, headers={**MOVE_FROM_BOARD, "X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert Product.objects.get(pk=mvp_product.pk).stage == "feedback"


def test_the_move_url_only_takes_posts_and_known_products(client_as, pm, mvp_product):
    client = client_as(pm)
    assert client.get(move_url(mvp_product)).status_code == 405
    assert client.post("/lifecycle/board/move/no-such-product/", {"to": "feedback"}).status_code == 404


def test_anonymous_moves_go_to_the_login_page(client, mvp_product):
    response = client.post(move_url(mvp_product), {"to": "feedback"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Product.objects.get(pk=mvp_product.pk).stage == "mvp"


# ---------------------------------------------------------------------------------------- query counts


@pytest.mark.parametrize("size", [5, 60])
def test_the_selector_uses_two_queries_whatever_the_size(django_assert_num_queries, make_products, size):
    make_products(size)
    with django_assert_num_queries(2):
        columns = board_columns(filters={"market": "b2b"})
    assert sum(column.count for column in columns) == size // 2


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(("who", "headers"), [("pm", {}), ("pm", REGION), ("director", REGION), ("vp", {})])
def test_the_board_and_its_region_take_a_fixed_number_of_queries(
    django_assert_max_num_queries, client_as, pm, portfolio, make_products, size, who, headers
):
    make_products(size)
    user = {"pm": pm, "director": portfolio.director, "vp": UserFactory(role=Role.VP)}[who]
    client = client_as(user)
    # session, user, portfolios, owners (filter choices), stage counts, cards, who may move which card, the
    # cards' gate checklists (their work counts, their one-to-one work sheets)
    with django_assert_max_num_queries(9):
        response = client.get(BOARD, {"market": "b2b"}, headers=headers)
    assert response.status_code == 200


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize(("headers", "queries"), [(MOVE_FROM_BOARD, 28), ({}, 21)])
def test_a_move_takes_a_fixed_number_of_queries(
    django_assert_max_num_queries, client_as, pm, mvp_product, make_products, size, headers, queries
):
    make_products(size)
    client = client_as(pm)
    # session, user, product; in a savepoint: lock, the gate's work summary (two), transition and its history row,
    # update and its history row, the stale-rollup mark of the stage_changed receiver, the notifications of the
    # other receiver (the transition, the product with its portfolio, members, follows, people, the people with
    # their email settings to see who is mailed at once, the chat webhooks; one insert); then
    # (htmx) the board region as above, or (plain) a redirect
    with django_assert_max_num_queries(queries):
        response = client.post(move_url(mvp_product), {"to": "feedback"}, headers=headers)
    assert response.status_code in (200, 302)
    assert Product.objects.get(pk=mvp_product.pk).stage == "feedback"


@pytest.mark.parametrize("size", [5, 60])
def test_a_refused_move_takes_a_fixed_number_of_queries(
    django_assert_max_num_queries, client_as, pm, mvp_product, make_products, size
):
    make_products(size)
    client = client_as(pm)
    with django_assert_max_num_queries(7):  # the form alone
        response = client.post(move_url(mvp_product), {"to": "problem"}, headers=MOVE_FROM_BOARD)
    assert response.status_code == 200
    with django_assert_max_num_queries(14):  # the whole board
        response = client.post(move_url(mvp_product), {"to": "problem"})
    assert response.status_code == 422


# ---------------------------------------------------------------------------------------- expanding a column


def test_a_full_column_offers_to_show_all_its_cards_in_place(client_as, pm, make_products):
    make_products(BOARD_CARDS_PER_STAGE * 2 + 4, stage=Stage.MVP)
    html = client_as(pm).get(BOARD, {"market": "b2c"}).content.decode()
    count = Product.objects.filter(market="b2c").count()
    assert count > BOARD_CARDS_PER_STAGE
    link = re.search(r'<a href="([^"]+)" hx-get="([^"]+)"[^>]*data-board-expand="mvp"[^>]*>([^<]+)<', html)
    assert link.group(1) == link.group(2) == "/lifecycle/board/?market=b2c&amp;show=mvp"  # filters kept
    assert link.group(3) == f"Show all {count}"
    tag = link.group(0)
    assert 'hx-target="#board-region"' in tag
    assert 'hx-push-url="true"' in tag


def test_show_all_loads_the_whole_column_and_keeps_the_others_short(client_as, pm, make_products):
    make_products(BOARD_CARDS_PER_STAGE + 4, stage=Stage.MVP)
    make_products(BOARD_CARDS_PER_STAGE + 2, stage=Stage.FEEDBACK)
    response = client_as(pm).get(BOARD, {"show": "mvp"}, headers=REGION)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="board-region"')
    oldest_first = Product.objects.filter(stage="mvp").order_by("stage_entered_at", "pk")
    assert cards_in(html, "mvp") == list(oldest_first.values_list("slug", flat=True))
    assert len(cards_in(html, "feedback")) == BOARD_CARDS_PER_STAGE
    assert f"All {BOARD_CARDS_PER_STAGE + 4} shown" in html
    # "Show the first 10" collapses it again; the feedback column's "Show all" keeps mvp expanded
    assert f'href="/lifecycle/board/">Show the first {BOARD_CARDS_PER_STAGE}' in html.replace(
        ' hx-get="/lifecycle/board/" hx-target="#board-region" hx-swap="outerHTML" hx-push-url="true"', ""
    )
    assert 'href="/lifecycle/board/?show=mvp&amp;show=feedback"' in html


def test_an_expanded_column_stays_expanded_after_a_move(client_as, pm, mvp_product, make_products):
    make_products(BOARD_CARDS_PER_STAGE + 3, stage=Stage.FEEDBACK)
    client = client_as(pm)
    page = client.get(BOARD, {"show": "feedback", "owner": "pm"}).content.decode()
    assert 'action="/lifecycle/board/move/atlas/?owner=pm&amp;show=feedback"' in page
    html = client.post(
        move_url(mvp_product, "?owner=pm&show=feedback"), {"to": "feedback"}, headers=MOVE_FROM_BOARD
    ).content.decode()
    assert set(cards_in(html, "feedback")) == set(
        Product.objects.filter(stage="feedback", owner=pm).values_list("slug", flat=True)
    )
    response = client.post(move_url(mvp_product, "?show=feedback&show=nonsense"), {"to": "strategy"})
    assert response["Location"] == "/lifecycle/board/?show=feedback#card-atlas"


def test_unknown_columns_to_show_are_ignored(client_as, pm, make_products):
    make_products(BOARD_CARDS_PER_STAGE + 4, stage=Stage.MVP)
    response = client_as(pm).get(BOARD, {"show": ["launch", "mvp"]})
    assert response.status_code == 200
    assert len(cards_in(response.content.decode(), "mvp")) == BOARD_CARDS_PER_STAGE + 4


def test_card_text_is_escaped(client_as, pm, portfolio):
    pm.first_name = "<b>Priya</b>"
    pm.save()
    product = ProductFactory(portfolio=portfolio, owner=pm, name='<script>alert("x")</script>', stage="mvp")
    html = client_as(pm).get(BOARD).content.decode()
    card = html.split(f'id="card-{product.slug}"', 1)[1].split("</li>", 1)[0]
    assert "<script>alert" not in card
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</a>" in card
    assert "&lt;b&gt;Priya&lt;/b&gt;" in card


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize("headers", [{}, REGION])
def test_an_expanded_board_takes_a_fixed_number_of_queries(
    django_assert_max_num_queries, client_as, pm, make_products, size, headers
):
    make_products(size)
    client = client_as(pm)
    with django_assert_max_num_queries(9):
        response = client.get(BOARD, {"show": ["mvp", "problem"]}, headers=headers)
    assert response.status_code == 200
    html = response.content.decode()
    assert len(cards_in(html, "mvp")) == Product.objects.filter(stage="mvp").count()


def test_the_member_filter_shows_the_cards_of_products_a_person_owns_or_is_a_member_of(
    client_as, pm, portfolio, make_products
):
    make_products(14)
    member_of = ProductFactory(portfolio=portfolio, stage=Stage.MVP, name="Shared", slug="shared")
    MembershipFactory(product=member_of, user=pm, role=Role.PM)
    response = client_as(pm).get(BOARD, {"member": "pm"})
    shown = {card.slug for column, _ in response.context["columns"] for card in column.cards}
    assert shown == {*Product.objects.filter(owner=pm).values_list("slug", flat=True), "shared"}
    html = response.content.decode()
    assert "Owner or member:</span> Priya Menon" in html
    bad = client_as(pm).get(BOARD, {"member": "nobody"}).content.decode()
    assert "Owner or member: “nobody” is not a product owner or member." in bad
