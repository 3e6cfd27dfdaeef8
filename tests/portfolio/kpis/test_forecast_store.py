"""Stored forecasts (portfolio.kpis.forecast.store): every product series and every rollup scope forecast for the
KPI's current period, written with the rollups, consistent across breakdowns, and a reason where there is none.

The world: weekly KPIs, history of 20 weeks up to Monday 16 Nov 2026 (November's third week; the quarter's
seventh of 13: Q4 2026 started on 1 Oct, whose weeks start 5 Oct). Payments has Checkout and Wallet, Growth has
Ads; Tiny has only five weeks (too short), Gone stopped in September.
"""

import datetime as dt
import math
from functools import partial

import pytest

from portfolio.choices import Grain, Horizon, Scope
from portfolio.kpis.engine import rollups_recompute, rollups_recompute_all
from portfolio.kpis.forecast.projection import Forecast, forecast_period
from portfolio.kpis.services import measurement_record
from portfolio.models import KPITarget, Measurement, ProductForecast, ScopeForecast
from products.models import Product
from tests.factories import (
    PortfolioFactory,
    ProductFactory,
    UserFactory,
    summed_kpi,
    uptime_kpi,
    weekly_measurements,
)

LATEST = dt.date(2026, 11, 16)
weekly = partial(weekly_measurements, last=LATEST)
WEEKS = 20


@pytest.fixture
def world(db):
    owner = UserFactory(username="owner")
    payments = PortfolioFactory(name="Payments", slug="payments")
    growth = PortfolioFactory(name="Growth", slug="growth")
    products = {
        name: ProductFactory(name=name, slug=name.lower(), portfolio=portfolio, owner=owner, stage="mvp")
        for name, portfolio in (
            ("Checkout", payments),
            ("Wallet", payments),
            ("Ads", growth),
            ("Tiny", growth),
            ("Gone", growth),
        )
    }
    revenue = summed_kpi("Revenue")
    uptime = uptime_kpi("Uptime")
    for index, name in enumerate(("Checkout", "Wallet", "Ads")):
        weekly(products[name], revenue, [80 + index * 10 + week * (1 + index) for week in range(WEEKS)])
        weekly(products[name], uptime, [99.5 - index * 0.3 + 0.1 * ((week * 7) % 3) for week in range(WEEKS)])
    weekly(products["Tiny"], revenue, [50, 51, 52, 53, 54])
    weekly(products["Gone"], revenue, [70 + week for week in range(12)], last=dt.date(2026, 9, 7))
    KPITarget.objects.create(product=products["Ads"], kpi=revenue, target=150)
    rollups_recompute_all()
    return products, revenue, uptime


def product_forecast(product, kpi, grain):
    return ProductForecast.objects.get(product=product, kpi=kpi, grain=grain, horizon=Horizon.CURRENT)


def scope_forecast(scope, key, kpi, grain):
    return ScopeForecast.objects.get(
        scope=scope, scope_key=key, kpi=kpi, grain=grain, horizon=Horizon.CURRENT
    )


def test_a_products_quarter_forecast_is_its_own_series_forecast_with_the_quarters_target(world):
    products, revenue, _ = world
    row = product_forecast(products["Checkout"], revenue, Grain.QUARTER)
    assert row.period == dt.date(2026, 10, 1)
    # Q4 2026: weeks of 5 Oct .. 28 Dec (13); 5 Oct .. 16 Nov recorded (7), 23 Nov .. 28 Dec to come (6).
    assert (row.done, row.remaining) == (7, 6)
    assert row.target == 100 * 13  # the weekly default target, over the quarter's 13 weeks
    values = list(Measurement.objects.filter(product=products["Checkout"], kpi=revenue).order_by("period"))
    expected = forecast_period(
        history=[m.value for m in values],
        done=7,
        remaining=6,
        time_aggregation="sum",
        target=1300,
        direction="higher",
        tolerance=10,
        season=52,
    )
    assert isinstance(expected, Forecast)
    assert row.value == pytest.approx(expected.value)
    assert row.low_95 == pytest.approx(expected.low_95)
    assert row.p_on_target == pytest.approx(expected.p_on_target)
    assert row.method == expected.method
    assert row.low_95 <= row.low_80 <= row.value <= row.high_80 <= row.high_95


def next_forecast(product, kpi, grain):
    return ProductForecast.objects.get(product=product, kpi=kpi, grain=grain, horizon=Horizon.NEXT)


