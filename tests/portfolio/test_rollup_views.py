"""The director view at /portfolio/rollups/: scorecard, what changed, trend chart, drill-down, freshness."""

import datetime as dt
import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio.models import Measurement, StaleRollup
from tests.portfolio.director_data import NOVEMBER, add_products, build_director_org

pytestmark = pytest.mark.django_db

URL = "/portfolio/rollups/"
CELL = "/portfolio/rollups/cell/"
HX = {"HX-Request": "true"}


@pytest.fixture
def org():
    return build_director_org()


@pytest.fixture
def as_director(client, org):
    client.force_login(org.director)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def region(response, element_id: str) -> str:
    """The opening tag of the element with ``element_id``."""
    match = re.search(rf'<[a-z]+ id="{element_id}"[^>]*>', response.content.decode(), re.S)
    assert match, element_id
    return match.group(0)


def cell(response, kpi_name: str, label: str):
    scorecard = response.context["scorecard"]
    row = next(r for r in scorecard.rows if r.kpi.name == kpi_name)
    index = [c.label for c in scorecard.columns].index(label)
    return row.cells[index]


# ------------------------------------------------------------------ the page


def test_every_logged_in_user_sees_the_director_view(client_as_pm, org):
    response = client_as_pm.get(URL)
    assert response.status_code == 200
    page = text(response)
    assert "<h1>KPI rollups</h1>" in page
    assert 'aria-current="page">Rollups<' in page  # the navigation link


def test_the_scorecard_has_kpis_down_and_the_organisation_and_portfolios_across(as_director):
    response = as_director.get(URL)
    scorecard = response.context["scorecard"]
    assert [c.label for c in scorecard.columns] == ["Organisation", "Alpha", "Beta"]
    assert [r.kpi.name for r in scorecard.rows] == ["Revenue", "Churn rate", "Share of thirds"]
    assert scorecard.grain == "month"
    page = text(response)
    assert re.search(r'<th scope="col"[^>]*>Alpha</th>', page)
    assert re.search(
        r'<th scope="row" class="scorecard__kpi"> <span class="scorecard__kpi-name">Revenue', page
    )


def test_a_cell_shows_the_latest_value_its_target_status_and_the_change_from_the_previous_period(as_director):
    response = as_director.get(URL)
    alpha = cell(response, "Revenue", "Alpha")
    assert alpha.current.period == dt.date(2026, 11, 1)
    assert (alpha.current.value, alpha.current.target, alpha.current.status) == (450.0, 600.0, "off_target")
    assert alpha.previous.value == 880.0
    assert (alpha.trend, alpha.verdict) == ("down", "worse")
    # Like for like (observation 3 of issue 14): a sum over time is compared per week with data. Beta's 330 in
    # November's three recorded weeks is 110 a week against October's 360 in four, 90 a week: up, not down.
    beta = cell(response, "Revenue", "Beta")
    assert (beta.current_periods, beta.previous_periods) == (3, 4)
    assert (beta.trend, beta.verdict) == ("up", "better")
    assert beta.change == pytest.approx(110 / 90 - 1)
    churn = cell(response, "Churn rate", "Alpha")
    assert churn.trend == "flat"
    html = response.content.decode()
    alpha_cell = re.search(
        r'<td class="scorecard__cell scorecard__cell--off_target"><a[^>]*key=alpha[^>]*>.*?</td>', html, re.S
    )
    assert alpha_cell, "the Alpha revenue cell"
    shown = re.sub(r"<[^>]+>", " ", alpha_cell.group(0))
    assert "€450" in shown
    assert "\N{MINUS SIGN}32%" in shown  # 450 / 3 weeks against 880 / 4 weeks, with a true minus sign
    assert "down per week from Oct 2026, worse" in shown  # the arrow in words, saying what is compared
    assert "per week: 3 weeks vs 4 in Oct 2026" in text(response)  # the row says what it compares
    assert "Off target" in shown  # status in words, not colour alone
    assert "target €600" in shown
    assert 'class="delta delta--down delta--worse"' in alpha_cell.group(0)


