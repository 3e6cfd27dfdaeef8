"""The portfolio dashboard at ``/``: driven through HTTP as a browser and htmx would."""

import datetime as dt
import html
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolio.choices import Scope
from portfolio.strategy.services.budgets import budget_line_set
from products.choices import Focus, Health, Market, Stage
from products.forms import SORT_LABELS
from products.selectors import SORTS
from tests.factories import RollupFactory
from tests.product_tables import LATEST_WEEK, add_products, build_organisation

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
RESULTS = {**HX, "HX-Target": "dashboard-results"}
TABLE = {**HX, "HX-Target": "product-table"}
BODY = {**HX, "HX-Target": "dashboard-body"}


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


def products_shown(response):
    return [row.product for row in response.context["table"].rows]


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# ------------------------------------------------------------------ the page


def test_dashboard_shows_tiles_funnel_health_and_the_table(as_director, org):
    response = as_director.get("/")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Portfolio dashboard</h1>" in page
    assert 'aria-label="Headline numbers"' in page
    assert "Products per stage" in page
    assert 'data-figure="funnel-figure"' in page
    assert 'id="funnel-figure"' in page
    assert "Show the numbers as a table" in page  # the funnel's data-table alternative
    assert 'id="health-title"' in page
    assert response.context["summary"].products == 30
    assert len(response.context["table"].rows) == 25
    assert "Page 1 of 2" in page
    assert 'aria-current="page">Dashboard<' in page  # breadcrumb


def test_every_filter_is_a_control_named_after_its_query_parameter(as_director):
    page = as_director.get("/").content.decode()
    assert re.search(r'<input type="search" id="filter-q" name="q"', page)
    for name in ("portfolio", "stage", "market", "focus", "health", "owner"):
        assert re.search(rf'<label for="id_{name}">', page), name
        assert re.search(rf'<select name="{name}" id="id_{name}"', page), name
    stage_select = re.search(r'<select name="stage".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', stage_select) == ["", *Stage.values]
    portfolio_select = re.search(r'<select name="portfolio".*?</select>', page, re.S).group(0)
    assert re.findall(r'<option value="([^"]*)"', portfolio_select) == ["", "alpha", "beta"]


def test_the_filter_form_swaps_the_results_with_htmx_and_pushes_the_url(as_director):
    page = as_director.get("/").content.decode()
    form = re.search(r'<form id="product-filters".*?>', page, re.S).group(0)
    assert 'method="get"' in form
    assert 'action="/"' in form
    assert 'hx-get="/"' in form
    assert 'hx-target="#dashboard-results"' in form
    assert 'hx-push-url="true"' in form
    assert "change" in form
    assert "input changed delay:300ms from:#filter-q" in form


def test_the_page_obeys_the_content_security_policy(as_director):
    page = as_director.get("/").content.decode()
    assert "style=" not in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    for script in re.findall(r"<script[^>]*>", page):
        assert "nonce=" in script or 'type="application/json"' in script, script


def test_loading_indicator_and_error_banner_are_on_the_page(as_director):
    page = as_director.get("/").content.decode()
    assert 'id="page-loading" class="page-loading htmx-indicator"' in page
    assert 'hx-indicator="#page-loading"' in page
    assert 'id="htmx-error"' in page  # base.html's banner, filled by spm.js when a request fails


# ------------------------------------------------------------------ htmx regions


def test_an_htmx_filter_returns_only_the_results(as_director):
    response = as_director.get("/?stage=mvp", headers=RESULTS)
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert b'id="dashboard-results"' in response.content
    assert b'id="product-filters"' not in response.content  # the form keeps focus while typing
    assert "HX-Request" in response["Vary"]
    assert {p.stage for p in products_shown(response)} == {"mvp"}
    assert response.context["summary"].products == len(products_shown(response))


def test_sorting_or_paging_returns_only_the_table(as_director):
    response = as_director.get("/?sort=name&dir=desc", headers=TABLE)
    assert b"<html" not in response.content
    assert response.content.decode().lstrip().startswith('<section id="product-table"')
    assert b"Headline numbers" not in response.content
    assert "summary" not in response.context


def test_a_drill_down_link_returns_the_form_and_the_results(as_director):
    response = as_director.get("/?health=off_target", headers=BODY)
    content = response.content.decode()
    assert "<html" not in content
    assert 'id="product-filters"' in content
    assert 'id="dashboard-results"' in content
    assert re.search(r'<option value="off_target" selected>', content)


def test_a_history_restore_gets_the_whole_page(as_director):
    headers = {**RESULTS, "HX-History-Restore-Request": "true"}
    response = as_director.get("/?stage=mvp", headers=headers)
    assert b"<html" in response.content


