"""Recording a KPI value on the product page: values, targets and periods that cannot be true are refused on
every path (this page, the admin, the services), and a value already recorded is never silently replaced."""

import datetime as dt
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portfolio.kpis.services import measurement_record
from portfolio.models import KPI, KPITarget, Measurement
from portfolio.periods import period_start
from products.choices import Role
from tests.factories import KPIFactory, KPITargetFactory, MeasurementFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

CURRENT_WEEK = period_start(timezone.localdate(), "weekly")
LAST_WEEK = CURRENT_WEEK - dt.timedelta(days=7)


@pytest.fixture
def owner():
    return UserFactory(username="pat", first_name="Pat", last_name="Lee", role=Role.PM)


@pytest.fixture
def product(owner):
    return ProductFactory(slug="ledger", name="Ledger", owner=owner)


@pytest.fixture
def retention():
    return KPIFactory(name="30-day retention", unit="%", default_target=45.0)


def record(client, product, kpi, period, value, **extra):
    response = client.post(
        f"/products/{product.slug}/measurements/",
        {"kpi": kpi.pk, "period": str(period), "value": str(value), **extra},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    return unescape(response.content.decode())


# Observation 1: 150 % retention for a week six months ahead, churn of -5 %: both were accepted.


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (150, "150 is not a possible value of 30-day retention: it must be 0% to 100%."),
        (-5, "-5 is not a possible value of 30-day retention: it must be 0% to 100%."),
    ],
)
def test_a_percentage_outside_0_to_100_is_refused_and_nothing_is_written(
    client, owner, product, retention, value, message
):
    client.force_login(owner)
    page = record(client, product, retention, LAST_WEEK, value)
    assert message in page
    assert f'value="{value}"' in page  # the typed value stays in the form to be corrected
    assert not Measurement.objects.exists()


def test_a_week_that_has_not_begun_is_refused_and_this_week_to_date_is_accepted(
    client, owner, product, retention
):
    client.force_login(owner)
    future = CURRENT_WEEK + dt.timedelta(weeks=26)
    page = record(client, product, retention, future, 40)
    assert f"The week of {future:%-d %b %Y} has not begun" in page
    assert not Measurement.objects.exists()

    page = record(client, product, retention, CURRENT_WEEK, 40)
    assert f"Recorded 30-day retention = 40% for the week of {CURRENT_WEEK:%-d %b %Y}." in page
    assert Measurement.objects.get().period == CURRENT_WEEK


def test_a_kpi_that_may_go_below_zero_says_so_and_takes_negative_values(client, owner, product):
    nps = KPIFactory(
        name="Net Promoter Score", unit="NPS", frequency="monthly", min_value=-100, max_value=100
    )
    client.force_login(owner)
    assert "Recorded Net Promoter Score = -12 NPS" in record(client, product, nps, dt.date(2026, 10, 1), -12)
    assert "it must be -100 NPS to 100 NPS" in record(client, product, nps, dt.date(2026, 9, 1), -130)


def test_the_services_refuse_what_the_form_refuses_for_every_other_caller(product, retention):
    with pytest.raises(ValidationError) as refused:
        measurement_record(product=product, kpi=retention, period=LAST_WEEK, value=250)
    assert refused.value.message_dict == {
        "value": ["250 is not a possible value of 30-day retention: it must be 0% to 100%."]
    }
    with pytest.raises(ValidationError) as refused:
        measurement_record(product=product, kpi=retention, period=LAST_WEEK + dt.timedelta(days=2), value=40)
    assert "does not start a period" in refused.value.message_dict["period"][0]
    with pytest.raises(ValidationError):
        measurement_record(
            product=product, kpi=retention, period=CURRENT_WEEK + dt.timedelta(weeks=1), value=40
        )
    assert not Measurement.objects.exists()


# Observation 2: a value for a period that had one silently replaced it (5,183.61 -> 9,000).


