"""Django admin for portfolios, KPIs, targets, measurements and rollups, and its care for the big tables."""

import datetime as dt
import re

import pytest
from django.contrib.admin import helpers
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolio.kpis.admin import definitions as kpis_admin
from portfolio.kpis.admin.definitions import MeasurementAdmin
from portfolio.kpis.engine import rollups_recompute
from portfolio.models import KPI, KPITarget, Measurement, Rollup
from spm.admin_tools import paginator as admin_paginator
from spm.admin_tools.paginator import ApproximateCount, CappedCountPaginator
from tests.factories import (
    KPIFactory,
    KPITargetFactory,
    MeasurementFactory,
    ObjectiveFactory,
    PortfolioFactory,
    ProductFactory,
    RollupFactory,
    UserFactory,
)
from tests.products.test_admin import admin_form_data

pytestmark = pytest.mark.django_db

MEASUREMENTS = "/admin/portfolio/measurement/"
ROLLUPS = "/admin/portfolio/rollup/"


@pytest.fixture
def portfolio():
    return PortfolioFactory(name="Payments", slug="payments")


@pytest.fixture
def owner():
    return UserFactory(username="owner")


@pytest.fixture
def make_product(portfolio, owner):
    """Products that share one portfolio and owner (each new person costs a password hash)."""

    def make(name: str, **fields):
        return ProductFactory(name=name, portfolio=portfolio, owner=owner, **fields)

    return make


@pytest.fixture
def weekly(make_product):
    """Weekly measurements of one KPI for two products, Dec 2025 to Mar 2026 (no February week skipped)."""
    kpi = KPIFactory(name="Revenue", unit="€")
    aurora, zephyr = make_product("Aurora Billing"), make_product("Zephyr Mobile")
    periods = [dt.date(2025, 12, 29) + dt.timedelta(weeks=week) for week in range(12)]
    for product in (aurora, zephyr):
        for period in periods:
            MeasurementFactory(product=product, kpi=kpi, period=period, value=100.0)
    return {"kpi": kpi, "aurora": aurora, "zephyr": zephyr, "periods": periods}


def results(response) -> list:
    return list(response.context["cl"].result_list)


def count_queries(captured) -> list[str]:
    return [query["sql"] for query in captured.captured_queries if "COUNT(" in query["sql"].upper()]


# --------------------------------------------------------------------------------------------------
# Every model: its pages render
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_path", "make"),
    [
        ("portfolio/portfolio", lambda: PortfolioFactory(name="Payments")),
        ("portfolio/objective", lambda: ObjectiveFactory(title="Grow recurring revenue")),
        ("portfolio/kpi", lambda: KPIFactory(name="Revenue")),
        ("portfolio/kpitarget", lambda: KPITargetFactory(product=ProductFactory(name="Aurora Billing"))),
        ("portfolio/measurement", lambda: MeasurementFactory(product=ProductFactory(name="Aurora Billing"))),
    ],
)
def test_changelist_add_and_change_pages_render(admin_client, model_path, make):
    obj = make()
    changelist = admin_client.get(f"/admin/{model_path}/")
    assert changelist.status_code == 200
    assert results(changelist) == [obj]
    assert admin_client.get(f"/admin/{model_path}/add/").status_code == 200
    change = admin_client.get(f"/admin/{model_path}/{obj.pk}/change/")
    assert change.status_code == 200
    assert change.context["original"] == obj


def test_rollup_list_and_page_render_read_only(admin_client):
    rollup = RollupFactory(kpi=KPIFactory(name="Revenue"), value=123.0)
    changelist = admin_client.get(ROLLUPS)
    assert changelist.status_code == 200
    assert results(changelist) == [rollup]
    assert b"/admin/portfolio/rollup/add/" not in changelist.content

    page = admin_client.get(f"{ROLLUPS}{rollup.pk}/change/")
    assert page.status_code == 200
    assert page.context["original"] == rollup
    assert page.context["adminform"].form.fields == {}  # every field is shown read-only
    assert b"Computed at" in page.content
    assert b'name="value"' not in page.content