def test_the_next_quarter_is_projected_past_the_rest_of_this_one(world):
    products, revenue, _ = world
    checkout = products["Checkout"]
    Measurement.objects.filter(product=checkout, kpi=revenue).delete()
    weekly(checkout, revenue, [60 + week + (week * 7) % 5 * 2 for week in range(40)])  # 40 weeks to 16 Nov
    rollups_recompute_all()
    row = next_forecast(checkout, revenue, Grain.QUARTER)
    # Q1 2027: weeks of 4 Jan .. 29 Mar (13), none recorded, after the 6 weeks left of Q4 (23 Nov .. 28 Dec).
    assert row.period == dt.date(2027, 1, 1)
    assert (row.done, row.remaining) == (0, 13)
    assert row.target == 1300
    values = list(Measurement.objects.filter(product=checkout, kpi=revenue).order_by("period"))
    expected = forecast_period(
        history=[m.value for m in values],
        done=0,
        remaining=13,
        time_aggregation="sum",
        target=1300,
        direction="higher",
        tolerance=10,
        season=52,
        ahead=6,
    )
    assert isinstance(expected, Forecast)
    assert row.value == pytest.approx(expected.value)
    assert row.high_95 == pytest.approx(expected.high_95)
    assert row.p_on_target == pytest.approx(expected.p_on_target)
    assert row.method == expected.method
    assert row.value == pytest.approx(13 * (99 + 13 + 4), rel=0.1)  # its trend went on, 7 to 19 weeks ahead
    current = product_forecast(checkout, revenue, Grain.QUARTER)  # 7 of 13 weeks in, 6 to come
    assert row.high_95 - row.low_95 > current.high_95 - current.low_95  # 13 weeks unknown, further out
    nexts = ProductForecast.objects.filter(kpi=revenue, grain=Grain.QUARTER, horizon=Horizon.NEXT)
    organisation = ScopeForecast.objects.get(
        scope=Scope.ORGANISATION, scope_key="all", kpi=revenue, grain=Grain.QUARTER, horizon=Horizon.NEXT
    )
    assert organisation.period == dt.date(2027, 1, 1)
    assert organisation.value == pytest.approx(sum(r.value for r in nexts if r.value is not None))
    assert "stopped" in nexts.get(product=products["Gone"]).reason
    # The next month is shown nowhere, so it is not computed.
    assert not ProductForecast.objects.filter(grain=Grain.MONTH, horizon=Horizon.NEXT).exists()
    assert not ScopeForecast.objects.filter(grain=Grain.MONTH, horizon=Horizon.NEXT).exists()


def test_the_next_quarter_needs_history_to_test_a_forecast_that_far_ahead(world):
    products, revenue, _ = world
    # Q1 2027 (4 Jan .. 29 Mar) ends 19 weeks after the last value: 20 weeks leave no backtest of that reach.
    row = next_forecast(products["Checkout"], revenue, Grain.QUARTER)
    assert row.period == dt.date(2027, 1, 1)
    assert row.value is None
    assert row.reason == "Not enough history to test a forecast this far ahead."


def test_a_scopes_sum_forecast_adds_up_its_products_and_the_portfolios_add_up_the_organisation(world):
    products, revenue, _ = world
    rows = {
        name: product_forecast(products[name], revenue, Grain.QUARTER)
        for name in ("Checkout", "Wallet", "Ads")
    }
    organisation = scope_forecast(Scope.ORGANISATION, "all", revenue, Grain.QUARTER)
    payments = scope_forecast(Scope.PORTFOLIO, "payments", revenue, Grain.QUARTER)
    growth = scope_forecast(Scope.PORTFOLIO, "growth", revenue, Grain.QUARTER)
    assert payments.value == pytest.approx(rows["Checkout"].value + rows["Wallet"].value)
    assert organisation.value == pytest.approx(payments.value + growth.value)
    assert organisation.products == 3  # Tiny (too short) and Gone (stopped) have no forecast to add
    assert organisation.target == 1300 + 1300 + 150 * 13  # the targets of the products it combines
    assert growth.target == 150 * 13  # Ads' own target
    assert 0 <= organisation.p_on_target <= 1
    # Independent errors: the sum's spread is the root of the squares of its products'.
    spread = math.sqrt(sum(((r.high_95 - r.value) / 1.96) ** 2 for r in rows.values()))
    assert (organisation.high_95 - organisation.value) / 1.96 == pytest.approx(spread)


def test_a_min_kpi_takes_the_lowest_product_forecast_and_its_range_is_simulated_the_same_each_time(world):
    products, _, uptime = world
    rows = [product_forecast(products[name], uptime, Grain.MONTH) for name in ("Checkout", "Wallet", "Ads")]
    cell = scope_forecast(Scope.ORGANISATION, "all", uptime, Grain.MONTH)
    assert cell.value == pytest.approx(min(row.value for row in rows))
    assert cell.low_95 <= cell.low_80 <= cell.high_80 <= cell.high_95
    first = (cell.low_95, cell.high_95, cell.p_on_target)
    rollups_recompute_all()
    cell = scope_forecast(Scope.ORGANISATION, "all", uptime, Grain.MONTH)
    assert (cell.low_95, cell.high_95, cell.p_on_target) == first


def test_a_short_or_stopped_series_gets_a_reason_not_a_number(world):
    products, revenue, _ = world
    tiny = product_forecast(products["Tiny"], revenue, Grain.QUARTER)
    assert tiny.value is None
    assert tiny.status == ""
    assert tiny.reason == "Not enough history: 5 values, 8 needed."
    gone = product_forecast(products["Gone"], revenue, Grain.MONTH)
    assert gone.value is None
    assert gone.reason == "No value since 07 Sep 2026: the series has stopped."


