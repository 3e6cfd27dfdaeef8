"""A portfolio's KPI cell getting worse (the director view's question, "which KPIs got worse, where"): each
recompute's rollups tell the portfolio's leadership once per change, after the status has held for
``SPM_ALERT_HOLD_PERIODS`` periods."""

import datetime as dt

import pytest

from portfolio.choices import EventKind
from portfolio.kpis.engine import rollups_recompute_all
from portfolio.kpis.services import measurement_record
from portfolio.models import Notification
from products.choices import Role
from tests.factories import PortfolioFactory, ProductFactory, UserFactory, summed_kpi, weekly_measurements

pytestmark = pytest.mark.django_db

LAST = dt.date(2026, 11, 30)


@pytest.fixture
def world():
    director = UserFactory(username="dora", role=Role.DIRECTOR)
    vp = UserFactory(username="vera", role=Role.VP)
    owner = UserFactory(username="olga", role=Role.PM)
    portfolio = PortfolioFactory(name="Payments", slug="payments", director=director)
    revenue = summed_kpi("Revenue")  # 100 a week, 10 % tolerance
    atlas = ProductFactory(name="Atlas", slug="atlas", portfolio=portfolio, owner=owner)
    weekly_measurements(atlas, revenue, [100] * 10, last=LAST - dt.timedelta(weeks=1))
    rollups_recompute_all()
    return {"director": director, "vp": vp, "owner": owner, "revenue": revenue, "atlas": atlas}


def told(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, kind=EventKind.KPI_WORSE).values_list(
            "sentence", flat=True
        )
    )


def test_a_cell_that_falls_off_target_tells_its_portfolios_leadership_once(world):
    assert told(world["director"]) == []  # on target throughout: nothing to say
    measurement_record(product=world["atlas"], kpi=world["revenue"], period=LAST, value=50)
    rollups_recompute_all()
    rollups_recompute_all()  # found again: not news
    expected = [
        "Revenue across the organisation is now Off target (was On target) in the week of 30 Nov 2026: "
        "€50 against €100.",
        "Revenue in the Payments portfolio is now Off target (was On target) in the week of 30 Nov 2026: "
        "€50 against €100.",
    ]
    assert sorted(told(world["director"])) == expected  # the portfolio's cell, and the organisation's
    assert sorted(told(world["vp"])) == expected
    assert told(world["owner"]) == []  # a PM hears of their product's health, not of the portfolio's cell
    note = Notification.objects.get(
        recipient=world["director"], kind=EventKind.KPI_WORSE, sentence__contains="Payments portfolio"
    )
    assert note.url.startswith(
        f"/portfolio/rollups/cell/?kpi={world['revenue'].pk}&scope=portfolio&key=payments"
    )
    assert note.why == "You direct the Payments portfolio."


def test_with_two_periods_of_hysteresis_a_one_week_dip_says_nothing(world, settings):
    settings.SPM_ALERT_HOLD_PERIODS = 2
    measurement_record(product=world["atlas"], kpi=world["revenue"], period=LAST, value=50)
    rollups_recompute_all()
    assert told(world["director"]) == []
    measurement_record(
        product=world["atlas"], kpi=world["revenue"], period=LAST + dt.timedelta(weeks=1), value=40
    )
    rollups_recompute_all()
    assert sorted(told(world["director"])) == [
        "Revenue across the organisation is now Off target (was On target) in the week of 7 Dec 2026: "
        "€40 against €100.",
        "Revenue in the Payments portfolio is now Off target (was On target) in the week of 7 Dec 2026: "
        "€40 against €100.",
    ]