def test_rollups_cannot_be_added_or_edited(admin_client):
    rollup = RollupFactory(value=123.0)
    assert admin_client.get(f"{ROLLUPS}add/").status_code == 403
    assert admin_client.post(f"{ROLLUPS}add/", {"scope": "organisation", "value": "1"}).status_code == 403
    admin_client.post(f"{ROLLUPS}{rollup.pk}/change/", {"value": "999"})
    rollup.refresh_from_db()
    assert rollup.value == 123.0


# --------------------------------------------------------------------------------------------------
# The capped count: never a COUNT(*) over the whole table
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": "Aurora"},
        {"kpi__id__exact": "KPI"},
        {"period__year": "2026"},
        {"period__year": "2026", "period__month": "1"},
        {"p": "2"},
    ],
)
def test_measurement_list_never_counts_without_a_limit(admin_client, weekly, query):
    query = {key: weekly["kpi"].pk if value == "KPI" else value for key, value in query.items()}
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(MEASUREMENTS, query)
    assert response.status_code == 200
    counts = count_queries(captured)
    assert counts, "the list should still count its rows, within a limit"
    assert all("LIMIT" in sql.upper() for sql in counts), counts


def test_rollup_list_never_counts_without_a_limit(admin_client):
    kpi = KPIFactory()
    for week in range(5):
        RollupFactory(kpi=kpi, period=dt.date(2026, 1, 5) + dt.timedelta(weeks=week))
    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(ROLLUPS, {"scope__exact": "organisation"})
    assert len(results(response)) == 5
    counts = count_queries(captured)
    assert counts
    assert all("LIMIT" in sql.upper() for sql in counts), counts


def test_rollup_search_matches_the_scope_key_exactly(admin_client):
    kpi = KPIFactory()
    payments = RollupFactory(kpi=kpi, scope="portfolio", scope_key="payments")
    RollupFactory(kpi=kpi, scope="portfolio", scope_key="payments-eu")
    response = admin_client.get(ROLLUPS, {"q": "payments"})
    assert results(response) == [payments]


def test_capped_paginator_counts_exactly_up_to_the_cap_and_no_further(make_product):
    product, kpi = make_product("Aurora Billing"), KPIFactory()
    for week in range(6):
        MeasurementFactory(product=product, kpi=kpi, period=dt.date(2026, 1, 5) + dt.timedelta(weeks=week))
    measurements = Measurement.objects.order_by("pk")

    exact = CappedCountPaginator(measurements, per_page=2, cap=10)
    assert exact.count == 6
    assert type(exact.count) is int
    assert exact.num_pages == 3

    capped = CappedCountPaginator(measurements, per_page=2, cap=4)
    with CaptureQueriesContext(connection) as captured:
        count = capped.count
    assert count == 4
    assert str(count) == "more than 4"
    assert capped.num_pages == 2
    assert [len(capped.page(number).object_list) for number in (1, 2)] == [2, 2]
    assert [sql for sql in count_queries(captured) if "LIMIT 5" in sql.upper()]


def test_a_capped_list_says_more_than_and_still_reaches_the_next_pages(admin_client, weekly, monkeypatch):
    # 24 measurements, 2 a page, counted at most 1 page past the one being read (and never fewer than 4 rows).
    monkeypatch.setattr(MeasurementAdmin, "list_per_page", 2)
    monkeypatch.setattr(MeasurementAdmin, "count_cap", 4)
    monkeypatch.setattr(admin_paginator, "PAGES_AHEAD", 1)

    first = admin_client.get(MEASUREMENTS)
    assert re.search(rb"more than 4\s+measurements", first.content)
    assert len(results(first)) == 2
    assert b'href="?p=2"' in first.content

    # Reading page 2 counts up to page 3: the links reach on as the reader goes.
    second = admin_client.get(MEASUREMENTS, {"p": "2"})
    assert re.search(rb"more than 6\s+measurements", second.content)
    assert b'href="?p=3"' in second.content
    assert results(second) != results(first)

    # Near the end the count becomes exact.
    last = admin_client.get(MEASUREMENTS, {"p": "12"})
    assert re.search(rb"24\s+measurements", last.content)
    assert len(results(last)) == 2


