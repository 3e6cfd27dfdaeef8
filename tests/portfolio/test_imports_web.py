"""The Import page through HTTP: upload, see the problems or the counts, apply, follow the progress."""

import datetime as dt
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portfolio.models import KPITarget, Measurement
from products.choices import Role
from products.models import ImportChunk, ImportRun, ImportStatus
from tests.factories import KPIFactory, MeasurementFactory, PortfolioFactory, ProductFactory, UserFactory

HEADER = "product,kpi,period,value,target\n"
GOOD = HEADER + "alpha,Revenue,2026-03-02,95,\nalpha,Revenue,2026-03-09,96,\n"
BAD = HEADER + "alpha,Revenue,2026-03-02,95,\nalpah,Revenue,2026-03-09,ninety,\n"


@pytest.fixture
def owner(db):
    owner = UserFactory(username="owner", role=Role.PM)
    portfolio = PortfolioFactory(slug="payments")
    alpha = ProductFactory(slug="alpha", name="Alpha", portfolio=portfolio, owner=owner)
    kpi = KPIFactory(name="Revenue", frequency="weekly")
    MeasurementFactory(product=alpha, kpi=kpi, period=dt.date(2026, 3, 2), value=90.0)
    return owner


def upload(client, text: str, *, name: str = "kpis.csv", kind: str = "measurements"):
    data = text.encode() if isinstance(text, str) else text
    return client.post("/portfolio/imports/", {"kind": kind, "file": SimpleUploadedFile(name, data)})


def values():
    return list(Measurement.objects.order_by("pk").values_list("product_id", "kpi_id", "period", "value"))


def test_a_bad_file_shows_each_problem_by_line_and_column_and_writes_nothing(client, owner):
    client.force_login(owner)
    before = values()
    response = upload(client, BAD)
    assert response.status_code == 302
    run = ImportRun.objects.get()
    assert response["Location"] == f"/portfolio/imports/{run.pk}/"
    page = client.get(response["Location"])
    text = page.content.decode()
    assert "2 problems found: nothing was written" in text
    assert page.context["run"].errors == [
        [3, "product", "Unknown product slug “alpah”. Did you mean “alpha”?"],
        [3, "value", "“ninety” is not a number."],
    ]
    assert "Upload the fixed file" in text
    assert "Apply the import" not in text
    assert values() == before
    assert run.status == ImportStatus.INVALID
    assert not ImportChunk.objects.exists()  # the bytes are dropped once they are of no more use


def test_a_valid_file_is_checked_then_applied(client, owner):
    client.force_login(owner)
    before = values()
    response = upload(client, GOOD)
    run = ImportRun.objects.get()
    page = client.get(response["Location"])
    assert run.status == ImportStatus.READY
    assert (run.created, run.updated, run.unchanged) == (1, 1, 0)
    assert b"Apply the import" in page.content
    assert values() == before  # a check writes nothing
    # What the apply would replace, old -> new, by line: the week of 2 March holds 90.
    assert "What would change" in page.content.decode()
    assert run.changes == [[2, "alpha · Revenue · the week of 2 Mar 2026", "value", "90", "95"]]
    assert page.context["changes_cut"] is False

    applied = client.post(f"/portfolio/imports/{run.pk}/apply/")
    assert applied.status_code == 302
    run.refresh_from_db()
    assert run.status == ImportStatus.APPLIED
    assert (run.created, run.updated, run.unchanged) == (1, 1, 0)
    assert sorted(Measurement.objects.values_list("value", flat=True)) == [95.0, 96.0]
    page = client.get(f"/portfolio/imports/{run.pk}/")
    assert b"Imported: 2 rows" in page.content
    assert "What changed" in page.content.decode()
    assert b"<del>90</del>" in page.content
    assert b"<ins>95</ins>" in page.content
    # The same file again: everything unchanged.
    upload(client, GOOD)
    again = ImportRun.objects.order_by("-pk").first()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)


def test_a_file_is_applied_only_once(client, owner):
    client.force_login(owner)
    upload(client, GOOD)
    run = ImportRun.objects.get()
    client.post(f"/portfolio/imports/{run.pk}/apply/")
    response = client.post(f"/portfolio/imports/{run.pk}/apply/", follow=True)
    assert "This import cannot be applied: it is applied." in response.content.decode()


