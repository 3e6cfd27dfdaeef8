"""The KPI definitions at /portfolio/kpis/ and the measurements list at /portfolio/measurements/."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio.models import Measurement, StaleRollup
from tests.factories import ProductFactory
from tests.portfolio.director_data import build_director_org

pytestmark = pytest.mark.django_db

KPIS = "/portfolio/kpis/"
MEASUREMENTS = "/portfolio/measurements/"
HX = {"HX-Request": "true"}


@pytest.fixture
def org():
    return build_director_org()


@pytest.fixture
def as_pm(client_as_pm, org):
    return client_as_pm


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def row_text(response, name: str) -> str:
    """The words of the table row whose heading links to ``name``."""
    html = response.content.decode()
    row = re.search(rf"<tr>\s*<th scope=\"row\"[^>]*>\s*<a[^>]*>{re.escape(name)}</a>.*?</tr>", html, re.S)
    assert row, name
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0))).strip()


# ------------------------------------------------------------------ KPI definitions


def test_the_kpi_page_lists_each_definition(as_pm):
    response = as_pm.get(KPIS)
    assert response.status_code == 200
    assert "<h1>KPI definitions</h1>" in text(response)
    churn = row_text(response, "Churn rate")
    for words in ("%", "Lower is better", "Average", "5%", "±20%", "Weekly"):
        assert words in churn, words
    revenue = row_text(response, "Revenue")
    for words in ("€", "Higher is better", "Sum", "€100", "±10%", "key KPI"):
        assert words in revenue, words
    assert 'aria-current="page">KPIs<' in text(response)


def test_the_kpi_page_shows_the_latest_organisation_status_in_words(as_pm):
    response = as_pm.get(KPIS)
    revenue = row_text(response, "Revenue")
    # the organisation's latest week: 50 + 100 + 110 against 100 + 100 + 120
    assert "Off target €260" in revenue
    assert "Week of 16 Nov 2026, target €320" in revenue
    thirds = row_text(response, "Share of thirds")
    assert "No target" in thirds
    assert "none" in thirds  # no default target


def test_each_kpi_links_to_its_trend_and_its_measurements(as_pm, org):
    page = as_pm.get(KPIS).content.decode()
    assert f'href="/portfolio/rollups/?chart={org.revenue.pk}"' in page
    assert f'href="/portfolio/measurements/?kpi={org.revenue.pk}"' in page
    assert 'href="/portfolio/kpis/?format=csv"' in page


def test_the_kpi_page_polls_while_a_recompute_is_pending(as_pm):
    StaleRollup.objects.create()
    page = as_pm.get(KPIS).content.decode()
    assert re.search(r'<p id="rollup-freshness"[^>]*hx-trigger="every 2s"', page, re.S)
    StaleRollup.objects.all().delete()
    fresh = as_pm.get(KPIS, headers={**HX, "HX-Target": "rollup-freshness"})
    assert fresh.headers["HX-Trigger"] == "rollups-fresh"
    assert "every 2s" not in fresh.content.decode()
    table = re.search(r'<section id="kpi-table"[^>]*>', page).group(0)
    assert 'hx-trigger="rollups-fresh from:body"' in table


def test_the_kpi_table_is_an_htmx_region(as_pm):
    response = as_pm.get(KPIS, headers={**HX, "HX-Target": "kpi-table"})
    assert response.content.decode().lstrip().startswith('<section id="kpi-table"')
    assert b"<html" not in response.content
    assert "HX-Request" in response["Vary"]


def test_the_kpi_page_reads_in_a_fixed_number_of_queries(client, org, django_assert_max_num_queries):
    client.force_login(org.director)
    counts = []
    for _ in range(2):
        with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as queries:
            client.get(KPIS)
        counts.append(len(queries))
        product = ProductFactory(portfolio=org.beta)
        Measurement.objects.bulk_create(
            Measurement(product=product, kpi=org.revenue, period=dt.date(2026, 9, day), value=1.0)
            for day in (7, 14)
        )
    assert counts[0] == counts[1]


# ------------------------------------------------------------------ measurements


@pytest.fixture
def many(org):
    """150 more revenue values for alpha-two, a week apart going back from 2026-09-28."""
    product = org.products["alpha-two"]
    Measurement.objects.bulk_create(
        Measurement(
            product=product, kpi=org.revenue, period=dt.date(2026, 9, 28) - dt.timedelta(weeks=n), value=n
        )
        for n in range(150)
    )
    return org


def test_measurements_newest_period_first_with_the_effective_target_and_status(as_pm, org):
    response = as_pm.get(MEASUREMENTS)
    assert response.status_code == 200
    rows = response.context["rows"]
    assert rows[0].measurement.period == dt.date(2026, 11, 16)
    beta = next(
        r for r in rows if r.measurement.product.slug == "beta-one" and r.measurement.kpi == org.revenue
    )
    assert (beta.measurement.value, beta.target, beta.status) == (110.0, 120.0, "at_risk")
    page = text(response)
    assert "Week of 16 Nov 2026" in page
    assert 'href="/products/beta-one/"' in page
    assert "At risk" in page


def test_a_measurement_row_escapes_the_product_and_kpi_names(as_pm, org):
    product = ProductFactory(name="Pay <i>Now</i>", slug="pay-now")
    org.revenue.name = "Revenue & <b>more</b>"
    org.revenue.save()
    Measurement.objects.create(product=product, kpi=org.revenue, period=dt.date(2026, 11, 30), value=1234.5)

    page = text(as_pm.get(MEASUREMENTS))

    row = re.search(r'<tr><td class="nowrap" data-label="Period">.*?</tr>', page).group(0)
    assert '<time datetime="2026-11-30">Week of 30 Nov 2026</time>' in row
    assert '<a class="table__primary" href="/products/pay-now/">Pay &lt;i&gt;Now&lt;/i&gt;</a>' in row
    assert '<td data-label="KPI">Revenue &amp; &lt;b&gt;more&lt;/b&gt;</td>' in row
    assert 'title="1234.5"' in row


def test_measurements_are_paged_100_at_a_time_with_real_links(as_pm, many):
    total = Measurement.objects.count()
    response = as_pm.get(MEASUREMENTS)
    assert len(response.context["rows"]) == 100
    page = response.content.decode()
    assert f"of <strong>{total}</strong>" in page
    assert re.search(
        r'<a class="btn btn--sm" rel="next" href="/portfolio/measurements/\?page=2" hx-get="/portfolio/measurements/\?page=2"',
        page,
    )
    second = as_pm.get(f"{MEASUREMENTS}?page=2", headers={**HX, "HX-Target": "measurement-table"})
    assert len(second.context["rows"]) == total - 100
    assert b"<html" not in second.content
    first_ids = {r.measurement.pk for r in response.context["rows"]}
    assert not first_ids & {r.measurement.pk for r in second.context["rows"]}


def test_measurements_filtered_by_product_kpi_and_period_keep_the_filters_in_page_links(as_pm, many):
    response = as_pm.get(f"{MEASUREMENTS}?product=alpha-two&kpi=Revenue&period_to=2026-09-30")
    rows = response.context["rows"]
    assert {(r.measurement.product.slug, r.measurement.kpi.name) for r in rows} == {("alpha-two", "Revenue")}
    assert all(r.measurement.period <= dt.date(2026, 9, 30) for r in rows)
    assert response.context["page"].paginator.count == 150
    page = response.content.decode()
    kpi_id = many.revenue.pk
    assert (
        f'href="/portfolio/measurements/?product=alpha-two&amp;kpi={kpi_id}&amp;period_to=2026-09-30&amp;page=2"'
        in page
    )
    assert (
        f'href="/portfolio/measurements/?product=alpha-two&amp;kpi={kpi_id}&amp;period_to=2026-09-30&amp;format=csv"'
        in page
    )
    by_id = as_pm.get(f"{MEASUREMENTS}?product=alpha-two&kpi={kpi_id}&period_from=2026-11-01")
    assert [r.measurement.period for r in by_id.context["rows"]] == [
        dt.date(2026, 11, 16),
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 2),
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("product=nope", "Product: No product has the slug “nope”."),
        ("kpi=Velocity", "KPI: “Velocity” is not a KPI name or id."),
        ("period_from=2026-02-30", "From: Enter a date as YYYY-MM-DD."),
        ("page=zero", "Page: Enter a page number."),
    ],
)
def test_invalid_measurement_filters_are_named_and_ignored(as_pm, query, message):
    response = as_pm.get(f"{MEASUREMENTS}?{query}")
    assert response.status_code == 200
    assert message in text(response)
    assert response.context["rows"]  # the other filters (none) still apply


def test_the_measurement_filters_swap_the_table_with_htmx(as_pm):
    page = as_pm.get(MEASUREMENTS).content.decode()
    form = re.search(r'<form id="measurement-filters".*?>', page, re.S).group(0)
    assert 'hx-target="#measurement-table"' in form
    assert 'hx-push-url="true"' in form
    assert 'method="get"' in form
    response = as_pm.get(f"{MEASUREMENTS}?kpi=Revenue", headers={**HX, "HX-Target": "measurement-table"})
    assert response.content.decode().lstrip().startswith('<section id="measurement-table"')
    assert "HX-Request" in response["Vary"]


def test_the_measurements_page_reads_in_a_fixed_number_of_queries(
    client, many, django_assert_max_num_queries
):
    client.force_login(many.director)
    counts = []
    for _ in range(2):
        with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as queries:
            client.get(f"{MEASUREMENTS}?page=2")
        counts.append(len(queries))
        Measurement.objects.bulk_create(
            Measurement(
                product=ProductFactory(portfolio=many.beta),
                kpi=many.churn,
                period=dt.date(2026, 1, 5),
                value=1.0,
            )
            for _ in range(30)
        )
    assert counts[0] == counts[1]