def test_a_small_filtered_list_shows_its_exact_count(admin_client, weekly):
    response = admin_client.get(MEASUREMENTS, {"product": weekly["aurora"].pk})
    assert len(results(response)) == 12
    assert re.search(rb"12\s+measurements", response.content)
    assert b"more than" not in response.content


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate is PostgreSQL's")
def test_whole_table_uses_postgresql_estimate_instead_of_counting(admin_client, weekly, monkeypatch):
    monkeypatch.setattr(MeasurementAdmin, "list_per_page", 2)
    monkeypatch.setattr(MeasurementAdmin, "count_cap", 10)
    monkeypatch.setattr(admin_paginator, "PAGES_AHEAD", 0)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Measurement._meta.db_table}")

    with CaptureQueriesContext(connection) as captured:
        response = admin_client.get(MEASUREMENTS)
    assert re.search(rb"about 24\s+measurements", response.content)
    assert not [sql for sql in count_queries(captured) if Measurement._meta.db_table in sql]

    filtered = admin_client.get(MEASUREMENTS, {"product": weekly["aurora"].pk})
    assert re.search(rb"more than 10\s+measurements", filtered.content)


def test_approximate_count_compares_as_a_number():
    estimate = ApproximateCount(1_040_000, qualifier="about")
    assert estimate > 100
    assert estimate == 1_040_000
    assert str(estimate) == "about 1,040,000"


# --------------------------------------------------------------------------------------------------
# Measurements: date drill-down, filters, search, sorting
# --------------------------------------------------------------------------------------------------


def test_date_drill_down_offers_the_years_and_months_that_have_data(admin_client, weekly):
    top = admin_client.get(MEASUREMENTS)
    assert re.findall(rb'href="\?period__year=(\d{4})"', top.content) == [b"2025", b"2026"]

    year = admin_client.get(MEASUREMENTS, {"period__year": "2026"})
    months = re.findall(rb'href="\?period__month=(\d+)&amp;period__year=2026"', year.content)
    assert months == [b"1", b"2", b"3"]
    assert {m.period.year for m in results(year)} == {2026}

    january = admin_client.get(MEASUREMENTS, {"period__year": "2026", "period__month": "1"})
    days = re.findall(rb"period__day=(\d+)", january.content)
    assert days == [b"5", b"12", b"19", b"26"]
    assert len(results(january)) == 8


def test_date_drill_down_reads_the_index_instead_of_every_row(admin_client, weekly):
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(MEASUREMENTS, {"period__year": "2026"})
    table = Measurement._meta.db_table
    on_measurements = [query["sql"].upper() for query in captured.captured_queries if table in query["sql"]]
    # No SELECT DISTINCT of a truncated date over the table, and no MIN/MAX aggregate scan.
    assert not [sql for sql in on_measurements if "DISTINCT" in sql or "MIN(" in sql or "MAX(" in sql]
    # One seek per month with data plus one to find there is no more, the page and its count.
    assert len(on_measurements) <= 3 + 1 + 2


def test_date_drill_down_respects_the_other_filters(admin_client, weekly, make_product):
    december_only = make_product("December Only")
    MeasurementFactory(product=december_only, kpi=weekly["kpi"], period=dt.date(2025, 12, 1))
    response = admin_client.get(MEASUREMENTS, {"product": december_only.pk})
    # One year, one month: the drill-down opens on December 2025's days.
    assert re.findall(rb"period__day=(\d+)", response.content) == [b"1"]


def test_measurement_search_finds_a_product_by_name_and_not_the_other(admin_client, weekly):
    response = admin_client.get(MEASUREMENTS, {"q": "aurora"})
    assert {m.product.name for m in results(response)} == {"Aurora Billing"}
    assert len(results(response)) == 12
    assert b"Zephyr Mobile" not in response.content


def test_measurement_search_with_no_match_shows_nothing(admin_client, weekly):
    response = admin_client.get(MEASUREMENTS, {"q": "no such product"})
    assert results(response) == []


def test_measurement_list_filters_by_kpi(admin_client, weekly, make_product):
    other = KPIFactory(name="Churn")
    MeasurementFactory(product=weekly["aurora"], kpi=other, period=dt.date(2026, 1, 5))
    response = admin_client.get(MEASUREMENTS, {"kpi__id__exact": other.pk})
    assert [m.kpi.name for m in results(response)] == ["Churn"]


