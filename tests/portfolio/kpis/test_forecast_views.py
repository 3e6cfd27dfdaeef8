"""Forecasts where directors decide (issue 16): the scorecard cell's second line, the drill-down's forecast with
its explanation and the order "Most likely to miss first", and the rollup CSV's forecast columns.

The world: weekly revenue (a sum across products and over time, €100 a week each) for 20 weeks up to Monday
16 Nov 2026, the seventh of Q4's 13 weeks and November's third of five. Payments has Checkout and Wallet, Growth
has Ads and Tiny; Tiny (the only product in research) has five weeks, too few to forecast.
"""

import csv
import datetime as dt
import html
import io
import math
import re
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio.choices import Grain, Horizon, Scope
from portfolio.kpis.engine import rollups_recompute_all
from portfolio.models import Measurement, ProductForecast, ScopeForecast
from tests.factories import (
    KPIFactory,
    PortfolioFactory,
    ProductFactory,
    UserFactory,
    summed_kpi,
    weekly_measurements,
)

pytestmark = pytest.mark.django_db

URL = "/portfolio/rollups/"
CELL = "/portfolio/rollups/cell/"
LATEST = dt.date(2026, 11, 16)
weekly = partial(weekly_measurements, last=LATEST)
Q4 = dt.date(2026, 10, 1)
WEEKS = 20
DASH = "\N{EN DASH}"
NOISE = [0, 6, -4, 9, -7, 3, -9, 5, -2, 8, -6, 2, -8, 7, -3, 4, -5, 9, -1, 1]  # the weeks' ups and downs


@pytest.fixture
def world(db, client):
    owner = UserFactory(username="owner")
    payments = PortfolioFactory(name="Payments", slug="payments")
    growth = PortfolioFactory(name="Growth", slug="growth")
    revenue = summed_kpi("Revenue")
    products = {}
    for name, portfolio, stage, values in (
        ("Checkout", payments, "mvp", [88 + week + NOISE[week] for week in range(WEEKS)]),  # climbing past it
        ("Wallet", payments, "mvp", [99 + NOISE[-1 - week] for week in range(WEEKS)]),  # around it
        ("Ads", growth, "mvp", [108 - week + NOISE[week] for week in range(WEEKS)]),  # falling away from it
        ("Tiny", growth, "research", [50, 51, 52, 53, 54]),
    ):
        products[name] = ProductFactory(
            name=name, slug=name.lower(), portfolio=portfolio, owner=owner, stage=stage
        )
        weekly(products[name], revenue, values)
    rollups_recompute_all()
    client.force_login(UserFactory(username="dora"))
    return client, products, revenue