def test_a_lower_is_better_kpi_falling_is_better(as_director, org):
    Measurement.objects.filter(kpi=org.churn, period__in=NOVEMBER).update(value=3.0)
    from portfolio.kpis.engine import rollups_recompute_all

    rollups_recompute_all()
    churn = cell(as_director.get(URL), "Churn rate", "Organisation")
    assert (churn.trend, churn.verdict) == ("down", "better")


def test_a_kpi_without_a_previous_period_has_no_arrow(as_director):
    thirds = cell(as_director.get(URL), "Share of thirds", "Alpha")
    assert thirds.previous is None
    assert thirds.trend == ""
    assert thirds.current.status == "no_target"


def test_every_cell_links_to_its_drill_down_with_a_real_href(as_director, org):
    page = as_director.get(URL).content.decode()
    href = (
        f"{CELL}?kpi={org.revenue.pk}&amp;scope=portfolio&amp;key=alpha&amp;grain=month&amp;period=2026-11-01"
    )
    assert f'href="{href}"' in page
    # htmx boosts the scorecard's links into the drill-down region instead of leaving the page
    wrap = re.search(r'<div class="table-wrap scorecard"[^>]*>', page).group(0)
    assert 'hx-boost="true"' in wrap
    assert 'hx-target="#rollup-cell"' in wrap
    assert 'id="rollup-cell"' in page


@pytest.mark.parametrize(
    "path",
    [
        URL,
        f"{URL}?dimension=owner&grain=native",
        f"{CELL}?kpi=Revenue&scope=stage&key=mvp&grain=month&period=2026-11-01",
        "/portfolio/kpis/",
        "/portfolio/measurements/",
    ],
)
def test_the_pages_obey_the_content_security_policy(as_director, path):
    page = as_director.get(path).content.decode()
    assert "style=" not in page
    assert not re.search(r"\son[a-z]+=", page)
    for script in re.findall(r"<script[^>]*>", page):
        assert "nonce=" in script, script


# ------------------------------------------------------------------ what changed


def test_what_changed_lists_the_kpis_whose_status_got_worse_biggest_fall_first(as_director):
    response = as_director.get(URL)
    changes = [
        (c.kpi.name, c.column.label, c.previous.status, c.current.status)
        for c in response.context["scorecard"].changes
    ]
    assert changes == [
        ("Revenue", "Alpha", "on_target", "off_target"),  # two steps down
        ("Revenue", "Organisation", "at_risk", "off_target"),
    ]
    page = text(response)
    section = page[page.index('id="changes-title"') : page.index('id="scorecard-title"')]
    assert section.index("Alpha") < section.index("Organisation")
    assert "Beta" not in section  # off target -> at risk is better, not worse


def test_what_changed_says_so_when_nothing_got_worse(as_director, org):
    Measurement.objects.filter(kpi=org.revenue, period__in=NOVEMBER).update(value=200.0)
    from portfolio.kpis.engine import rollups_recompute_all

    rollups_recompute_all()
    response = as_director.get(URL)
    assert response.context["scorecard"].changes == []
    assert "No KPI got worse since the previous period." in text(response)


# ------------------------------------------------------------------ filters


def test_the_dimension_chooses_the_columns(as_director):
    response = as_director.get(f"{URL}?dimension=stage")
    assert [c.label for c in response.context["scorecard"].columns] == ["Organisation", "MVP", "Execution"]
    response = as_director.get(f"{URL}?dimension=owner")
    assert [c.label for c in response.context["scorecard"].columns] == [
        "Organisation",
        "Bert Beta",
        "Olga Owner",
    ]


def test_a_filter_on_the_same_dimension_narrows_the_columns(as_director):
    response = as_director.get(f"{URL}?dimension=stage&stage=mvp")
    assert [c.label for c in response.context["scorecard"].columns] == ["Organisation", "MVP"]
    mvp = cell(response, "Revenue", "MVP")
    assert (mvp.current.value, mvp.previous.value) == (480.0, 840.0)