def test_an_unknown_htmx_target_gets_the_whole_page(as_director):
    response = as_director.get("/", headers={**HX, "HX-Target": "somewhere-else"})
    assert b"<html" in response.content


def test_the_results_carry_the_funnel_figure_as_text_not_a_script(as_director):
    # htmx drops <script> elements from swapped content: the figure must travel in a plain element.
    content = as_director.get("/?stage=mvp", headers=RESULTS).content.decode()
    assert "<script" not in content
    figure = re.search(r'<div id="funnel-figure" hidden>(.*?)</div>', content, re.S).group(1)
    assert json.loads(html.unescape(figure))["data"][0]["type"] == "bar"


def test_the_dashboard_csv_is_the_product_list_export(as_director):
    response = as_director.get("/?stage=mvp&format=csv")
    assert response.status_code == 302
    assert response["Location"] == "/products/?stage=mvp&format=csv"


# ------------------------------------------------------------------ filters


@pytest.mark.parametrize(
    ("name", "value", "attribute"),
    [
        ("stage", Stage.MVP, "stage"),
        ("stage", Stage.EXECUTION, "stage"),
        ("market", Market.B2C, "market"),
        ("focus", Focus.DESIGN, "focus"),
        ("health", Health.AT_RISK, "health"),
    ],
)
def test_each_choice_filter_narrows_the_products(as_director, org, name, value, attribute):
    response = as_director.get(f"/?{name}={value}&per_page=100")
    shown = products_shown(response)
    expected = [p for p in org.products if getattr(p, attribute) == value]
    assert shown
    assert len(shown) == len(expected) < len(org.products)
    assert {getattr(p, attribute) for p in shown} == {value}
    assert response.context["summary"].products == len(expected)


def test_portfolio_and_owner_filters_use_slug_and_username(as_director, org):
    shown = products_shown(as_director.get("/?portfolio=beta&per_page=100"))
    assert shown
    assert {p.portfolio.slug for p in shown} == {"beta"}
    shown = products_shown(as_director.get(f"/?owner={org.owner.username}&per_page=100"))
    assert len(shown) == 15
    assert {p.owner_id for p in shown} == {org.owner.pk}


def test_filters_combine(as_director, org):
    shown = products_shown(as_director.get("/?portfolio=alpha&market=b2b&per_page=100"))
    expected = {p.pk for p in org.products if p.portfolio_id == org.alpha.pk and p.market == "b2b"}
    assert {p.pk for p in shown} == expected


def test_free_text_search_matches_name_or_slug(as_director):
    assert names(as_director.get("/?q=product 007")) == ["Product 007"]
    assert names(as_director.get("/?q=PRODUCT-01&per_page=100")) == [f"Product 01{n}" for n in range(10)]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("stage=launch", "Stage: “launch” is not a lifecycle stage."),
        ("page=abc", "Page: Enter a page number."),
        ("sort=evil", "Sort by: “evil” is not a column to sort by."),
        ("dir=sideways", "Order: “sideways” is not a sort order"),
        ("per_page=7", "Rows per page: “7” is not a page size"),
        ("portfolio=nope", "Portfolio: “nope” is not a portfolio."),
        ("owner=nobody", "Owner: “nobody” is not a product owner."),
    ],
)
def test_an_invalid_value_is_ignored_with_a_clear_message(as_director, query, message):
    response = as_director.get(f"/?{query}")
    assert response.status_code == 200
    assert message in text(response)
    assert 'role="alert"' in response.content.decode()
    assert len(names(response)) == 25  # the rest of the page still works, unfiltered
    htmx = as_director.get(f"/?{query}", headers=RESULTS)
    assert htmx.status_code == 200
    assert message in text(htmx)


def test_a_valid_filter_still_applies_next_to_an_invalid_one(as_director):
    response = as_director.get("/?stage=mvp&market=moon")
    assert {p.stage for p in products_shown(response)} == {"mvp"}
    assert "Market: “moon” is not a market." in text(response)


def test_an_invalid_value_marks_its_control(as_director):
    page = as_director.get("/?stage=launch").content.decode()
    assert re.search(r'<select name="stage" id="id_stage" aria-invalid="true">', page)


# ------------------------------------------------------------------ sorting and pages