def test_a_second_value_for_a_period_asks_before_replacing_and_says_whose_value_it_replaces(
    client, owner, product
):
    revenue = KPIFactory(name="Revenue", unit="€")
    colleague = UserFactory(username="sam", first_name="Sam", last_name="Roe")
    earlier = MeasurementFactory(
        product=product, kpi=revenue, period=LAST_WEEK, value=5183.61, recorded_by=colleague
    )
    client.force_login(owner)
    wednesday = LAST_WEEK + dt.timedelta(days=2)

    page = record(client, product, revenue, wednesday, 9000)
    when = timezone.localtime(earlier.recorded_at)
    assert (
        f"The week of {LAST_WEEK:%-d %b %Y} already has Revenue = €5,183.61, recorded by Sam Roe on "
        f"{when:%-d %b %Y at %H:%M}. Replace it with €9,000?"
    ) in page
    assert ">Replace</button>" in page
    assert Measurement.objects.get().value == 5183.61  # nothing changed yet

    token = f"{earlier.pk}:5183.61"
    assert f'name="replaces" value="{token}"' in page
    page = record(client, product, revenue, wednesday, 9000, replaces=token)
    assert "Recorded Revenue = €9,000 for the week of" in page
    assert Measurement.objects.get().value == 9000.0


def test_a_confirmation_for_a_value_that_changed_meanwhile_asks_again(client, owner, product):
    revenue = KPIFactory(name="Revenue", unit="€")
    earlier = MeasurementFactory(product=product, kpi=revenue, period=LAST_WEEK, value=100.0)
    stale_token = f"{earlier.pk}:100.0"
    Measurement.objects.filter(pk=earlier.pk).update(value=120.0)  # someone else corrected it
    client.force_login(owner)
    page = record(client, product, revenue, LAST_WEEK, 130, replaces=stale_token)
    assert "already has Revenue = €120" in page
    assert Measurement.objects.get().value == 120.0


def test_the_same_value_again_is_no_replacement(client, owner, product):
    revenue = KPIFactory(name="Revenue", unit="€")
    MeasurementFactory(product=product, kpi=revenue, period=LAST_WEEK, value=100.0)
    client.force_login(owner)
    assert "Recorded Revenue = €100" in record(client, product, revenue, LAST_WEEK, 100)


# The admin: a churn target of 8000 was accepted.


def test_the_admin_refuses_a_target_outside_the_kpis_range(admin_client, product):
    churn = KPIFactory(name="Churn rate", unit="%", direction="lower", default_target=2.5)
    target = KPITargetFactory(product=product, kpi=churn, target=3.0)
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": target.pk,
        "form-0-target": "8000",
        "form-0-version": target.version,
        "_save": "Save",
    }
    response = admin_client.post("/admin/portfolio/kpitarget/", data)
    assert response.status_code == 200
    assert "8000 is not a possible target of Churn rate: it must be 0% to 100%." in unescape(
        response.content.decode()
    )
    assert KPITarget.objects.get().target == 3.0


def test_the_admin_refuses_a_default_target_outside_the_range_and_bounds_the_wrong_way_round(admin_client):
    fields = {
        "name": "Churn rate",
        "unit": "%",
        "direction": "lower",
        "aggregation": "avg",
        "time_aggregation": "avg",
        "frequency": "weekly",
        "tolerance": "10",
        "targets-TOTAL_FORMS": "0",
        "targets-INITIAL_FORMS": "0",
    }
    response = admin_client.post("/admin/portfolio/kpi/add/", {**fields, "default_target": "8000"})
    assert "8000 is not a possible target of Churn rate: it must be 0% to 100%." in unescape(
        response.content.decode()
    )
    response = admin_client.post(
        "/admin/portfolio/kpi/add/", {**fields, "default_target": "2", "min_value": "50", "max_value": "10"}
    )
    assert "The minimum (50) must be below the maximum (10)." in unescape(response.content.decode())
    assert not KPI.objects.exists()


def test_the_admin_refuses_a_measurement_outside_the_range_or_in_a_future_period(
    admin_client, product, retention
):
    now = timezone.localtime()
    fields = {
        "product": product.pk,
        "kpi": retention.pk,
        "recorded_at_0": f"{now:%Y-%m-%d}",
        "recorded_at_1": f"{now:%H:%M:%S}",
    }
    response = admin_client.post(
        "/admin/portfolio/measurement/add/", {**fields, "period": str(LAST_WEEK), "value": "150"}
    )
    assert "150 is not a possible value of 30-day retention" in unescape(response.content.decode())
    future = CURRENT_WEEK + dt.timedelta(weeks=26)
    response = admin_client.post(
        "/admin/portfolio/measurement/add/", {**fields, "period": str(future), "value": "40"}
    )
    assert "has not begun" in unescape(response.content.decode())
    assert not Measurement.objects.exists()