def test_product_link_narrows_the_list_and_says_to_which_product(admin_client, weekly):
    response = admin_client.get(MEASUREMENTS, {"product": weekly["zephyr"].pk})
    assert {m.product for m in results(response)} == {weekly["zephyr"]}
    sidebar = response.content.decode().split('id="changelist-filter"')[1]
    assert "Zephyr Mobile" in sidebar
    assert "Aurora Billing" not in sidebar


def test_a_link_to_a_deleted_product_shows_nothing_rather_than_everything(admin_client, weekly):
    response = admin_client.get(MEASUREMENTS, {"product": weekly["zephyr"].pk + 1000})
    assert results(response) == []


def test_a_product_filter_that_is_not_an_id_is_rejected(admin_client, weekly):
    response = admin_client.get(MEASUREMENTS, {"product": "aurora"})
    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_measurement_list_is_newest_first_and_sorts_by_value_only_once_narrowed(admin_client, weekly):
    whole = admin_client.get(MEASUREMENTS)
    periods = [m.period for m in results(whole)]
    assert periods == sorted(periods, reverse=True)
    assert b"sortable column-period" in whole.content
    assert b"sortable column-value_with_unit" not in whole.content

    narrowed = admin_client.get(MEASUREMENTS, {"kpi__id__exact": weekly["kpi"].pk})
    assert b"sortable column-value_with_unit" in narrowed.content