def sort_key(name: str, product):
    health_order = ["off_target", "at_risk", "on_target", "no_data"]
    return {
        "name": lambda p: p.name,
        "portfolio": lambda p: p.portfolio.name,
        "owner": lambda p: p.owner.username,
        "stage": lambda p: Stage.values.index(p.stage),
        "days": lambda p: p.days_in_stage,
        "market": lambda p: p.market,
        "focus": lambda p: p.focus,
        "health": lambda p: health_order.index(p.health),
        "planned": lambda p: p.planned_budget,
        "actual": lambda p: p.actual_spend,
    }[name](product)


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", [key for key in SORTS if key != "key_kpi"])
def test_every_column_sorts_both_ways(as_director, sort, direction):
    response = as_director.get(f"/?sort={sort}&dir={direction}&per_page=100", headers=TABLE)
    shown = products_shown(response)
    keys = [sort_key(sort, p) for p in shown]
    assert keys == sorted(keys, reverse=direction == "desc")
    assert len(set(keys)) > 1
    headings = re.findall(
        r'<th scope="col"[^>]*aria-sort="([a-z]+)"[^>]*>\s*<a[^>]*>(.*?)</a>', text(response)
    )
    assert len(headings) == 1  # only the sorted column says how it is sorted
    state, label = headings[0]
    assert state == ("ascending" if direction == "asc" else "descending")
    assert SORT_LABELS[sort] in re.sub(r"<[^>]+>", " ", label)


@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sorting_by_the_key_kpi_uses_its_latest_value(as_director, direction):
    response = as_director.get(f"/?sort=key_kpi&dir={direction}&per_page=100", headers=TABLE)
    latest = [row.key_latest for row in response.context["table"].rows]
    assert None not in latest
    assert latest == sorted(latest, reverse=direction == "desc")


def test_a_heading_links_to_the_other_direction_and_keeps_the_filters(as_director):
    page = text(as_director.get("/?stage=mvp&sort=planned&dir=asc", headers=TABLE))
    link = re.search(r'<a class="sort-link sort-link--ascending" href="([^"]+)"', page).group(1)
    assert link == "/?stage=mvp&amp;sort=planned&amp;dir=desc"
    assert f'hx-get="{link}"' in page
    assert 'hx-push-url="true"' in page


def test_pages_split_the_products_and_keep_the_filters(as_director, org):
    first = as_director.get("/?portfolio=alpha&per_page=25")
    assert len(names(first)) == 15
    response = as_director.get("/?sort=name&page=2", headers=TABLE)
    assert names(response) == [f"Product {n:03d}" for n in range(25, 30)]
    page = text(response)
    assert "Showing <strong>26\u201330</strong> of <strong>30</strong> products" in page  # en dash
    assert 'rel="prev" href="/"' in page  # page 1 and the default sort leave the URL clean
    filtered = text(as_director.get("/?market=b2b&per_page=25&sort=days", headers=TABLE))
    assert "Page 1 of 1" in filtered
    assert "?market=b2b&amp;sort=days&amp;dir=asc" in filtered


def test_a_page_past_the_end_shows_the_last_page(as_director):
    assert names(as_director.get("/?page=99")) == [f"Product {n:03d}" for n in range(25, 30)]


def test_rows_per_page(as_director):
    assert len(names(as_director.get("/?per_page=50"))) == 30
    assert len(names(as_director.get("/?per_page=100"))) == 30


# ------------------------------------------------------------------ empty state


def test_no_match_shows_an_empty_state_with_a_clear_filters_link(as_director):
    response = as_director.get("/?q=no-such-product", headers=RESULTS)
    page = text(response)
    assert "No products match these filters" in page
    link = re.search(r'<a href="/" hx-get="/" hx-target="#dashboard-body"[^>]*>clear filters</a>', page)
    assert link
    assert 'hx-push-url="true"' in link.group(0)
    assert response.context["summary"].products == 0


def test_an_empty_organisation_says_so(client, superuser):
    client.force_login(superuser)
    response = client.get("/")
    assert response.status_code == 200
    assert "No products yet" in text(response)


# ------------------------------------------------------------------ the table's cells


def test_a_row_shows_every_column(as_director, org):
    response = as_director.get("/?q=product-000")
    page = text(response)
    product = org.products[0]
    assert "Product 000" in page
    assert "Alpha" in page
    assert "Olga Owner" in page
    assert f"stage--{product.stage}" in page
    assert product.get_stage_display() in page
    assert f'data-label="Days in stage">{product.days_in_stage}<' in page
    assert product.get_market_display() in page
    assert product.get_focus_display() in page
    assert f"status--{product.health}" in page
    assert product.get_health_display() in page
    assert f"{product.planned_budget:,.0f}" in page
    assert f"{product.actual_spend:,.0f}" in page


