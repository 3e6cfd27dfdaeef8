"""The product page shows where each KPI's quarter is forecast to end (issue 16): on its card, with how the
forecast was made on demand, and on its trend chart as a band beyond the last point, in the chart's table too.

The world: weekly KPIs with 20 weeks of history up to Monday 16 Nov 2026, the seventh of Q4 2026's 13 weeks,
and the forecasts a rollup recompute stores (tests/portfolio/kpis/test_forecast_store.py)."""

import datetime as dt
import json
import re
from functools import partial
from html import unescape

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portfolio.choices import Grain, Horizon
from portfolio.kpis.engine import rollups_recompute_all
from portfolio.kpis.forecast.backtest import forecast_accuracy_store, forecast_backtest
from portfolio.models import ForecastAccuracy, Measurement, ProductForecast
from portfolio.templatetags.forecast_display import chance
from portfolio.templatetags.forecast_places import value_range
from portfolio.templatetags.rollup_display import kpi_compact
from products.choices import Role
from tests.factories import (
    KPIFactory,
    ProductFactory,
    UserFactory,
    summed_kpi,
    uptime_kpi,
    weekly_measurements,
)

pytestmark = pytest.mark.django_db

LATEST = dt.date(2026, 11, 16)
weekly = partial(weekly_measurements, last=LATEST)
WEEKS = 20
QUARTER_END_WEEK = dt.date(2026, 12, 28)  # Q4 2026's last week starts on Monday 28 Dec


def product_with_kpis(slug: str, kpis: int = 2):
    """A product with a weekly revenue (summed over time), a weekly uptime (averaged), and ``kpis - 2`` more."""
    product = ProductFactory(name=slug.title(), slug=slug, stage="mvp")
    revenue = summed_kpi(f"{slug} revenue")
    weekly(product, revenue, [80 + week * 2 + (week * 7) % 5 * 3 for week in range(WEEKS)])
    uptime = uptime_kpi(f"{slug} uptime")
    weekly(product, uptime, [99.5 - 0.1 * ((week * 7) % 3) for week in range(WEEKS)])
    for index in range(kpis - 2):
        extra = KPIFactory(name=f"{slug} extra {index}", default_target=50)
        weekly(product, extra, [40 + (week % 4) for week in range(WEEKS)])
    return product, revenue, uptime


def page(client: Client, product) -> str:
    return client.get(product.get_absolute_url()).content.decode()


def figures(html: str) -> dict[str, dict]:
    found = re.findall(r'<div id="figure-(\d+)" hidden>(.*?)</div>', html)
    return {pk: json.loads(unescape(text)) for pk, text in found}


