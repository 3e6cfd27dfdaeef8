"""Key results show their KPI's quarter forecast in the objective's scope (issue 16), with the chance against the
key result's own target, which may differ from the rollup's: one query for every key result."""

import datetime as dt
import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolio.choices import Grain, Scope, TimeAggregation
from portfolio.kpis.forecast.chance import chance_of_target
from portfolio.kpis.forecast.projection import Z_95
from portfolio.models import KeyResult, ScopeForecast
from portfolio.strategy.selectors.objectives import coverage
from portfolio.templatetags.forecast_display import chance
from products.models import Product
from tests.factories import KPIFactory, ObjectiveFactory
from tests.portfolio.strategy_data import build_world

Q4 = dt.date(2026, 10, 1)


@pytest.fixture
def world(db):
    world = build_world()
    # Conversion is a rate: a quarter's is the average of its weeks (the factory's default sums them).
    world.kpi.time_aggregation = TimeAggregation.AVG
    world.kpi.save(update_fields=["time_aggregation"])
    return world


def forecast(kpi, *, scope, key, value, spread, target, p_on_target, remaining=6):
    return ScopeForecast.objects.create(
        scope=scope,
        scope_key=key,
        kpi=kpi,
        grain=Grain.QUARTER,
        period=Q4,
        value=value,
        low_80=value - 1.2816 * spread,
        high_80=value + 1.2816 * spread,
        low_95=value - Z_95 * spread,
        high_95=value + Z_95 * spread,
        target=target,
        status="on_target",
        p_on_target=p_on_target,
        done=7,
        remaining=remaining,
        computed_at=timezone.now(),
    )


def words(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def key_result_text(html: str, title: str) -> str:
    item = html.split(f'<span class="kr__title">{title}</span>', 1)[1].split("</li>", 1)[0]
    return words(item)


def test_a_key_result_shows_the_forecast_and_the_chance_against_its_own_target(client, world):
    # Payments' conversion is forecast at 58 % for Q4; the rollup's target (50 %) is all but sure, the key
    # result's 60 % is not.
    row = forecast(
        world.kpi,
        scope=Scope.PORTFOLIO,
        key="payments",
        value=58.0,
        spread=2.0,
        target=50.0,
        p_on_target=0.9999,
    )
    forecast(
        world.kpi, scope=Scope.PORTFOLIO, key="growth", value=30.0, spread=2.0, target=50.0, p_on_target=0.0
    )
    client.force_login(world.director)

    text = key_result_text(client.get("/portfolio/objectives/").content.decode(), "Conversion to 60%")

    own = chance_of_target(value=58.0, high_95=row.high_95, target=60.0, direction="higher")
    assert own == pytest.approx(0.1587, abs=1e-3)  # 60 is one spread above 58
    assert "Q4 2026: forecast 58% (55.44\N{EN DASH}60.56) · 16 % chance on target" in text
    assert chance(row.p_on_target) not in text  # never the rollup target's chance


def test_an_organisation_wide_key_result_reads_the_organisation_forecast(world):
    KeyResult.objects.create(
        objective=world.org_objective, title="Org conversion", kpi=world.kpi, target=40.0
    )
    forecast(
        world.kpi, scope=Scope.ORGANISATION, key="all", value=45.0, spread=5.0, target=50.0, p_on_target=0.16
    )
    view = coverage(portfolio=None, products=Product.objects.all())
    org = next(v for v in view.objectives if v.objective == world.org_objective)
    (kr,) = org.key_results
    assert (kr.forecast.scope, kr.forecast.scope_key) == (Scope.ORGANISATION, "all")
    assert kr.forecast_chance == pytest.approx(0.8413, abs=1e-3)  # 40 is one spread below 45


def test_a_sum_kpis_key_result_target_is_weekly_so_the_quarter_needs_it_every_week(client, world):
    revenue = KPIFactory(name="Revenue", unit="€", time_aggregation=TimeAggregation.SUM, default_target=100)
    KeyResult.objects.create(objective=world.speed, title="Revenue 1,000 a week", kpi=revenue, target=1000.0)
    # Q4 2026 has 13 weeks (from Monday 5 Oct): the key result asks 13,000 for the quarter.
    forecast(revenue, scope=Scope.PORTFOLIO, key="payments", value=13000.0, spread=500.0, target=9000.0,
             p_on_target=1.0)  # fmt: skip
    client.force_login(world.director)

    text = key_result_text(client.get("/portfolio/objectives/").content.decode(), "Revenue 1,000 a week")

    assert "· 50 % chance on target (€13k for the quarter)" in text


def test_a_key_result_without_a_target_shows_the_forecast_without_a_chance(world):
    kr = KeyResult.objects.create(objective=world.reach, title="Watch conversion", kpi=world.kpi, target=None)
    forecast(
        world.kpi, scope=Scope.PORTFOLIO, key="payments", value=58.0, spread=2.0, target=50.0, p_on_target=0.9
    )
    view = coverage(portfolio=world.payments, products=Product.objects.all())
    shown = next(k for v in view.objectives for k in v.key_results if k.key_result.pk == kr.pk)
    assert shown.forecast is not None
    assert shown.forecast_chance is None


def test_the_forecasts_of_every_key_result_are_one_query(client, world, django_assert_max_num_queries):
    client.force_login(world.director)
    counts = []
    for extra in (1, 12):
        for index in range(extra):
            kpi = KPIFactory(name=f"KPI {extra}-{index}")
            objective = ObjectiveFactory(portfolio=world.payments if index % 2 else None)
            KeyResult.objects.create(objective=objective, title=f"KR {extra}-{index}", kpi=kpi, target=10.0)
            scope, key = (Scope.PORTFOLIO, "payments") if index % 2 else (Scope.ORGANISATION, "all")
            forecast(kpi, scope=scope, key=key, value=12.0, spread=1.0, target=10.0, p_on_target=0.97)
        with django_assert_max_num_queries(17), CaptureQueriesContext(connection) as queries:
            html = client.get("/portfolio/objectives/").content.decode()
        assert html.count('class="kr__forecast"') == (1 if extra == 1 else 13)
        assert sum("portfolio_scopeforecast" in q["sql"] for q in queries) == 1
        counts.append(len(queries))
    assert counts[0] == counts[1]
