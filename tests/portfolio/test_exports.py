"""The director view's CSV contracts: /portfolio/rollups/, /portfolio/kpis/ and /portfolio/measurements/
with ?format=csv. Outside checks read these files: exact headers, full-precision numbers, one name per KPI."""

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.test.utils import CaptureQueriesContext

from portfolio.kpis.exports import ROLLUP_COLUMNS, rollup_csv_rows
from portfolio.models import Measurement, Rollup
from spm.csvfiles import writer
from tests.factories import KPIFactory, RollupFactory
from tests.portfolio.director_data import build_director_org

pytestmark = pytest.mark.django_db

ROLLUPS = "/portfolio/rollups/?format=csv"
KPIS = "/portfolio/kpis/?format=csv"
MEASUREMENTS = "/portfolio/measurements/?format=csv"
ROLLUP_HEADER = (
    "scope,scope_key,kpi,grain,period,value,target,status,products,computed_at,native_periods,"
    "native_periods_in_bucket,forecast,forecast_low_80,forecast_high_80,forecast_low_95,forecast_high_95,"
    "p_on_target"
)
KPI_HEADER = "kpi,unit,direction,aggregation,time_aggregation,target,tolerance,frequency"
MEASUREMENT_HEADER = "product,kpi,period,value,target"


@pytest.fixture
def org():
    return build_director_org()


@pytest.fixture
def as_pm(client_as_pm, org):
    return client_as_pm


def download(client, url: str) -> tuple[StreamingHttpResponse, str, list[dict[str, str]]]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content).decode()
    return response, body, list(csv.DictReader(io.StringIO(body)))


# ------------------------------------------------------------------ the three files


@pytest.mark.parametrize(
    ("url", "header", "name"),
    [
        (ROLLUPS, ROLLUP_HEADER, "rollups"),
        (KPIS, KPI_HEADER, "kpis"),
        (MEASUREMENTS, MEASUREMENT_HEADER, "measurements"),
    ],
)
def test_each_csv_is_a_streamed_attachment_with_its_contract_header(as_pm, url, header, name):
    response, body, _ = download(as_pm, url)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="{name}-')
    assert body.splitlines()[0] == header


def test_every_rollup_row_without_filters(as_pm):
    _, _, rows = download(as_pm, ROLLUPS)
    assert len(rows) == Rollup.objects.count()
    alpha = next(
        r
        for r in rows
        if (r["scope"], r["scope_key"], r["kpi"], r["grain"], r["period"])
        == ("portfolio", "alpha", "Revenue", "month", "2026-11-01")
    )
    assert (float(alpha["value"]), float(alpha["target"]), alpha["status"], alpha["products"]) == (
        450.0,
        600.0,
        "off_target",
        "2",
    )
    assert alpha["computed_at"].startswith("20")  # ISO 8601, with its time zone
    assert alpha["computed_at"].endswith("+00:00")
    # November 2026 holds five weekly periods (its Mondays 2 to 30), all begun: its value per week is 450 / 5.
    assert (alpha["native_periods"], alpha["native_periods_in_bucket"]) == ("5", "5")


def test_a_bucket_to_date_says_how_many_of_its_periods_have_begun(db):
    kpi = KPIFactory(name="Sign-ups", frequency="weekly")
    RollupFactory(
        kpi=kpi, scope="organisation", scope_key="all", grain="quarter", period=dt.date(2026, 10, 1)
    )
    RollupFactory(
        kpi=kpi, scope="organisation", scope_key="all", grain="native", period=dt.date(2026, 11, 30)
    )
    rows = list(
        rollup_csv_rows(
            Rollup.objects.order_by("grain"),
            kpi_names={kpi.pk: kpi.name},
            kpi_frequencies={kpi.pk: kpi.frequency},
            today=dt.date(2026, 11, 30),
        )
    )
    # Q4 2026 to 30 Nov: nine of its thirteen Mondays (5 Oct to 28 Dec) have begun; a week is one period of itself.
    named = [dict(zip(ROLLUP_COLUMNS, row, strict=True)) for row in rows]
    assert [(row["grain"], row["native_periods"], row["native_periods_in_bucket"]) for row in named] == [
        ("native", 1, 1),
        ("quarter", 9, 13),
    ]