def test_the_key_kpi_shows_its_latest_value_and_a_sparkline(as_director, org):
    response = as_director.get("/?q=product-001")
    row = response.context["table"].rows[0]
    assert len(row.key_values) == 12  # the last twelve weekly values, oldest first
    assert row.key_target == 100.0
    page = text(response)
    assert '<svg class="sparkline"' in page
    assert "Last 12 values" in page
    assert re.search(r"trend trend--(up|down|flat)", page)
    assert '<th scope="col"' in page
    assert ">Revenue<" in page


def test_a_product_without_kpi_values_says_no_data(as_director, org):
    org.products[0].measurements.all().delete()
    page = text(as_director.get("/?q=product-000"))
    assert "No data" in page


# ------------------------------------------------------------------ tiles


def test_kpi_tiles_count_the_latest_organisation_rollups(as_director, org):
    for status in ["on_target", "on_target", "at_risk", "off_target"]:
        kpi = org.kpi if status == "at_risk" else None
        RollupFactory(status=status, period=LATEST_WEEK, **({"kpi": kpi} if kpi else {}))
    RollupFactory(kpi=org.kpi, status="off_target", period=LATEST_WEEK - dt.timedelta(weeks=1))  # older
    kpis = as_director.get("/").context["kpis"]
    assert (kpis.on_target, kpis.at_risk, kpis.off_target, kpis.total) == (2, 1, 1, 4)
    assert kpis.period == LATEST_WEEK


def test_one_scope_filter_reads_that_scopes_rollups(as_director, org):
    RollupFactory(kpi=org.kpi, scope=Scope.STAGE, scope_key="mvp", status="off_target", period=LATEST_WEEK)
    RollupFactory(kpi=org.kpi, scope=Scope.STAGE, scope_key="problem", status="on_target", period=LATEST_WEEK)
    response = as_director.get("/?stage=mvp", headers=RESULTS)
    assert response.context["kpis"].off_target == 1
    assert response.context["kpis"].on_target == 0
    assert "Stage MVP" in text(response)


def test_filters_without_a_rollup_say_kpi_status_is_not_available(as_director):
    response = as_director.get("/?stage=mvp&market=b2b", headers=RESULTS)
    assert response.context["kpis"] is None
    assert "use one of those filters alone" in text(response)


def test_tiles_and_funnel_follow_the_filters(as_director, org):
    response = as_director.get("/?portfolio=alpha", headers=RESULTS)
    summary = response.context["summary"]
    alpha = [p for p in org.products if p.portfolio_id == org.alpha.pk]
    assert summary.products == len(alpha)
    assert summary.money.planned == sum(p.planned_budget for p in alpha)
    assert summary.stages == {s: sum(p.stage == s for p in alpha) for s in Stage.values}
    assert json.loads(response.context["funnel"])["data"][0]["x"] == list(summary.stages.values())


# ------------------------------------------------------------------ money


def test_leadership_sees_every_budget(client, org):
    client.force_login(org.vp)
    response = client.get("/?per_page=100")
    assert all(row.show_budget for row in response.context["table"].rows)
    summary = response.context["summary"]
    assert summary.budget_products == 30
    assert not summary.money_is_partial
    assert summary.money.planned == sum(p.planned_budget for p in org.products)
    assert summary.money.actual == sum(p.actual_spend for p in org.products)
    year = timezone.localdate().year
    assert f'<span class="tile__label">Planned {year}</span>' in text(response)
    assert f'<span class="tile__label">Actual {year} to date</span>' in text(response)


def test_a_director_sees_the_money_of_their_portfolio_only_in_rows(client, org):
    org.director.role = "pm"  # a director-turned-PM: access comes from directing the portfolio alone
    org.director.save()
    client.force_login(org.director)
    response = client.get("/?per_page=100")
    shown = {row.product.portfolio_id for row in response.context["table"].rows if row.show_budget}
    assert shown == {org.alpha.pk}


def test_a_junior_member_sees_money_only_for_their_product(client, org):
    client.force_login(org.junior)
    response = client.get("/?per_page=100")
    rows = response.context["table"].rows
    visible = [row.product for row in rows if row.show_budget]
    assert len(visible) == 1
    assert visible[0].memberships.filter(user=org.junior).exists()
    summary = response.context["summary"]
    assert summary.budget_products == 1
    assert summary.money_is_partial
    assert summary.money.planned == visible[0].planned_budget
    page = text(response)
    assert "only the 1 of 30 products whose budget is shared with you" in page
    hidden = next(row.product for row in rows if not row.show_budget)
    row_html = re.search(rf'href="/products/{hidden.slug}/".*?</tr>', page).group(0)
    assert f"{hidden.planned_budget:,.0f}" not in row_html
    assert "not shared with you" in row_html
    # Why, and whom to ask: once, under the table, not in every cell.
    assert page.count("ask its owner to add you as a member") == 1