def test_large_files_run_in_the_background_and_the_page_polls_until_done(
    client, owner, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_BYTES = 10
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = upload(client, GOOD)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.QUEUED
    assert len(queued) == 1  # the Celery task, sent after commit
    partial = client.get(response["Location"], headers={"HX-Request": "true"})
    text = partial.content.decode()
    assert "<html" not in text
    assert 'hx-trigger="every 1s"' in text
    assert "<progress" in text
    assert "HX-Request" in partial["Vary"]

    queued[0]()  # the worker's turn (eager: in process)
    run.refresh_from_db()
    assert run.status == ImportStatus.READY
    assert run.rows_processed == run.rows_total == 2
    done = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
    assert "every 1s" not in done  # polling stops
    assert "Apply the import" in done


def test_a_large_file_while_the_task_queue_is_down_fails_with_a_message_and_writes_nothing(
    client, owner, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_BYTES = 10
    client.force_login(owner)
    before = values()
    broker_down = mock.patch("portfolio.tasks.import_run.delay", side_effect=ConnectionError("broker down"))
    with broker_down, django_capture_on_commit_callbacks(execute=True):
        response = upload(client, GOOD)
    assert response.status_code == 302  # not an error page: the upload was saved, then refused politely
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    page = client.get(response["Location"]).content.decode()
    assert "could not be reached" in page
    assert "every 1s" not in page  # nothing to wait for
    assert values() == before
    assert not ImportChunk.objects.exists()


def test_the_page_is_for_pm_level_people_and_leadership(client, owner):
    junior = UserFactory(role=Role.JUNIOR_PM)
    client.force_login(junior)
    assert client.get("/portfolio/imports/").status_code == 403
    assert b">Import</a>" not in client.get("/portfolio/measurements/").content
    client.force_login(owner)
    assert client.get("/portfolio/imports/").status_code == 200
    assert b">Import</a>" in client.get("/portfolio/measurements/").content


def test_someone_elses_import_is_not_shown_nor_applied(client, owner):
    client.force_login(owner)
    upload(client, GOOD)
    run = ImportRun.objects.get()
    other = UserFactory(role=Role.PM)
    client.force_login(other)
    assert client.get(f"/portfolio/imports/{run.pk}/").status_code == 403
    assert client.post(f"/portfolio/imports/{run.pk}/apply/").status_code == 403
    assert client.get("/portfolio/imports/").context["runs"] == []
    vp = UserFactory(role=Role.VP)
    client.force_login(vp)
    assert client.get(f"/portfolio/imports/{run.pk}/").status_code == 200
    assert client.post(f"/portfolio/imports/{run.pk}/apply/").status_code == 403


def test_a_file_over_the_size_limit_is_refused_with_its_size(client, owner, settings):
    settings.IMPORT_MAX_BYTES = 100
    client.force_login(owner)
    response = upload(client, HEADER + "alpha,Revenue,2026-03-09,96,\n" * 5)
    assert response.status_code == 400
    assert (
        "The file is 177 bytes; one import takes at most 100 bytes. Split it into smaller files."
        in response.content.decode()
    )
    assert not ImportRun.objects.exists()


def test_a_body_far_over_the_limit_is_refused_before_it_is_read(client, owner, settings):
    settings.IMPORT_MAX_BYTES = 100
    client.force_login(owner)
    response = upload(client, "x" * 100_000)
    assert response.status_code == 413
    assert "Split it into smaller files." in response.content.decode()
    assert not ImportRun.objects.exists()


def test_a_file_that_is_not_csv_is_refused(client, owner):
    client.force_login(owner)
    response = upload(client, GOOD, name="kpis.xlsx")
    assert response.status_code == 400
    assert "Choose a .csv file." in response.content.decode()


def test_a_pm_cannot_choose_kpi_definitions(client, owner):
    client.force_login(owner)
    response = upload(client, "kpi\n", kind="kpis")
    assert response.status_code == 400
    assert "Choose what the file holds." in response.content.decode()


def test_the_import_page_reads_a_fixed_number_of_queries(client, owner, django_assert_max_num_queries):
    client.force_login(owner)
    for _ in range(3):
        upload(client, BAD)
    with django_assert_max_num_queries(6):
        assert client.get("/portfolio/imports/").status_code == 200
    for _ in range(10):
        upload(client, BAD)
    with django_assert_max_num_queries(6):
        page = client.get("/portfolio/imports/")
    assert len(page.context["runs"]) == 13


def test_uploads_are_never_served_back(client, owner):
    client.force_login(owner)
    secret = "alpha,Revenue,2026-03-02,95,<script>alert(1)</script>\n"
    upload(client, HEADER + secret)
    run = ImportRun.objects.get()
    page = client.get(f"/portfolio/imports/{run.pk}/").content.decode()
    assert "<script>alert(1)" not in page
    assert "“&lt;script&gt;alert(1)&lt;/script&gt;” is not a number." in page


# --------------------------------------------------------------------------------------------------
# Random malformed files: never a server error, never a partial write
# --------------------------------------------------------------------------------------------------

CELLS = {
    "product": st.sampled_from(["alpha", "beta", "", "ghost", "=cmd|' /C calc'!A0", "alpha "]),
    "kpi": st.sampled_from(["Revenue", "revenue", "", "NPS", "'+Revenue"]),
    "period": st.sampled_from(["2026-03-02", "2026-03-09", "2026-03-03", "02/03/2026", "", "2099-01-05"]),
    "value": st.one_of(
        st.sampled_from(["1", "-2.5", "1e3", "abc", "", "nan", "1,5", "'-7", "1e99"]),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    ),
    "target": st.sampled_from(["", "100", "x", "-1"]),
}
ROW = st.tuples(*CELLS.values()).map(lambda cells: ",".join(f'"{c}"' if "," in c else c for c in cells))
NOISE = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
FILES = st.one_of(
    st.lists(ROW, max_size=6).map(lambda rows: HEADER + "\n".join(rows) + "\n"),
    st.lists(st.one_of(ROW, NOISE), max_size=6).map(lambda rows: HEADER + "\n".join(rows)),
    st.lists(NOISE, max_size=4).map("\n".join),
    st.binary(max_size=200),
)


@pytest.fixture
def two_products(owner):
    beta = ProductFactory(slug="beta", name="Beta", owner=owner, portfolio=PortfolioFactory(slug="retail"))
    KPIFactory(name="NPS", frequency="monthly")
    return beta


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=FILES)
def test_random_malformed_files_never_give_a_server_error_or_a_partial_write(
    client, owner, two_products, content
):
    client.force_login(owner)
    before = (values(), list(KPITarget.objects.values_list("product_id", "kpi_id", "target")))
    response = upload(client, content)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        assert values() == before[0]
        return
    run = ImportRun.objects.order_by("-pk").first()
    assert client.get(response["Location"]).status_code == 200
    assert values() == before[0]  # a check never writes
    if run.status != ImportStatus.READY:
        assert run.status == ImportStatus.INVALID
        assert run.error_count > 0
        return
    client.post(f"/portfolio/imports/{run.pk}/apply/")
    run.refresh_from_db()
    assert run.status == ImportStatus.APPLIED
    after = values()
    # Everything or nothing: every row counted is now in the table with its value.
    assert len(after) == len(before[0]) + run.created
    assert run.created + run.updated + run.unchanged == run.rows_total


def test_a_checked_file_not_applied_within_a_day_expires_and_its_bytes_go(client, owner):
    client.force_login(owner)
    upload(client, GOOD)
    old = ImportRun.objects.get()
    assert old.status == ImportStatus.READY
    assert ImportChunk.objects.filter(run=old).exists()
    ImportRun.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=2))
    upload(client, BAD)  # any later upload tidies up
    old.refresh_from_db()
    assert old.status == ImportStatus.EXPIRED
    assert not ImportChunk.objects.filter(run=old).exists()
    response = client.post(f"/portfolio/imports/{old.pk}/apply/", follow=True)
    assert "This import cannot be applied: it is expired: not applied." in response.content.decode()


def test_a_run_whose_file_is_gone_fails_with_a_message_and_writes_nothing(client, owner):
    client.force_login(owner)
    upload(client, GOOD)
    run = ImportRun.objects.get()
    ImportChunk.objects.filter(run=run).delete()
    before = values()
    client.post(f"/portfolio/imports/{run.pk}/apply/")
    run.refresh_from_db()
    assert run.status == ImportStatus.FAILED
    assert values() == before
    page = client.get(f"/portfolio/imports/{run.pk}/").content.decode()
    assert "The file or the person who uploaded it is gone." in page