def text(page: str) -> str:
    """What a reader sees: the words without the tags."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def scorecard_cell_html(page: str, key: str) -> str:
    """The first scorecard cell (the first KPI's) of a scope key, as HTML."""
    match = re.search(rf'<td class="scorecard__cell[^"]*"><a[^>]*key={key}&[^>]*>.*?</td>', page, re.S)
    assert match, key
    return match.group(0)


def euros(value: float) -> str:
    return f"{value:,.0f}"


def chance(probability: float) -> str:
    """A chance as a reader takes it: never 0 % or 100 % for a forecast."""
    if probability < 0.01:
        return "< 1 %"
    return "> 99 %" if probability > 0.99 else f"{probability * 100:.0f} %"


def expected_line(forecast) -> str:
    """The cell's second line worked out from the stored row: values in the low thousands of euros."""
    assert 1000 <= forecast.low_80 < forecast.high_80 < 10_000
    return (
        f"forecast €{euros(forecast.value)} ({euros(forecast.low_80)}{DASH}{euros(forecast.high_80)})"
        f" · {chance(forecast.p_on_target)} chance on target"
    )


def scope_forecast(scope, key, kpi, grain=Grain.QUARTER):
    return ScopeForecast.objects.get(
        scope=scope, scope_key=key, kpi=kpi, grain=grain, horizon=Horizon.CURRENT
    )


# ------------------------------------------------------------------ the scorecard


def test_each_cell_shows_the_forecast_of_its_quarter_as_a_second_line(world):
    client, _, revenue = world
    page = client.get(URL, {"grain": "quarter"}).content.decode()
    shown = {}
    for key in ("all", "payments", "growth"):
        scope = Scope.ORGANISATION if key == "all" else Scope.PORTFOLIO
        forecast = scope_forecast(scope, key, revenue)
        assert forecast.period == Q4
        cell = scorecard_cell_html(page, key)
        assert expected_line(forecast) in text(cell), key
        shown[key] = text(cell)
        # Under the measured value, inside the cell's link to its drill-down (the explanation is there).
        assert text(cell).index("target €") < text(cell).index("forecast €")
        assert 'class="scorecard__forecast"' in cell
    # The organisation is about even on its Q4 target (€3,900, the drill-down says); Payments is safely ahead,
    # Growth falls short.
    assert re.search(r"\b[1-9]\d? % chance on target", shown["all"])
    assert "> 99 % chance on target" in shown["payments"]
    assert "< 1 % chance on target" in shown["growth"]


def test_the_month_has_its_own_forecast_and_the_native_grain_none(world):
    client, _, revenue = world
    month = client.get(URL, {"grain": "month"}).content.decode()
    assert expected_line(scope_forecast(Scope.PORTFOLIO, "payments", revenue, Grain.MONTH)) in text(
        scorecard_cell_html(month, "payments")
    )
    native = client.get(URL, {"grain": "native"}).content.decode()
    assert "scorecard__forecast" not in native
    assert "chance on target" not in native


def test_a_complete_period_or_an_earlier_one_shows_no_forecast_line(world):
    client, products, revenue = world
    # Two more weeks: November (Mondays 2 to 30) is complete, Q4 still has four weeks to come.
    for name in ("Checkout", "Wallet", "Ads"):
        for week in (dt.date(2026, 11, 23), dt.date(2026, 11, 30)):
            Measurement.objects.create(product=products[name], kpi=revenue, period=week, value=100)
    rollups_recompute_all()
    month = client.get(URL, {"grain": "month"}).content.decode()
    assert scope_forecast(Scope.ORGANISATION, "all", revenue, Grain.MONTH).remaining == 0
    assert "scorecard__forecast" not in month
    quarter = client.get(URL, {"grain": "quarter"}).content.decode()
    assert "chance on target" in text(scorecard_cell_html(quarter, "all"))
    # A range that ends before Q4 shows Q3: measured, no forecast of it.
    earlier = client.get(URL, {"grain": "quarter", "period_to": "2026-09-30"}).content.decode()
    assert "scorecard__forecast" not in earlier


# ------------------------------------------------------------------ the drill-down


def drill(client, revenue, **params):
    query = {
        "kpi": revenue.pk,
        "scope": "organisation",
        "key": "all",
        "grain": "quarter",
        "period": "2026-11-16",
    }
    query.update(params)
    response = client.get(CELL, query)
    assert response.status_code == 200
    return response


def test_the_drill_down_opens_with_the_cells_forecast_and_how_it_was_made(world):
    client, _, revenue = world
    response = drill(client, revenue)
    forecast = scope_forecast(Scope.ORGANISATION, "all", revenue)
    page = response.content.decode()
    top = text(page[page.index('class="drilldown__forecast"') : page.index("</details>")])
    assert expected_line(forecast) in top  # the scorecard cell's line, in full
    assert f"80 %: €{euros(forecast.low_80)}{DASH}€{euros(forecast.high_80)}" in top
    assert "How this forecast was made" in top
    assert "combined from its products' forecasts" in top
    assert "3 with a forecast" in top  # Tiny has none
    assert f"{euros(forecast.target)} for the period" in top
    assert re.search(r"<details[^>]*>\s*<summary>How this forecast was made</summary>", page)


def test_each_product_row_shows_its_forecast_range_and_chance(world):
    client, products, revenue = world
    page = drill(client, revenue).content.decode()
    for name in ("Checkout", "Wallet", "Ads"):
        forecast = ProductForecast.objects.get(
            product=products[name], kpi=revenue, grain=Grain.QUARTER, horizon=Horizon.CURRENT
        )
        row = re.search(rf"<tr>(?:(?!</tr>).)*>{name}</a>.*?</tr>", page, re.S).group(0)
        shown = text(row)
        assert f"€{euros(forecast.value)} ({euros(forecast.low_80)}{DASH}{euros(forecast.high_80)})" in shown
        assert f"{chance(forecast.p_on_target)}" in shown
    tiny = text(re.search(r"<tr>(?:(?!</tr>).)*>Tiny</a>.*?</tr>", page, re.S).group(0))
    assert "Not enough history: 5 values, 8 needed." in tiny


def test_most_likely_to_miss_first_lists_the_lowest_chance_first_and_products_without_a_forecast_last(world):
    client, products, revenue = world
    chances = {
        name: ProductForecast.objects.get(
            product=products[name], kpi=revenue, grain=Grain.QUARTER, horizon=Horizon.CURRENT
        ).p_on_target
        for name in ("Checkout", "Wallet", "Ads")
    }
    expected = [*sorted(chances, key=chances.get), "Tiny"]
    assert expected[0] == "Ads"  # falling away from its target
    assert len(set(chances.values())) == 3
    default = drill(client, revenue).content.decode()
    assert re.search(
        r'<a class="btn btn--sm" href="[^"]*sort=forecast[^"]*">Most likely to miss first</a>', default
    )
    response = drill(client, revenue, sort="forecast")
    assert [p.name for p in response.context["drilldown"].products] == expected
    page = response.content.decode()
    table = text(page[page.index("<tbody>") : page.index("</tbody>")])
    positions = [table.index(f" {name} ") for name in expected]
    assert positions == sorted(positions)
    assert re.search(r'aria-current="true">Most likely to miss first<', page)
    assert "by their chance of ending the period on target, the lowest first" in page


@pytest.mark.parametrize(
    ("scope", "key"), [("organisation", "all"), ("portfolio", "payments"), ("stage", "mvp")]
)
def test_the_products_forecasts_add_up_to_the_cells(world, scope, key):
    client, _, revenue = world
    drilldown = drill(client, revenue, scope=scope, key=key).context["drilldown"]
    listed = [p.forecast.value for p in drilldown.products if p.forecast and p.forecast.value is not None]
    assert len(listed) >= 2
    assert sum(listed) == pytest.approx(drilldown.forecast.value)
    assert drilldown.forecast.products == len(listed)
    assert drilldown.unlisted_forecasts == 0


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (
            {"period": "2026-08-03"},
            "No forecast: Only the KPI's current quarter, Q4 2026, is forecast; Q3 2026 is not.",
        ),
        (
            {"grain": "native"},
            "No forecast: Only months and quarters are forecast: choose one of them as the grain.",
        ),
        ({"scope": "stage", "key": "research"}, "No forecast: Not enough history: 5 values, 8 needed."),
        (
            {"scope": "stage", "key": "execution"},
            "No forecast: No product of Execution has a history of Revenue",
        ),
    ],
)
def test_a_cell_without_a_forecast_is_a_page_that_says_why(world, params, reason):
    client, _, revenue = world
    page = text(drill(client, revenue, **params).content.decode())
    assert reason in page
    assert "How this forecast was made" not in page


