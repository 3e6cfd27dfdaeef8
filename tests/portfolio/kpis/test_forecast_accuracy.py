"""The forecasts' published accuracy (portfolio.kpis.forecast.accuracy, manage.py forecast_backtest): hide a
series' last periods, forecast them, and report the error against naive and the intervals' measured coverage,
stored per KPI (portfolio.kpis.forecast.backtest) for each forecast's explanation to quote."""

import datetime as dt
import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from portfolio.choices import Frequency, TimeAggregation
from portfolio.kpis.forecast.accuracy import SeriesCheck, check_series, kpi_accuracy
from portfolio.kpis.forecast.backtest import forecast_accuracy_store, forecast_backtest
from portfolio.kpis.tasks import forecast_accuracy_measure
from portfolio.models import ForecastAccuracy, Measurement
from tests.factories import KPIFactory, ProductFactory


def test_a_trend_is_forecast_better_than_naive_and_inside_its_intervals():
    values = [100.0 + 10 * week for week in range(24)]
    check = check_series(values, hidden=8, time_aggregation=TimeAggregation.SUM, frequency=Frequency.WEEKLY)
    # The 8 hidden weeks sum to 2,360; naive says 8 x 250 = 2,000 (15.3 % short); drift gets it exactly.
    assert check.error == pytest.approx(0, abs=0.5)
    assert check.naive_error == pytest.approx(360 / 2360 * 100)
    assert (check.inside_80, check.inside_95) == (True, True)


def test_a_series_too_short_to_keep_eight_values_is_skipped():
    assert (
        check_series([1.0] * 12, hidden=8, time_aggregation=TimeAggregation.AVG, frequency="weekly") is None
    )


def test_per_kpi_figures_are_shares_of_the_series_checked():
    checks = [
        SeriesCheck(error=5, naive_error=10, inside_80=True, inside_95=True),
        SeriesCheck(error=20, naive_error=10, inside_80=False, inside_95=True),
        None,
    ]
    summary = kpi_accuracy("Revenue", checks)
    assert (summary.series, summary.skipped) == (2, 1)
    assert (summary.mape, summary.naive_mape) == (12.5, 10)
    assert (summary.at_least_naive, summary.coverage_80, summary.coverage_95) == (0.5, 0.5, 1.0)
    assert kpi_accuracy("Empty", [None]) is None


@pytest.mark.django_db
def test_the_command_prints_error_and_coverage_per_kpi():
    rng = random.Random(1)
    revenue = KPIFactory(name="Revenue", time_aggregation=TimeAggregation.SUM)
    for product in ProductFactory.create_batch(3):
        Measurement.objects.bulk_create(
            Measurement(
                product=product,
                kpi=revenue,
                period=dt.date(2026, 1, 5) + dt.timedelta(weeks=week),
                value=1_000 + 20 * week + rng.gauss(0, 15),
            )
            for week in range(30)
        )
    out = StringIO()
    call_command("forecast_backtest", "--hidden", "8", stdout=out, stderr=StringIO())
    lines = out.getvalue().splitlines()
    assert lines[0] == "Forecast of the last 8 periods of each series, from the ones before."
    row = next(line for line in lines if line.startswith("Revenue"))
    series, mape, naive = row.split()[1:4]
    assert series == "3"
    assert float(mape) < float(naive)  # a trend: the forecast beats "the last value stays"
    assert lines[-2].startswith("All")
    assert lines[-1] == "Stored for 1 KPIs: each forecast's explanation quotes its KPI's figures."
    stored = ForecastAccuracy.objects.get(kpi=revenue)
    assert (stored.series, stored.hidden) == (3, 8)
    assert f"{stored.mape:.1f}" == mape
    assert 0 <= stored.coverage_80 <= stored.coverage_95 <= 1


@pytest.mark.django_db
def test_a_dry_run_prints_the_figures_and_keeps_the_stored_ones():
    revenue = KPIFactory(name="Revenue", time_aggregation=TimeAggregation.SUM)
    product = ProductFactory()
    Measurement.objects.bulk_create(
        Measurement(product=product, kpi=revenue, period=dt.date(2026, 1, 5) + dt.timedelta(weeks=w), value=w)
        for w in range(30)
    )
    call_command("forecast_backtest", stdout=StringIO(), stderr=StringIO())
    first = ForecastAccuracy.objects.get(kpi=revenue).measured_at
    out = StringIO()
    call_command("forecast_backtest", "--dry-run", stdout=out, stderr=StringIO())
    assert out.getvalue().splitlines()[-1] == "Dry run: nothing stored."
    assert ForecastAccuracy.objects.get(kpi=revenue).measured_at == first


@pytest.mark.django_db
@pytest.mark.parametrize("arguments", [["--hidden", "0"], ["--products", "-1"]])
def test_impossible_arguments_are_refused_and_change_nothing(arguments):
    with pytest.raises(CommandError, match="must be"):
        call_command("forecast_backtest", *arguments, stdout=StringIO(), stderr=StringIO())
    assert not ForecastAccuracy.objects.exists()


@pytest.mark.django_db
def test_a_new_measure_replaces_the_last_and_a_kpi_without_long_series_has_none():
    revenue = KPIFactory(name="Revenue", time_aggregation=TimeAggregation.SUM)
    short = KPIFactory(name="Short")
    product = ProductFactory()
    for kpi, weeks in ((revenue, 30), (short, 30)):
        Measurement.objects.bulk_create(
            Measurement(product=product, kpi=kpi, period=dt.date(2026, 1, 5) + dt.timedelta(weeks=w), value=w)
            for w in range(weeks)
        )
    forecast_accuracy_store(forecast_backtest(), hidden=8)
    assert set(ForecastAccuracy.objects.values_list("kpi__name", flat=True)) == {"Revenue", "Short"}
    Measurement.objects.filter(kpi=short, period__gte=dt.date(2026, 3, 16)).delete()  # 10 weeks: too few
    forecast_accuracy_measure()  # the weekly beat task
    assert set(ForecastAccuracy.objects.values_list("kpi__name", flat=True)) == {"Revenue"}