def test_no_stored_number_is_nan_or_infinite(world):
    products, revenue, _ = world
    # A constant series and a huge outlier typed into another.
    weekly(ProductFactory(slug="flat", portfolio=products["Ads"].portfolio), revenue, [100.0] * WEEKS)
    weekly(
        ProductFactory(slug="typo", portfolio=products["Ads"].portfolio),
        revenue,
        [100.0] * 10 + [1e9] + [100.0] * 9,
    )
    rollups_recompute_all()
    fields = ["value", "low_80", "high_80", "low_95", "high_95", "p_on_target", "p_within_tolerance"]
    for model in (ProductForecast, ScopeForecast):
        for row in model.objects.values_list(*fields, "backtest_error", "needed_per_period"):
            assert all(v is None or math.isfinite(v) for v in row)
    flat = ProductForecast.objects.get(
        product__slug="flat", kpi=revenue, grain=Grain.QUARTER, horizon=Horizon.CURRENT
    )
    assert flat.value == pytest.approx(100 * 13)


def test_a_new_measurement_moves_the_forecasts_with_the_rollups(world, settings):
    products, revenue, _ = world
    before = product_forecast(products["Checkout"], revenue, Grain.QUARTER)
    measurement_record(product=products["Checkout"], kpi=revenue, period=dt.date(2026, 11, 23), value=500)
    rollups_recompute(kpi_ids=[revenue.pk], periods=[dt.date(2026, 11, 23)])
    after = product_forecast(products["Checkout"], revenue, Grain.QUARTER)
    assert (after.done, after.remaining) == (8, 5)
    assert after.value > before.value + 300  # the 500 is in the quarter now
    assert after.computed_at > before.computed_at


def test_a_product_moved_to_another_stage_moves_its_forecast_between_the_stage_cells(world):
    products, revenue, _ = world
    ads = product_forecast(products["Ads"], revenue, Grain.QUARTER)
    mvp_before = scope_forecast(Scope.STAGE, "mvp", revenue, Grain.QUARTER)
    Product.objects.filter(pk=products["Ads"].pk).update(stage="feedback")  # as a stage move leaves it
    rollups_recompute(scope=Scope.STAGE, scope_keys=["mvp", "feedback"])
    mvp_after = scope_forecast(Scope.STAGE, "mvp", revenue, Grain.QUARTER)
    feedback = scope_forecast(Scope.STAGE, "feedback", revenue, Grain.QUARTER)
    assert mvp_after.value == pytest.approx(mvp_before.value - ads.value)
    assert feedback.value == pytest.approx(ads.value)
    assert feedback.products == 1


def _stored(model):
    fields = [
        "value",
        "low_80",
        "high_95",
        "target",
        "p_on_target",
        "status",
        "done",
        "remaining",
        "products",
    ]
    if model is ProductForecast:
        fields = [*fields[:-1], "method", "history_used"]
        key = ("product_id", "kpi_id", "grain", "horizon")
    else:
        key = ("scope", "scope_key", "kpi_id", "grain", "horizon")
    return {row[: len(key)]: row[len(key) :] for row in model.objects.values_list(*key, *fields)}


@pytest.mark.parametrize("kpi_name", ["Revenue", "Uptime"])  # a sum, and a simulated min
def test_a_measurement_redoes_its_products_forecast_and_the_scopes_exactly_as_a_full_recompute(
    world, django_capture_on_commit_callbacks, kpi_name
):
    products, revenue, uptime = world
    revenue = revenue if kpi_name == "Revenue" else uptime
    before = product_forecast(products["Wallet"], revenue, Grain.MONTH)
    untouched = product_forecast(products["Ads"], revenue, Grain.MONTH)
    with django_capture_on_commit_callbacks(execute=True):  # the refresh runs after commit, eagerly
        measurement_record(
            product=products["Wallet"], kpi=revenue, period=LATEST, value=10 if kpi_name == "Uptime" else 900
        )
    after = product_forecast(products["Wallet"], revenue, Grain.MONTH)
    assert after.value != pytest.approx(before.value)  # 16 Nov's value moved far from its series
    assert product_forecast(products["Ads"], revenue, Grain.MONTH).computed_at == untouched.computed_at
    incremental = (_stored(ProductForecast), _stored(ScopeForecast))
    rollups_recompute_all()
    full = (_stored(ProductForecast), _stored(ScopeForecast))
    for got, expected in zip(incremental, full, strict=True):
        assert got.keys() == expected.keys()
        for key, values in expected.items():
            assert _close(got[key], values), key


def _close(got, expected) -> bool:
    return all(
        g == e or (isinstance(g, float) and isinstance(e, float) and math.isclose(g, e, rel_tol=1e-9))
        for g, e in zip(got, expected, strict=True)
    )
