"""The dashboard's forecast tile (issue 16): how many KPIs are forecast to miss this quarter in the tiles' scope
(the organisation, or the one portfolio, stage, market, focus or owner filtered to), linking to the director view
at quarter grain; one query, and none in the table's partial."""

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolio.choices import Grain, Horizon, Scope
from portfolio.kpis.engine import rollups_recompute_all
from portfolio.models import Measurement, ScopeForecast
from portfolio.templatetags.forecast_display import chance
from tests.factories import KPIFactory
from tests.product_tables import add_products, build_organisation

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
RESULTS = {**HX, "HX-Target": "dashboard-results"}
BODY = {**HX, "HX-Target": "dashboard-body"}
TABLE = {**HX, "HX-Target": "product-table"}
Q4 = dt.date(2026, 10, 1)


@pytest.fixture
def org():
    org = build_organisation()
    add_products(org, 4)
    return org


@pytest.fixture
def as_director(client, org):
    client.force_login(org.director)
    return client


def forecast(kpi, *, scope=Scope.ORGANISATION, key="all", status="on_target", p=0.9, value=100.0, reason=""):
    return ScopeForecast.objects.create(
        scope=scope,
        scope_key=key,
        kpi=kpi,
        grain=Grain.QUARTER,
        period=Q4,
        value=value,
        status=status if value is not None else "",
        p_on_target=p if value is not None else None,
        reason=reason,
        done=7,
        remaining=6,
        computed_at=timezone.now(),
    )


def tile(response) -> str:
    html = response.content.decode()
    found = re.search(r'<li class="tile tile--forecast[^"]*" id="forecast-tile">(.*?)</li>', html, re.S)
    assert found, "no forecast tile"
    return found.group(1)


def words(markup: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup))).strip()


def link(markup: str) -> str:
    return unescape(re.search(r'href="([^"]+)"', markup).group(1))


def test_the_tile_counts_the_kpis_forecast_to_miss_this_quarter_and_links_to_the_quarter_scorecard(
    as_director,
):
    forecast(KPIFactory(name="Churn"), status="off_target", p=0.62)  # ends off target, however likely
    forecast(KPIFactory(name="Signups"), status="at_risk", p=0.31)  # less than an even chance
    forecast(KPIFactory(name="NPS"), status="on_target", p=0.88)
    forecast(KPIFactory(name="Uptime"), status="no_target", p=None)  # no target: nothing to miss
    forecast(KPIFactory(name="New"), value=None, reason="Not enough history: 5 values, 8 needed.")
    forecast(KPIFactory(name="Elsewhere"), scope=Scope.PORTFOLIO, key="alpha", status="off_target", p=0.1)

    markup = tile(as_director.get("/"))

    text = words(markup)
    assert "Forecast · Q4 2026" in text
    assert "2 KPIs forecast to miss this quarter" in text
    # Worst chance first, each with its chance or why it misses.
    assert "Organisation-wide: Signups (31 % chance on target), Churn (62 % chance on target)" in text
    assert "of 4 KPIs with a forecast" in text
    assert "Elsewhere" not in text
    assert link(markup) == "/portfolio/rollups/?grain=quarter"


def test_a_portfolio_filter_counts_that_portfolios_forecasts_and_links_with_the_filter(as_director):
    churn = KPIFactory(name="Churn")
    forecast(churn, status="on_target", p=0.9)
    forecast(churn, scope=Scope.PORTFOLIO, key="alpha", status="off_target", p=0.05)
    forecast(churn, scope=Scope.PORTFOLIO, key="beta", status="on_target", p=0.95)

    markup = tile(as_director.get("/?portfolio=alpha", headers=RESULTS))

    assert "1 KPI forecast to miss this quarter" in words(markup)
    assert "Alpha portfolio: Churn (5 % chance on target)" in words(markup)
    url = link(markup)
    assert url == "/portfolio/rollups/?grain=quarter&portfolio=alpha"
    scorecard = as_director.get(url)
    assert scorecard.status_code == 200
    assert scorecard.context["form"].cleaned_or_default()["grain"] == Grain.QUARTER


def test_no_kpi_forecast_to_miss_says_so(as_director):
    forecast(KPIFactory(name="NPS"), status="on_target", p=0.7)
    text = words(tile(as_director.get("/")))
    assert "No KPI forecast to miss this quarter" in text
    assert "1 KPI with a forecast" in text


def test_before_any_recompute_the_tile_says_when_forecasts_appear(as_director):
    text = words(tile(as_director.get("/")))
    assert "Forecasts appear after the first rollup recompute" in text


def test_the_tile_reads_what_the_recompute_stored(as_director, org):
    # 14 weeks of the key KPI for each product (enough for a forecast), each a tenth of its target of 100 a
    # week, whatever the products' keys (the fixture's values depend on them, and PostgreSQL's keys vary).
    for measurement in Measurement.objects.filter(kpi=org.kpi):
        measurement.value = 10.0 + measurement.period.toordinal() % 3
        measurement.save(update_fields=["value"])
    rollups_recompute_all()
    stored = ScopeForecast.objects.get(
        scope=Scope.ORGANISATION, kpi=org.kpi, grain=Grain.QUARTER, horizon=Horizon.CURRENT
    )
    assert stored.value is not None
    assert stored.status == "off_target"
    markup = tile(as_director.get("/"))
    assert "1 KPI forecast to miss this quarter" in words(markup)
    assert f"Organisation-wide: Revenue ({chance(stored.p_on_target)} chance on target)" in words(markup)


def test_the_tile_is_one_query_and_the_table_partial_has_none(as_director):
    counts = []
    for kpis in (2, 20):
        for index in range(kpis):
            forecast(KPIFactory(), status="off_target" if index % 2 else "on_target", p=0.4)
        for headers, query in (({}, ""), (BODY, "?stage=mvp"), (RESULTS, "?portfolio=alpha")):
            with CaptureQueriesContext(connection) as queries:
                assert as_director.get(f"/{query}", headers=headers).status_code == 200
            assert sum("portfolio_scopeforecast" in q["sql"] for q in queries) == 1
        with CaptureQueriesContext(connection) as queries:
            as_director.get("/?sort=name&page=1", headers=TABLE)
        assert not any("portfolio_scopeforecast" in q["sql"] for q in queries)
        with CaptureQueriesContext(connection) as queries:
            as_director.get("/")
        counts.append(len(queries))
    assert counts[0] == counts[1]