def test_kpi_definitions(as_pm):
    _, _, rows = download(as_pm, KPIS)
    by_name = {row["kpi"]: row for row in rows}
    assert by_name["Churn rate"] == {
        "kpi": "Churn rate",
        "unit": "%",
        "direction": "lower",
        "aggregation": "avg",
        "time_aggregation": "avg",
        "target": "5.0",
        "tolerance": "20.0",
        "frequency": "weekly",
    }
    assert by_name["Share of thirds"]["target"] == ""  # no default target: an empty cell


def test_measurements_carry_the_effective_target(as_pm, org):
    _, _, rows = download(as_pm, MEASUREMENTS)
    assert len(rows) == Measurement.objects.count()
    revenue = {(r["product"], r["period"]): r for r in rows if r["kpi"] == "Revenue"}
    assert revenue[("alpha-one", "2026-11-02")]["target"] == "100.0"  # the KPI's default
    assert revenue[("beta-one", "2026-11-02")]["target"] == "120.0"  # the product's own
    assert revenue[("beta-one", "2026-11-02")]["value"] == "110.0"
    thirds = next(r for r in rows if r["kpi"] == "Share of thirds")
    assert thirds["target"] == ""


def test_numbers_are_written_at_full_precision(as_pm, org):
    _, _, measurements = download(as_pm, MEASUREMENTS)
    third = next(r for r in measurements if r["kpi"] == "Share of thirds")
    assert third["value"] == repr(1 / 3)
    assert float(third["value"]) == 1 / 3  # round-trips exactly
    _, _, rollups = download(as_pm, f"{ROLLUPS}&kpi=Share+of+thirds&scope=organisation")
    assert {float(r["value"]) for r in rollups} == {1 / 3}


def test_kpi_names_are_identical_across_the_three_files(as_pm, org):
    names = {}
    for url in (ROLLUPS, KPIS, MEASUREMENTS):
        _, _, rows = download(as_pm, url)
        names[url] = {row["kpi"] for row in rows}
    assert (
        names[ROLLUPS] == names[KPIS] == names[MEASUREMENTS] == {"Revenue", "Churn rate", "Share of thirds"}
    )


def test_a_formula_in_a_kpi_name_is_defused_the_same_way_in_every_file(as_pm, org):
    org.churn.name = "=HYPERLINK(1)"
    org.churn.save(update_fields=["name"])
    for url in (ROLLUPS, KPIS, MEASUREMENTS):
        _, _, rows = download(as_pm, url)
        assert "'=HYPERLINK(1)" in {row["kpi"] for row in rows}, url


# ------------------------------------------------------------------ rollup filters


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("scope=portfolio&scope_key=alpha", {("portfolio", "alpha")}),
        ("portfolio=alpha", {("portfolio", "alpha")}),
        ("stage=mvp", {("stage", "mvp")}),
        ("market=b2c", {("market", "b2c")}),
        ("focus=engineering", {("focus", "engineering")}),
        ("owner=olga", {("owner", "olga")}),
        ("scope=organisation", {("organisation", "all")}),
    ],
)
def test_rollups_filtered_by_scope(as_pm, query, expected):
    _, _, rows = download(as_pm, f"{ROLLUPS}&{query}")
    assert rows
    assert {(r["scope"], r["scope_key"]) for r in rows} == expected


