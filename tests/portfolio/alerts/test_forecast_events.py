"""A KPI forecast to miss its quarter's target (issues 17 and 16): each recompute's forecasts report the
product's KPIs that are more likely than not to miss, once per quarter, to the product's people."""

import datetime as dt

import pytest

from portfolio.choices import EventKind
from portfolio.kpis.engine import rollups_recompute_all
from portfolio.kpis.services import measurement_record
from portfolio.models import Notification, ProductForecast, ReportedEvent
from products.choices import Role
from tests.factories import PortfolioFactory, ProductFactory, UserFactory, summed_kpi, weekly_measurements

pytestmark = pytest.mark.django_db

LAST = dt.date(2026, 11, 30)  # a Monday of Q4 2026, in the past


@pytest.fixture
def world():
    director = UserFactory(username="dora", role=Role.DIRECTOR)
    owner = UserFactory(username="olga", role=Role.PM)
    portfolio = PortfolioFactory(name="Payments", director=director)
    revenue = summed_kpi("Revenue")  # a target of 100 a week: 1,300 a quarter
    lagging = ProductFactory(name="Atlas", slug="atlas", portfolio=portfolio, owner=owner)
    thriving = ProductFactory(name="Beacon", slug="beacon", portfolio=portfolio, owner=owner)
    weekly_measurements(lagging, revenue, [40 + (i % 5) for i in range(40)], last=LAST)
    weekly_measurements(thriving, revenue, [130 + (i % 5) for i in range(40)], last=LAST)
    return {
        "owner": owner,
        "director": director,
        "revenue": revenue,
        "lagging": lagging,
        "thriving": thriving,
    }


def misses_heard_by(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind=EventKind.FORECAST_MISS).values_list(
            "sentence", flat=True
        )
    )


def test_a_kpi_forecast_to_miss_its_quarter_is_told_to_the_products_people(world):
    rollups_recompute_all()
    forecast = ProductForecast.objects.get(
        product=world["lagging"], kpi=world["revenue"], grain="quarter", horizon=0
    )
    assert forecast.p_on_target < 0.5
    [sentence] = misses_heard_by(world["owner"])
    assert sentence.startswith("Atlas's Revenue is forecast to miss its Q4 2026 target: ")
    assert "against €1,300" in sentence
    assert sentence.endswith("chance of making it.")
    note = Notification.objects.get(recipient=world["owner"], kind=EventKind.FORECAST_MISS)
    assert note.url == f"/products/atlas/#trend-{world['revenue'].pk}"
    assert note.why == "You own Atlas."
    assert misses_heard_by(world["director"]) == [sentence]  # Beacon is on course: nothing about it


def test_a_miss_found_again_by_the_next_recompute_is_not_news(world):
    rollups_recompute_all()
    rollups_recompute_all()
    measurement_record(product=world["lagging"], kpi=world["revenue"], period=LAST, value=41)
    rollups_recompute_all()
    assert len(misses_heard_by(world["owner"])) == 1
    assert ReportedEvent.objects.filter(key__startswith="forecast_miss:").count() == 1


def test_a_kpi_that_falls_behind_is_told_when_it_does(world):
    rollups_recompute_all()
    assert not any("Beacon" in s for s in misses_heard_by(world["owner"]))
    # Beacon's latest weeks collapse: its quarter is now more likely than not to miss.
    for weeks_ago in range(0, 9):
        measurement_record(
            product=world["thriving"],
            kpi=world["revenue"],
            period=LAST - dt.timedelta(weeks=weeks_ago),
            value=5,
        )
    rollups_recompute_all()
    assert any(s.startswith("Beacon's Revenue is forecast to miss") for s in misses_heard_by(world["owner"]))