def plain(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_each_kpi_card_shows_this_quarters_forecast_and_how_it_was_made(client_as_pm):
    product, revenue, uptime = product_with_kpis("checkout")
    rollups_recompute_all()
    row = ProductForecast.objects.get(
        product=product, kpi=revenue, grain=Grain.QUARTER, horizon=Horizon.CURRENT
    )
    assert (row.period, row.done, row.remaining) == (dt.date(2026, 10, 1), 7, 6)

    html = page(client_as_pm, product)

    card = html.split(f'href="#trend-{revenue.pk}"', 1)[1].split("</li>", 1)[0]
    text = plain(card)
    expected = (
        f"Q4 2026: forecast {kpi_compact(row.value, '€')} "
        f"({value_range(row.low_80, row.high_80, row.value)}) · "
        f"{chance(row.p_on_target)} chance on target"
    )
    assert expected in text
    assert "<details" in card
    assert "How this forecast was made" in text
    assert f"{row.history_used} weeks" in text  # the explanation: the history behind it
    assert row.target == 1300  # the quarter's target: 100 a week over its 13 weeks
    assert "Target €1,300 for the period" in text
    uptime_row = ProductForecast.objects.get(
        product=product, kpi=uptime, grain=Grain.QUARTER, horizon=Horizon.CURRENT
    )
    assert f"Q4 2026: forecast {kpi_compact(uptime_row.value, '%')}" in plain(html)


def test_each_kpi_card_shows_the_next_quarters_forecast_under_this_ones_or_why_there_is_none(client_as_pm):
    product, revenue, _uptime = product_with_kpis("checkout")
    long = ProductFactory(name="Wallet", slug="wallet", stage="mvp")
    weekly(long, revenue, [60 + week + (week * 7) % 5 for week in range(40)])
    rollups_recompute_all()

    card = plain(page(client_as_pm, product).split(f'href="#trend-{revenue.pk}"', 1)[1].split("</li>", 1)[0])
    # 20 weeks cannot back-test a forecast that ends 19 weeks after the last one.
    assert "Next · Q1 2027: no forecast. Not enough history to test a forecast this far ahead." in card
    assert "How the next quarter's forecast was made" not in card

    row = ProductForecast.objects.get(product=long, kpi=revenue, grain=Grain.QUARTER, horizon=Horizon.NEXT)
    card = plain(page(client_as_pm, long).split(f'href="#trend-{revenue.pk}"', 1)[1].split("</li>", 1)[0])
    assert f"Next · Q1 2027: forecast {kpi_compact(row.value, '€')} (" in card
    assert f"{chance(row.p_on_target)} chance on target" in card
    assert "How the next quarter's forecast was made" in card
    assert "Q1 2027 · 0 weeks recorded, 13 to come" in card


def test_how_a_forecast_was_made_quotes_its_kpis_measured_coverage_once_it_is_measured(client_as_pm):
    product, revenue, _uptime = product_with_kpis("checkout")
    rollups_recompute_all()

    def revenue_card() -> str:
        html = page(client_as_pm, product)
        return plain(html.split(f'href="#trend-{revenue.pk}"', 1)[1].split("</li>", 1)[0])

    assert "Coverage Not measured yet: manage.py forecast_backtest measures it" in revenue_card()
    forecast_accuracy_store(forecast_backtest(hidden=4), hidden=4)  # 20 weeks: 16 to forecast 4 from
    measured = ForecastAccuracy.objects.get(kpi=revenue)
    assert (
        f"Coverage Measured on this KPI on {measured.measured_at:%d %b %Y}: with the last 4 weeks of 1 series "
        f"hidden, {100 * measured.coverage_80:.0f} % fell inside their 80 % range and "
        f"{100 * measured.coverage_95:.0f} % inside their 95 % range (MAPE {measured.mape:.1f} %, "
        f"naive {measured.naive_mape:.1f} %)"
    ) in revenue_card()


def test_the_trend_chart_draws_the_forecast_beyond_the_last_point_for_the_weeks_to_come(client_as_pm):
    product, revenue, _uptime = product_with_kpis("checkout")
    rollups_recompute_all()
    row = ProductForecast.objects.get(
        product=product, kpi=revenue, grain=Grain.QUARTER, horizon=Horizon.CURRENT
    )
    values = list(
        Measurement.objects.filter(product=product, kpi=revenue)
        .order_by("period")
        .values_list("value", flat=True)
    )
    recorded = sum(values[-7:])  # Q4's seven weeks so far

    html = page(client_as_pm, product)

    traces = {trace["name"]: trace for trace in figures(html)[str(revenue.pk)]["data"]}
    assert {"forecast 95 % range", "forecast 80 % range", "forecast"} <= set(traces)
    line = traces["forecast"]  # the markers, which carry the words
    weeks = [(LATEST + dt.timedelta(weeks=n)).isoformat() for n in range(1, 7)]
    assert line["x"] == weeks
    assert weeks[-1] == QUARTER_END_WEEK.isoformat()
    # A sum KPI's chart plots weeks: the band is what the six weeks to come average if Q4 ends on the forecast.
    assert line["y"] == pytest.approx([(row.value - recorded) / 6] * 6)
    assert "Q4 2026 forecast" in line["hovertemplate"]
    assert "the 6 weeks to come average" in line["hovertemplate"]
    band = traces["forecast 95 % range"]
    assert max(band["y"]) == pytest.approx((row.high_95 - recorded) / 6)
    assert band["x"][0] == LATEST.isoformat()  # it starts at the last point
    # The chart's text equivalent: the caption and its table's rows.
    figure = html.split(f'id="trend-{revenue.pk}"', 1)[1].split("</figure>", 1)[0]
    assert "Beyond the last point: the Q4 2026 forecast (dashed)" in plain(figure)
    assert "Q4 2026 forecast" in plain(figure.split("<tfoot>", 1)[1])
    assert "6 weeks to come, average" in plain(figure)


def test_before_the_first_recompute_there_is_no_forecast_and_no_band(client_as_pm):
    product, _revenue, _ = product_with_kpis("checkout")
    html = page(client_as_pm, product)
    assert "How this forecast was made" not in html
    assert "forecast 95 % range" not in html
    assert len(figures(html)) == 2


def test_a_series_too_short_says_why_it_has_no_forecast(client_as_pm):
    product = ProductFactory(slug="tiny")
    kpi = KPIFactory(name="Tiny revenue")
    weekly(product, kpi, [50, 51, 52, 53, 54])
    rollups_recompute_all()
    text = plain(page(client_as_pm, product))
    assert "Q4 2026: no forecast. Not enough history: 5 values, 8 needed." in text
    assert "How this forecast was made" not in text


def test_everyone_who_sees_the_kpis_sees_the_forecasts_nobody_else(client):
    product, _revenue, _ = product_with_kpis("checkout")
    rollups_recompute_all()
    # KPIs are the whole portfolio's to see (products.permissions.can_view_product): any signed-in person, even a
    # junior on no product, sees the cards and so their forecasts.
    client.force_login(UserFactory(role=Role.JUNIOR_PM))
    assert "Q4 2026: forecast" in page(client, product)
    client.logout()
    response = client.get(product.get_absolute_url())
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert b"forecast" not in response.content


def test_the_forecasts_cost_one_query_whatever_the_number_of_kpis(client_as_pm):
    small, *_ = product_with_kpis("small", kpis=2)
    big, *_ = product_with_kpis("big", kpis=7)
    rollups_recompute_all()
    page(client_as_pm, small)  # warm the session
    counts = []
    for product in (small, big):
        with CaptureQueriesContext(connection) as queries:
            html = page(client_as_pm, product)
        assert html.count("How this forecast was made") == (2 if product is small else 7)
        forecast_queries = [q for q in queries if "portfolio_productforecast" in q["sql"]]
        assert len(forecast_queries) == 1
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 21


def test_a_forecasts_range_is_written_at_its_values_scale_with_the_unit_once():
    assert value_range(313_700, 329_600, 321_600) == "313.7k\N{EN DASH}329.6k"
    assert value_range(22.0e6, 26.3e6, 24.1e6) == "22.0M\N{EN DASH}26.3M"
    assert value_range(50.7, 52.26, 51.48) == "50.7\N{EN DASH}52.26"
    assert value_range(-3, 2, 1) == "\N{MINUS SIGN}3\N{EN DASH}2"