def test_the_filter_selects_show_the_chosen_columns_key_and_grain(as_director):
    page = text(as_director.get(f"{URL}?dimension=stage&stage=mvp&grain=quarter"))
    columns = re.search(r'<select name="dimension".*?</select>', page).group(0)
    # The default (portfolios) has an empty value, so that it stays out of the URL.
    assert '<option value="">Portfolios</option>' in columns
    assert '<option value="stage" selected>Stages</option>' in columns
    stages = re.search(r'<select name="stage".*?</select>', page).group(0)
    assert '<option value="mvp" selected>' in stages
    assert stages.count(" selected") == 1
    grain = re.search(r'<select name="grain".*?</select>', page).group(0)
    assert '<option value="quarter" selected>' in grain


def test_a_single_filter_without_a_dimension_chooses_its_dimension(as_director):
    response = as_director.get(f"{URL}?market=b2c")
    assert response.context["form"].columns_dimension == "market"
    assert [c.label for c in response.context["scorecard"].columns] == ["Organisation", "B2C"]


def test_a_filter_on_another_dimension_is_ignored_with_a_message(as_director):
    response = as_director.get(f"{URL}?dimension=portfolio&stage=mvp")
    assert response.status_code == 200
    assert [c.label for c in response.context["scorecard"].columns] == ["Organisation", "Alpha", "Beta"]
    assert "Stage: ignored, because the columns are portfolios" in text(response)


def test_grain_and_period_range(as_director):
    quarter = cell(as_director.get(f"{URL}?grain=quarter"), "Revenue", "Organisation")
    assert (quarter.current.period, quarter.current.value, quarter.previous) == (
        dt.date(2026, 10, 1),
        2020.0,
        None,
    )
    native = cell(as_director.get(f"{URL}?grain=native"), "Revenue", "Alpha")
    assert (native.current.period, native.current.value, native.previous.value) == (
        NOVEMBER[-1],
        150.0,
        150.0,
    )
    october = as_director.get(f"{URL}?period_to=2026-10-31")
    assert cell(october, "Revenue", "Alpha").current.value == 880.0
    assert october.context["scorecard"].changes == []  # no period before October in the data


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("grain=weekly", "Grain: “weekly” is not a grain (native, month or quarter)."),
        ("dimension=team", "Columns: “team” is not a dimension"),
        ("stage=launch", "Stage: “launch” is not a lifecycle stage."),
        ("dimension=portfolio&portfolio=nope", "Portfolio: “nope” is not a portfolio."),
        ("period_from=2026-13-01", "From: Enter a date as YYYY-MM-DD."),
        ("period_from=2026-11-01&period_to=2026-10-01", "To: The end of the range is before its start."),
        ("chart=Velocity", "Chart KPI: “Velocity” is not a KPI name or id."),
    ],
)
def test_an_invalid_filter_is_named_on_the_page_and_the_rest_still_shows(as_director, query, message):
    response = as_director.get(f"{URL}?{query}")
    assert response.status_code == 200
    assert message in text(response)
    assert response.context["scorecard"].rows  # the defaults apply


def test_with_more_keys_than_fit_the_ones_with_most_kpis_off_target_are_shown(as_director, org):
    from portfolio.kpis.engine import rollups_recompute_all
    from tests.factories import ProductFactory, UserFactory

    rows = []
    for index in range(14):
        owner = UserFactory(username=f"owner-{index:02d}")
        product = ProductFactory(slug=f"extra-{index:02d}", portfolio=org.beta, owner=owner)
        value = 10.0 if index in (3, 11) else 500.0  # two owners far below 100 a week
        rows += [Measurement(product=product, kpi=org.revenue, period=p, value=value) for p in NOVEMBER]
    Measurement.objects.bulk_create(rows)
    rollups_recompute_all()
    response = as_director.get(f"{URL}?dimension=owner")
    scorecard = response.context["scorecard"]
    keys = [c.key for c in scorecard.key_columns]
    assert len(keys) == 12
    assert {"owner-03", "owner-11", "olga", "bert"} <= set(keys)  # off target first, then at risk (bert)
    assert (scorecard.total_keys, scorecard.hidden_keys) == (16, 4)
    assert "Showing the 12 owners with the most KPIs off target, of 16." in text(response)