def test_a_kpi_without_any_history_says_so(world):
    client, _, _ = world
    silent = KPIFactory(name="Sign-ups")
    page = text(drill(client, silent).content.decode())
    assert "No forecast: No product of Organisation has a history of Sign-ups to forecast from." in page


# ------------------------------------------------------------------ the CSV

FORECAST_COLUMNS = ["forecast", "forecast_low_80", "forecast_high_80", "forecast_low_95", "forecast_high_95"]


def test_the_csv_fills_the_forecast_columns_for_the_current_periods_rows_only(world):
    client, _, revenue = world
    response = client.get(URL, {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    header = list(rows[0])
    assert header[-6:] == [*FORECAST_COLUMNS, "p_on_target"]
    assert header[:12] == [
        "scope",
        "scope_key",
        "kpi",
        "grain",
        "period",
        "value",
        "target",
        "status",
        "products",
        "computed_at",
        "native_periods",
        "native_periods_in_bucket",
    ]
    current = {"quarter": "2026-10-01", "month": "2026-11-01"}
    filled = [row for row in rows if row["forecast"]]
    assert filled
    for row in rows:
        if row["grain"] == "native" or row["period"] != current[row["grain"]]:
            assert all(row[name] == "" for name in [*FORECAST_COLUMNS, "p_on_target"]), row
    for row in filled:
        assert row["period"] == current[row["grain"]]
        numbers = [float(row[name]) for name in FORECAST_COLUMNS]
        assert all(math.isfinite(number) for number in numbers)
        low_95, low_80, value, high_80, high_95 = (numbers[3], numbers[1], numbers[0], numbers[2], numbers[4])
        assert low_95 <= low_80 <= value <= high_80 <= high_95
        assert 0 <= float(row["p_on_target"]) <= 1
    payments = next(
        row
        for row in filled
        if (row["scope"], row["scope_key"], row["grain"]) == ("portfolio", "payments", "quarter")
    )
    stored = scope_forecast(Scope.PORTFOLIO, "payments", revenue)
    assert float(payments["forecast"]) == stored.value  # full precision, as the other numbers
    assert float(payments["forecast_low_95"]) == stored.low_95
    assert float(payments["p_on_target"]) == stored.p_on_target
    # A key without a forecast (research: Tiny alone) has its row, its forecast columns empty.
    research = next(
        row
        for row in rows
        if (row["scope"], row["scope_key"], row["grain"], row["period"])
        == ("stage", "research", "quarter", "2026-10-01")
    )
    assert research["forecast"] == research["p_on_target"] == ""


def test_the_csv_filters_apply_to_the_forecast_columns_too(world):
    client, _, _ = world
    response = client.get(URL, {"format": "csv", "scope": "portfolio", "grain": "month"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {(row["scope"], row["grain"]) for row in rows} == {("portfolio", "month")}
    assert {row["scope_key"] for row in rows if row["forecast"]} == {"payments", "growth"}


# ------------------------------------------------------------------ queries


@pytest.mark.parametrize(
    "query",
    [
        (URL, {"grain": "quarter"}),
        (URL, {"grain": "month", "dimension": "stage"}),
        (CELL, {"scope": "organisation", "key": "all", "grain": "quarter", "period": "2026-11-16"}),
        (
            CELL,
            {
                "scope": "portfolio",
                "key": "growth",
                "grain": "month",
                "period": "2026-11-16",
                "sort": "forecast",
            },
        ),
    ],
)
def test_queries_do_not_grow_with_more_products(world, django_assert_max_num_queries, query):
    client, products, revenue = world
    path, params = query
    if path == CELL:
        params = {**params, "kpi": revenue.pk}
    counts = []
    for extra in (0, 30):
        for index in range(extra):
            product = ProductFactory(
                slug=f"extra-{index}", portfolio=products["Ads"].portfolio, owner=products["Ads"].owner
            )
            weekly(product, revenue, [90 + index + week for week in range(WEEKS)])
        if extra:
            rollups_recompute_all()
        with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as queries:
            response = client.get(path, params)
            assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert "chance on target" in response.content.decode()