def test_measurement_list_is_a_fixed_number_of_queries(admin_client, weekly, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        response = admin_client.get(MEASUREMENTS)
    assert len(results(response)) == 24
    assert b"100 \xe2\x82\xac" in response.content  # value with the KPI's unit


def test_measurement_added_in_admin_is_recorded_by_the_admin(admin_client, superuser, make_product):
    product, kpi = make_product("Aurora Billing"), KPIFactory()
    data = {
        "product": product.pk,
        "kpi": kpi.pk,
        "period": "2026-02-02",
        "value": "42.5",
        "recorded_at_0": "2026-02-03",
        "recorded_at_1": "10:00:00",
    }
    response = admin_client.post(f"{MEASUREMENTS}add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    measurement = Measurement.objects.get()
    assert (measurement.value, measurement.recorded_by) == (42.5, superuser)


# --------------------------------------------------------------------------------------------------
# Edits recompute the rollups they feed
# --------------------------------------------------------------------------------------------------


def organisation_rollup(kpi: KPI, period: dt.date) -> Rollup:
    return Rollup.objects.get(kpi=kpi, scope="organisation", grain="native", period=period)


def test_editing_a_measurement_recomputes_its_rollups(
    admin_client, weekly, eager_tasks, django_capture_on_commit_callbacks
):
    kpi, period = weekly["kpi"], weekly["periods"][0]
    rollups_recompute(kpi_ids=[kpi.pk])
    assert organisation_rollup(kpi, period).value == 200.0  # two products, summed

    measurement = Measurement.objects.get(product=weekly["aurora"], period=period)
    page = admin_client.get(f"{MEASUREMENTS}{measurement.pk}/change/")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{MEASUREMENTS}{measurement.pk}/change/", admin_form_data(page, value="150")
        )
    assert response.status_code == 302
    assert organisation_rollup(kpi, period).value == 250.0


def test_deleting_measurements_recomputes_their_rollups(
    admin_client, weekly, eager_tasks, django_capture_on_commit_callbacks
):
    kpi, period = weekly["kpi"], weekly["periods"][1]
    rollups_recompute(kpi_ids=[kpi.pk])
    doomed = list(
        Measurement.objects.filter(product=weekly["zephyr"], period=period).values_list("pk", flat=True)
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            MEASUREMENTS,
            {"action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: doomed, "post": "yes"},
        )
    assert not Measurement.objects.filter(pk__in=doomed).exists()
    assert organisation_rollup(kpi, period).value == 100.0


def test_editing_a_target_in_the_list_recomputes_the_kpis_rollups(
    admin_client, weekly, eager_tasks, django_capture_on_commit_callbacks
):
    kpi = weekly["kpi"]
    target = KPITargetFactory(product=weekly["aurora"], kpi=kpi, target=100.0)
    rollups_recompute(kpi_ids=[kpi.pk])
    assert organisation_rollup(kpi, weekly["periods"][0]).status == "on_target"

    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": target.pk,
        "form-0-target": "1000",
        "form-0-version": target.version,  # the version the list was loaded with
        "_save": "Save",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/portfolio/kpitarget/", data)
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.target == 1000.0
    rollup = organisation_rollup(kpi, weekly["periods"][0])
    assert (rollup.target, rollup.status) == (1100.0, "off_target")


def test_recompute_action_rebuilds_selected_rollups_from_measurements(
    admin_client, weekly, eager_tasks, django_capture_on_commit_callbacks
):
    kpi, period = weekly["kpi"], weekly["periods"][2]
    rollups_recompute(kpi_ids=[kpi.pk])
    Rollup.objects.filter(kpi=kpi, period=period).update(value=-1.0)
    stale = Rollup.objects.filter(kpi=kpi, period=period, grain="native")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            ROLLUPS,
            {"action": "recompute_selected", helpers.ACTION_CHECKBOX_NAME: [r.pk for r in stale]},
            follow=True,
        )
    assert b"Recompute of the rollups of 1 KPI(s) over 1 period(s) requested" in response.content
    assert organisation_rollup(kpi, period).value == 200.0


# --------------------------------------------------------------------------------------------------
# KPIs and their targets
# --------------------------------------------------------------------------------------------------


def test_kpi_page_edits_a_few_targets_inline(admin_client, make_product):
    kpi = KPIFactory(name="Revenue")
    KPITargetFactory(kpi=kpi, product=make_product("Aurora Billing"), target=120.0)
    response = admin_client.get(f"/admin/portfolio/kpi/{kpi.pk}/change/")
    formsets = [inline.formset for inline in response.context["inline_admin_formsets"]]
    assert [form.instance.product.name for form in formsets[0].forms] == ["Aurora Billing"]


def test_kpi_page_links_to_many_targets_instead_of_a_form_each(admin_client, make_product, monkeypatch):
    monkeypatch.setattr(kpis_admin, "INLINE_TARGETS_LIMIT", 2)
    kpi = KPIFactory(name="Revenue")
    for name in ("A", "B", "C"):
        KPITargetFactory(kpi=kpi, product=make_product(name))
    response = admin_client.get(f"/admin/portfolio/kpi/{kpi.pk}/change/")
    assert response.context["inline_admin_formsets"] == []
    assert f'href="/admin/portfolio/kpitarget/?kpi__id__exact={kpi.pk}"'.encode() in response.content
    assert b"3 product target(s) (too many to edit on this page)" in response.content

    targets = admin_client.get("/admin/portfolio/kpitarget/", {"kpi__id__exact": kpi.pk})
    assert len(results(targets)) == 3


def test_changing_a_kpis_default_target_recomputes_its_rollups(
    admin_client, weekly, eager_tasks, django_capture_on_commit_callbacks
):
    kpi = weekly["kpi"]
    rollups_recompute(kpi_ids=[kpi.pk])
    page = admin_client.get(f"/admin/portfolio/kpi/{kpi.pk}/change/")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/portfolio/kpi/{kpi.pk}/change/", admin_form_data(page, default_target="500")
        )
    assert response.status_code == 302
    assert organisation_rollup(kpi, weekly["periods"][0]).status == "off_target"


def test_kpi_delete_page_counts_measurements_in_a_fixed_number_of_queries(
    admin_client, weekly, django_assert_max_num_queries
):
    kpi = weekly["kpi"]
    rollups_recompute(kpi_ids=[kpi.pk])
    with django_assert_max_num_queries(15):
        response = admin_client.get(f"/admin/portfolio/kpi/{kpi.pk}/delete/")
    model_count = dict(response.context["model_count"])
    assert model_count["measurements"] == 24
    assert model_count["rollups"] == Rollup.objects.filter(kpi=kpi).count()
    assert b"Measurements: 24" in response.content