def test_rollups_filtered_by_kpi_grain_and_period_range(as_pm, org):
    _, _, rows = download(
        as_pm, f"{ROLLUPS}&kpi=Revenue&grain=month&period_from=2026-11-01&period_to=2026-11-30"
    )
    assert {(r["kpi"], r["grain"], r["period"]) for r in rows} == {("Revenue", "month", "2026-11-01")}
    assert len(rows) == Rollup.objects.filter(kpi=org.revenue, grain="month", period="2026-11-01").count()
    _, _, by_id = download(as_pm, f"{ROLLUPS}&kpi={org.revenue.pk}&grain=month&period_from=2026-11-01")
    assert by_id == rows  # a KPI id works as well as its name


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("grain=weekly", "“weekly” is not a grain"),
        ("scope=team", "“team” is not a scope"),
        ("kpi=Velocity", "“Velocity” is not a KPI name or id."),
        ("stage=launch", "“launch” is not a lifecycle stage."),
        ("portfolio=nope", "“nope” is not a portfolio."),
        ("period_from=yesterday", "Enter a date as YYYY-MM-DD."),
        ("period_from=2026-11-01&period_to=2026-10-01", "The end of the range is before its start."),
        ("stage=mvp&market=b2b", "each rollup row has a single scope"),
        ("stage=mvp&scope=market", "stage=mvp means scope=stage, but scope=market was given."),
        ("portfolio=alpha&scope_key=beta", "portfolio=alpha means scope_key=alpha"),
    ],
)
def test_invalid_rollup_filters_are_a_400_with_the_reason(as_pm, query, reason):
    response = as_pm.get(f"{ROLLUPS}&{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert reason in response.content.decode()


# ------------------------------------------------------------------ measurement filters


def test_measurements_filtered_by_product_kpi_and_period(as_pm, org):
    _, _, rows = download(as_pm, f"{MEASUREMENTS}&product=beta-one&kpi=Revenue&period_from=2026-11-01")
    assert [(r["product"], r["kpi"], r["period"]) for r in rows] == [
        ("beta-one", "Revenue", "2026-11-02"),
        ("beta-one", "Revenue", "2026-11-09"),
        ("beta-one", "Revenue", "2026-11-16"),
    ]
    _, _, by_id = download(
        as_pm, f"{MEASUREMENTS}&product=beta-one&kpi={org.revenue.pk}&period_from=2026-11-01"
    )
    assert by_id == rows


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("product=nope", "No product has the slug “nope”."),
        ("kpi=Velocity", "“Velocity” is not a KPI name or id."),
        ("period_to=2026-02-30", "Enter a date as YYYY-MM-DD."),
    ],
)
def test_invalid_measurement_filters_are_a_400_with_the_reason(as_pm, query, reason):
    response = as_pm.get(f"{MEASUREMENTS}&{query}")
    assert response.status_code == 400
    assert reason in response.content.decode()


# ------------------------------------------------------------------ streaming


@pytest.mark.parametrize("url", [ROLLUPS, MEASUREMENTS])
def test_rows_are_read_from_the_database_while_the_response_is_sent(as_pm, url):
    with CaptureQueriesContext(connection) as before_sending:
        response = as_pm.get(url)
    table = "portfolio_rollup" if url == ROLLUPS else "portfolio_measurement"
    assert not [q for q in before_sending.captured_queries if f'FROM "{table}"' in q["sql"]]
    with CaptureQueriesContext(connection) as while_sending:
        lines = b"".join(response.streaming_content).decode().splitlines()
    assert [q for q in while_sending.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert len(lines) > 1


def test_an_export_is_sent_in_chunks_of_many_lines(as_pm, monkeypatch):
    monkeypatch.setattr(writer, "LINES_PER_CHUNK", 10)
    response = as_pm.get(MEASUREMENTS)
    chunks = [chunk.decode() for chunk in response.streaming_content]
    lines = "".join(chunks).splitlines()
    assert len(lines) == Measurement.objects.count() + 1
    assert len(chunks) == -(-len(lines) // 10)  # ten lines a chunk, the rest in the last
    assert all(chunk.count("\r\n") == 10 for chunk in chunks[:-1])
