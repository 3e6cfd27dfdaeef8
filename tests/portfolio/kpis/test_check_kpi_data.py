"""``manage.py check_kpi_data`` lists stored data that breaks the rules and changes none of it."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from portfolio.models import KPI, KPITarget, Measurement
from portfolio.periods import period_start
from tests.factories import KPIFactory, KPITargetFactory, MeasurementFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_valid_data_passes():
    MeasurementFactory(kpi=KPIFactory(name="Retention", unit="%"), value=45, period=dt.date(2026, 3, 2))
    out = StringIO()
    call_command("check_kpi_data", stdout=out, stderr=StringIO())
    assert "Every stored value, target and period is valid." in out.getvalue()


def test_each_broken_rule_is_listed_with_examples_and_nothing_changes():
    product = ProductFactory(slug="ledger")
    retention = KPIFactory(name="Retention", unit="%", default_target=45)
    # Written past the rules (a bulk load, data from before them): the command is how they are found.
    next_week = period_start(timezone.localdate(), "weekly") + dt.timedelta(weeks=26)
    Measurement.objects.bulk_create(
        [
            Measurement(product=product, kpi=retention, period=dt.date(2026, 3, 2), value=150),
            Measurement(product=product, kpi=retention, period=next_week, value=40),
            Measurement(product=product, kpi=retention, period=dt.date(2026, 3, 9), value=44),
        ]
    )
    KPITarget.objects.bulk_create([KPITarget(product=product, kpi=retention, target=250)])
    churn = KPIFactory(name="Churn", unit="%", default_target=2.5)
    KPI.objects.filter(pk=churn.pk).update(default_target=8000)
    KPITargetFactory(kpi=KPIFactory(name="Fine", unit="€"), target=10)
    before = sorted(Measurement.objects.values_list("value", flat=True))

    out = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("check_kpi_data", stdout=out, stderr=StringIO())
    text = out.getvalue()
    assert failure.value.returncode == 1
    assert str(failure.value).startswith("4 problems in 2 KPIs: nothing was changed.")
    assert (
        "Retention (valid: 0% to 100%): 1 values outside the range, 1 in periods that have not begun, "
        "1 product targets outside the range." in text
    )
    assert "ledger, the week of 2 Mar 2026: 150 (150 is not a possible value of Retention" in text
    assert f"ledger, the week of {next_week:%-d %b %Y}: 40 (The week of" in text
    assert "ledger, target 250 (250 is not a possible target of Retention" in text
    assert "Churn (valid: 0% to 100%): 0 values" in text
    assert "and its default target" in text
    assert "Fine" not in text
    assert sorted(Measurement.objects.values_list("value", flat=True)) == before


def test_the_demo_portfolio_keeps_every_rule(settings):
    settings.SPM_DEMO_PASSWORD = "demo-password-for-tests"
    call_command("seed_demo", products=8, months=2, seed=3, verbosity=0)
    out = StringIO()
    call_command("check_kpi_data", stdout=out, stderr=StringIO())
    assert "Every stored value, target and period is valid." in out.getvalue()