def test_kpi_target_search_finds_a_product(admin_client, make_product):
    kpi = KPIFactory()
    KPITargetFactory(kpi=kpi, product=make_product("Aurora Billing"))
    KPITargetFactory(kpi=kpi, product=make_product("Zephyr Mobile"))
    response = admin_client.get("/admin/portfolio/kpitarget/", {"q": "zephyr"})
    assert [t.product.name for t in results(response)] == ["Zephyr Mobile"]


# --------------------------------------------------------------------------------------------------
# Bulk deletion on the big tables
# --------------------------------------------------------------------------------------------------


def test_bulk_delete_beyond_the_limit_is_refused(admin_client, weekly, monkeypatch):
    monkeypatch.setattr(admin_paginator, "BULK_DELETE_LIMIT", 5)
    selected = list(Measurement.objects.values_list("pk", flat=True)[:6])
    response = admin_client.post(
        MEASUREMENTS, {"action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: selected}, follow=True
    )
    assert b"More than 5 measurements selected" in response.content
    assert Measurement.objects.count() == 24


def test_bulk_delete_confirmation_lists_a_few_and_counts_the_rest(admin_client, weekly):
    selected = list(Measurement.objects.values_list("pk", flat=True))
    response = admin_client.post(
        MEASUREMENTS, {"action": "delete_selected", helpers.ACTION_CHECKBOX_NAME: selected}
    )
    assert response.status_code == 200
    assert dict(response.context["model_count"]) == {"measurements": 24}
    assert b"and 4 more measurements" in response.content


# --------------------------------------------------------------------------------------------------
# Portfolios and objectives
# --------------------------------------------------------------------------------------------------


def test_portfolio_list_totals_its_products(admin_client, make_product, portfolio):
    make_product("Aurora Billing", planned_budget="100.00", actual_spend="40.00")
    make_product("Zephyr Mobile", planned_budget="50.00", actual_spend="10.00")
    response = admin_client.get("/admin/portfolio/portfolio/")
    row = results(response)[0]
    assert (row.product_total, row.planned_total, row.actual_total) == (2, 150, 50)


def test_portfolio_page_edits_its_objectives_inline(admin_client, portfolio):
    ObjectiveFactory(portfolio=portfolio, title="Grow recurring revenue")
    response = admin_client.get(f"/admin/portfolio/portfolio/{portfolio.pk}/change/")
    objectives = response.context["inline_admin_formsets"][0].formset
    assert [form.instance.title for form in objectives.forms] == ["Grow recurring revenue"]


def test_objective_list_names_organisation_wide_objectives(admin_client):
    ObjectiveFactory(portfolio=None, title="Be the category leader")
    response = admin_client.get("/admin/portfolio/objective/")
    assert b"Whole organisation" in response.content


def test_kpi_target_added_on_the_kpi_page_is_saved(
    admin_client, make_product, eager_tasks, django_capture_on_commit_callbacks
):
    kpi = KPIFactory(name="Revenue")
    product = make_product("Aurora Billing")
    page = admin_client.get(f"/admin/portfolio/kpi/{kpi.pk}/change/")
    data = admin_form_data(page)
    data.update({"targets-TOTAL_FORMS": "1", "targets-0-product": product.pk, "targets-0-target": "321"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/portfolio/kpi/{kpi.pk}/change/", data)
    assert response.status_code == 302
    assert KPITarget.objects.get().target == 321.0


def test_pending_recomputes_and_the_last_computation_are_visible_read_only(admin_client):
    from django.utils import timezone

    from portfolio.models import RollupState, StaleRollup

    kpi = KPIFactory(name="Signups")
    StaleRollup.objects.create(kpi=kpi, period=dt.date(2026, 5, 4))
    RollupState.objects.create(pk=1, computed_at=timezone.now())

    stale = admin_client.get("/admin/portfolio/stalerollup/")
    assert stale.status_code == 200
    assert b"Signups" in stale.content
    assert b"/admin/portfolio/stalerollup/add/" not in stale.content
    assert admin_client.get("/admin/portfolio/stalerollup/add/").status_code == 403
    state = admin_client.get("/admin/portfolio/rollupstate/")
    assert state.status_code == 200
    assert results(state) == [RollupState.objects.get()]