# ------------------------------------------------------------------ trend chart


def test_the_trend_draws_one_line_per_scope_key_with_targets(as_director, org):
    response = as_director.get(f"{URL}?chart={org.revenue.pk}")
    page = response.content.decode()
    assert '<div class="chart chart--tall" data-figure="trend-figure"' in page
    figure_text = re.search(r'<div id="trend-figure" hidden>(.*?)</div>', page, re.S).group(1)
    figure = json.loads(figure_text.replace("&quot;", '"').replace("&amp;", "&").replace("&#x27;", "'"))
    lines = [trace["name"] for trace in figure["data"]]
    assert lines == [
        "Alpha",
        "Alpha target",
        "Beta",
        "Beta target",
    ]  # sums: each portfolio has its own target
    alpha = figure["data"][0]
    assert alpha["x"] == ["2026-10-01", "2026-11-01"]
    assert alpha["y"] == [880.0, 450.0]
    assert figure["data"][1]["y"] == [800.0, 600.0]
    assert "Show the numbers as a table" in page


def test_kpis_with_the_same_target_everywhere_share_one_target_line(as_director, org):
    page = as_director.get(f"{URL}?chart={org.churn.name}").content.decode()
    figure = json.loads(
        re.search(r'<div id="trend-figure" hidden>(.*?)</div>', page, re.S).group(1).replace("&quot;", '"')
    )
    assert [trace["name"] for trace in figure["data"]] == ["target", "Alpha", "Beta"]