def test_someone_on_no_product_sees_no_money_and_no_money_tiles(client, org):
    client.force_login(org.outsider)
    response = client.get("/?per_page=100")
    assert not any(row.show_budget for row in response.context["table"].rows)
    summary = response.context["summary"]
    assert summary.budget_products == 0
    assert summary.money is None
    page = text(response)
    assert '<span class="tile__label">Planned ' not in page  # the money tiles give way to a note
    assert "Budgets are shared with leadership and the people on each product" in page
    for product in org.products:
        assert f">{product.planned_budget:,.0f}<" not in page


@pytest.mark.parametrize("sort", ["planned", "actual"])
def test_sorting_by_money_never_reveals_hidden_budgets(client, org, sort):
    client.force_login(org.junior)
    response = client.get(f"/?sort={sort}&dir=desc&per_page=100", headers=TABLE)
    rows = response.context["table"].rows
    assert rows[0].show_budget  # the one visible budget first, then the rest by name
    assert [row.product.name for row in rows[1:]] == sorted(row.product.name for row in rows[1:])


# ------------------------------------------------------------------ query counts


@pytest.mark.parametrize(
    ("who", "headers", "query", "limit"),
    [
        # The money tiles are one aggregate over the year's budget lines (the investment page's).
        ("director", {}, "", 14),
        ("director", RESULTS, "?stage=mvp", 14),
        ("director", BODY, "?health=at_risk", 13),
        ("director", TABLE, "?sort=key_kpi&dir=desc&page=2", 10),
        ("junior", {}, "?sort=planned", 15),
        ("junior", TABLE, "?sort=actual&dir=desc", 11),
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
        client.get(f"/{query}", headers=headers)  # warm caches (session, content types)
        with django_assert_max_num_queries(limit), CaptureQueriesContext(connection) as queries:
            response = client.get(f"/{query}", headers=headers)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


@pytest.mark.django_db
def test_the_dashboard_says_when_rollups_are_being_recomputed_and_polls_until_fresh(client_as_pm):
    from portfolio.models import RollupState, StaleRollup

    RollupState.objects.update_or_create(pk=1, defaults={"computed_at": timezone.now()})
    mark = StaleRollup.objects.create()
    page = client_as_pm.get("/").content.decode()
    assert "Recomputing…" in page
    assert 'hx-trigger="every 2s"' in page

    poll = client_as_pm.get("/", headers={"HX-Request": "true", "HX-Target": "rollup-freshness"})
    assert "Recomputing…" in poll.content.decode()
    assert "HX-Trigger" not in poll

    mark.delete()
    poll = client_as_pm.get("/", headers={"HX-Request": "true", "HX-Target": "rollup-freshness"})
    assert b"<html" not in poll.content
    assert b"every 2s" not in poll.content  # polling stops
    assert poll["HX-Trigger"] == "rollups-fresh"  # and the results region reloads itself
    assert "Computed at" in poll.content.decode()


@pytest.mark.parametrize("who", ["vp", "director", "junior"])
@pytest.mark.parametrize("query", ["", "?portfolio=alpha", "?stage=mvp", "?market=b2c&focus=design"])
def test_the_money_tiles_are_the_investment_pages_totals_for_the_same_filters_and_year(
    client, org, who, query
):
    """Observation 4 of issue 14: the dashboard summed product totals of every year while the investment page
    showed this year's lines. Both now read this year's budget lines of the products the viewer may see."""
    product = org.products[0]
    last_year = dt.date(timezone.localdate().year - 1, 10, 1)
    budget_line_set(
        product=product,
        quarter=last_year,
        kind="capex",
        planned=Decimal("77000"),
        actual=Decimal("70000"),
        by=None,
    )  # another year: in the product's total, in neither page's figures for this year
    client.force_login(getattr(org, who))
    dashboard = client.get(f"/{query}").context["summary"].money
    investment = client.get(f"/portfolio/investment/{query}").context["totals"]
    if dashboard is None:  # none of these products' money is shared with this person: no money tiles at all
        assert (investment.planned, investment.actual) == (0, 0)
        return
    assert (dashboard.planned, dashboard.actual, dashboard.plan_to_date) == (
        investment.planned,
        investment.actual,
        investment.plan_to_date,
    )
    assert dashboard.burn == investment.burn
    product.refresh_from_db()
    assert product.planned_budget == sum(line.planned for line in product.budget_lines.all())