def test_choosing_the_chart_kpi_swaps_only_the_chart(as_director, org):
    response = as_director.get(f"{URL}?chart={org.churn.pk}", headers={**HX, "HX-Target": "rollup-trend"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="rollup-trend"')
    assert "<html" not in body
    assert 'id="scorecard-title"' not in body
    assert "Trend: Churn rate" in body


# ------------------------------------------------------------------ htmx regions


@pytest.mark.parametrize(
    ("target", "first"),
    [("rollups-results", '<div id="rollups-results"'), ("rollups-body", '<div id="rollups-body"')],
)
def test_htmx_gets_only_the_region_it_targets(as_director, target, first):
    response = as_director.get(f"{URL}?grain=quarter", headers={**HX, "HX-Target": target})
    body = response.content.decode()
    assert body.lstrip().startswith(first)
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_the_filter_form_swaps_the_results_and_pushes_the_url(as_director):
    page = as_director.get(URL).content.decode()
    form = re.search(r'<form id="rollup-filters".*?>', page, re.S).group(0)
    assert 'method="get"' in form
    assert 'hx-target="#rollups-results"' in form
    assert 'hx-push-url="true"' in form
    dimension = re.search(r'<select name="dimension".*?>', page, re.S).group(0)
    assert 'hx-target="#rollups-body"' in dimension  # the key list changes with the dimension
    assert 'hx-params="not portfolio,stage,market,focus,owner"' in dimension  # the old key is dropped


def test_a_history_restore_gets_the_whole_page(as_director):
    response = as_director.get(
        URL, headers={**HX, "HX-Target": "rollups-results", "HX-History-Restore-Request": "true"}
    )
    assert b"<html" in response.content


# ------------------------------------------------------------------ freshness


def test_the_page_says_when_the_rollups_were_computed(as_director):
    response = as_director.get(URL)
    tag = region(response, "rollup-freshness")
    assert "hx-trigger" not in tag  # fresh: nothing to poll
    assert "Computed at" in text(response)


def test_while_a_recompute_is_pending_the_region_says_so_and_polls_itself(as_director):
    StaleRollup.objects.create()
    response = as_director.get(f"{URL}?grain=quarter")
    tag = region(response, "rollup-freshness")
    assert 'hx-trigger="every 2s"' in tag
    assert 'hx-get="/portfolio/rollups/?grain=quarter"' in tag
    assert "Recomputing…" in text(response)
    poll = as_director.get(f"{URL}?grain=quarter", headers={**HX, "HX-Target": "rollup-freshness"})
    assert poll.content.decode().lstrip().startswith('<p id="rollup-freshness"')
    assert 'hx-trigger="every 2s"' in poll.content.decode()
    assert "HX-Trigger" not in poll.headers


def test_the_poll_that_finds_the_rollups_fresh_stops_and_reloads_the_scorecard(as_director):
    poll = as_director.get(URL, headers={**HX, "HX-Target": "rollup-freshness"})
    body = poll.content.decode()
    assert "every 2s" not in body  # polling stops
    assert "Computed at" in body
    assert poll.headers["HX-Trigger"] == "rollups-fresh"
    results = region(as_director.get(URL), "rollups-results")
    assert 'hx-trigger="rollups-fresh from:body"' in results  # the scorecard listens and reloads itself


# ------------------------------------------------------------------ drill-down


def drill(client, org, headers=None, **params):
    query = {
        "kpi": org.revenue.pk,
        "scope": "organisation",
        "key": "all",
        "grain": "month",
        "period": "2026-11-01",
    }
    query.update(params)
    return client.get(CELL, query, headers=headers or {})


def test_the_drill_down_lists_the_products_worst_gap_first(as_director, org):
    response = drill(as_director, org)
    products = response.context["drilldown"].products
    assert [(p.slug, p.value, p.target, p.gap, p.status) for p in products] == [
        ("alpha-one", 150.0, 300.0, 150.0, "off_target"),
        ("beta-one", 330.0, 360.0, 30.0, "at_risk"),  # its own target: 120 a week, 3 weeks
        ("alpha-two", 300.0, 300.0, 0.0, "on_target"),
    ]
    page = text(response)
    assert page.index("Alpha One") < page.index("Beta One") < page.index("Alpha Two")
    assert 'href="/products/alpha-one/"' in page
    assert "short by €150" in page


def test_the_drill_down_products_add_up_to_the_rollup(as_director, org):
    drilldown = drill(as_director, org, scope="portfolio", key="alpha").context["drilldown"]
    assert drilldown.rollup.value == pytest.approx(drilldown.combined_value) == 450.0
    assert [p.slug for p in drilldown.products] == ["alpha-one", "alpha-two"]


def test_a_lower_is_better_gap_is_how_far_above_target(as_director, org):
    Measurement.objects.filter(kpi=org.churn, product__slug="beta-one").update(value=7.0)
    drilldown = drill(as_director, org, kpi=org.churn.name).context["drilldown"]
    worst = drilldown.products[0]
    assert (worst.slug, worst.gap, worst.status) == ("beta-one", pytest.approx(2.0), "off_target")


def test_the_drill_down_is_a_region_for_htmx_and_a_page_without(as_director, org):
    partial = drill(as_director, org, headers={**HX, "HX-Target": "rollup-cell"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<section id="rollup-cell"')
    assert "<html" not in body
    assert "HX-Request" in partial["Vary"]
    page = drill(as_director, org)
    assert b"<html" in page.content
    assert b"Back to the scorecard" in page.content


def test_any_day_of_the_period_finds_the_cell(as_director, org):
    drilldown = drill(as_director, org, period="2026-11-20").context["drilldown"]
    assert drilldown.period == dt.date(2026, 11, 1)
    assert len(drilldown.products) == 3


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kpi": "Velocity"}, "“Velocity” is not a KPI name or id."),
        ({"scope": "team"}, "“team” is not a scope"),
        ({"grain": "week"}, "“week” is not a grain"),
        ({"period": "soon"}, "Enter a date as YYYY-MM-DD."),
        ({"key": "alpha"}, "only key is “all”."),
    ],
)
def test_a_broken_drill_down_link_says_what_is_wrong(as_director, org, params, message):
    response = drill(as_director, org, **params)
    assert response.status_code == 400
    assert message in text(response)


# ------------------------------------------------------------------ queries


@pytest.mark.parametrize(
    "path",
    [
        URL,
        f"{URL}?dimension=owner&grain=native",
        f"{URL}?dimension=stage&stage=mvp&grain=quarter",
        f"{CELL}?kpi=Revenue&scope=portfolio&key=beta&grain=month&period=2026-11-01",
    ],
)
def test_queries_do_not_grow_with_products_and_measurements(client, org, django_assert_max_num_queries, path):
    client.force_login(org.director)
    counts = []
    for extra in (0, 40):
        if extra:
            add_products(org, extra)
        with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_the_dashboards_kpi_tiles_link_to_the_rollups_of_the_same_scope(as_director):
    page = as_director.get("/?stage=mvp").content.decode()
    assert page.count('class="tile__value tile__link" href="/portfolio/rollups/?stage=mvp"') == 3
    rollups = as_director.get("/portfolio/rollups/?stage=mvp")
    assert [c.label for c in rollups.context["scorecard"].columns] == ["Organisation", "MVP"]


def test_without_data_what_changed_says_there_is_no_data_not_that_nothing_got_worse(client_as_pm):
    """Observation 3 of issue 14: the same green tick showed when there was no data at all."""
    page = text(client_as_pm.get(URL))
    assert "No data for this period: there is nothing to compare yet." in page
    assert "No KPI got worse" not in page


def test_the_drill_down_shows_what_changed_the_cell_and_sorts_by_it(as_director, org):
    """Observation 3 of issue 14: which products caused a change could not be read off. Organisation revenue,
    per week: 780 / 3 = 260 in November against 1,240 / 4 = 310 in October, -50. Each product's share:
    alpha-one 150/3 - 480/4 = -70, alpha-two 100 - 100 = 0, beta-one 110 - 90 = +20."""
    response = drill(as_director, org, sort="change")
    drilldown = response.context["drilldown"]
    assert [(p.slug, p.previous, p.contribution) for p in drilldown.products] == [
        ("alpha-one", 480.0, pytest.approx(-70.0)),
        ("alpha-two", 400.0, pytest.approx(0.0)),
        ("beta-one", 360.0, pytest.approx(20.0)),
    ]
    assert sum(p.contribution for p in drilldown.products) == pytest.approx(780 / 3 - 1240 / 4)
    assert [p.slug for p in drilldown.top_movers] == ["alpha-one"]
    page = text(response)
    assert "Moved it most the worse way since Oct 2026" in page
    assert (
        '<span class="btn btn--sm btn--primary" aria-current="true">What changed it most first</span>' in page
    )
    # The default order stays the gap to target; the other order is a link that keeps the cell.
    default = drill(as_director, org)
    assert [p.slug for p in default.context["drilldown"].products] == ["alpha-one", "beta-one", "alpha-two"]
    assert "sort=change" in text(default)


def test_the_product_that_sets_a_maximum_carries_the_whole_change(as_director, org):
    # Churn is an average across products; as a maximum, the worst product sets it.
    type(org.churn).objects.filter(pk=org.churn.pk).update(aggregation="max")
    Measurement.objects.filter(kpi=org.churn, product__slug="beta-one", period__in=NOVEMBER).update(value=6.0)
    drilldown = drill(as_director, org, kpi=org.churn.name, sort="change").context["drilldown"]
    setter = next(p for p in drilldown.products if p.sets_value)
    assert (setter.slug, setter.contribution) == ("beta-one", pytest.approx(2.0))  # max 4 -> 6
    assert all(p.contribution == 0 for p in drilldown.products if not p.sets_value)


def test_an_unknown_order_is_refused_with_a_message(as_director, org):
    response = drill(as_director, org, sort="loudest")
    assert response.status_code == 400
    assert "“loudest” is not an order (gap, change or forecast)." in text(response)
