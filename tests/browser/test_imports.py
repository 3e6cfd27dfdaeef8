"""A PM brings a messy spreadsheet export: the Import page lists each problem by line and column, they fix the
file, upload it again, apply it, and see what was created and updated."""

import datetime as dt

import pytest

from portfolio.models import Measurement
from products.choices import Role
from products.models import ImportKind, ImportRun, ImportStatus, ImportStep
from tests.browser.conftest import log_in
from tests.factories import KPIFactory, MeasurementFactory, ProductFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HEADER = "product,kpi,period,value,target\n"
MESSY = HEADER + (
    "beacon-payouts,Monthly revenue,2026-03-02,1250.5,\n"
    "beacon-payouts,Monthly revenu,2026-03-09,1300,\n"  # a typo in the KPI
    'beacon-payouts,Monthly revenue,2026-03-18,"1,400",\n'  # a Wednesday, and a thousands separator
    "beacon-payouts,Monthly revenue,2026-03-02,1250.5,\n"  # the first row again
)
FIXED = HEADER + (
    "beacon-payouts,Monthly revenue,2026-03-02,1250.5,\n"
    "beacon-payouts,Monthly revenue,2026-03-09,1300,\n"
    "beacon-payouts,Monthly revenue,2026-03-18,1400,\n"  # the Wednesday stays: it counts for its week
)


@pytest.fixture
def beacon():
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Park", role=Role.PM)
    product = ProductFactory(name="Beacon Payouts", slug="beacon-payouts", owner=owner)
    kpi = KPIFactory(name="Monthly revenue", unit="€", frequency="weekly")
    MeasurementFactory(product=product, kpi=kpi, period=dt.date(2026, 3, 2), value=1000.0)
    return product


def choose_file(page, name: str, text: str) -> None:
    page.get_by_label("What the file holds").select_option("measurements")
    page.get_by_label("CSV file").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}
    )
    page.get_by_role("button", name="Check file").click()


def test_fix_a_messy_file_then_apply_it(page, beacon, screenshot):
    log_in(page, "olivia")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    page.wait_for_url("**/portfolio/imports/")

    choose_file(page, "revenue.csv", MESSY)
    page.get_by_role("heading", name="3 problems found: nothing was written").wait_for()
    rows = page.locator("table.import-errors tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("td").all_inner_texts() for i in range(3)] == [
        ["3", "kpi", "Unknown KPI “Monthly revenu”. Did you mean “Monthly revenue”?"],
        [
            "4",
            "value",
            "“1,400” is not a number. Write numbers without thousands separators and with a dot for decimals (1234.5).",
        ],
        ["5", "whole line", "Duplicate row: line 2 has the same product, KPI and period. Keep one of them."],
    ]
    assert Measurement.objects.get().value == 1000.0
    screenshot(page, "import-problems")

    page.get_by_role("link", name="Upload the fixed file").click()
    choose_file(page, "revenue-fixed.csv", FIXED)
    page.get_by_role("heading", name="The file is valid: 3 rows checked").wait_for()
    assert "Days inside a period" in page.locator(".import-counts").inner_text()  # the Wednesday, said
    counts = page.locator(".import-counts").inner_text()
    assert "Would be created\n2" in counts
    assert "Would be updated\n1" in counts
    assert Measurement.objects.count() == 1  # a check writes nothing

    page.get_by_role("button", name="Apply the import").click()
    page.get_by_role("heading", name="Imported: 3 rows").wait_for()
    counts = page.locator(".import-counts").inner_text()
    assert "Created\n2" in counts
    assert "Updated\n1" in counts
    assert "Unchanged\n0" in counts
    assert sorted(Measurement.objects.values_list("value", flat=True)) == [1250.5, 1300.0, 1400.0]
    screenshot(page, "import-applied")

    page.get_by_role("link", name="Import", exact=True).first.click()
    history = page.locator("table tbody tr").first.inner_text()
    assert "revenue-fixed.csv" in history
    assert "Applied" in history
    screenshot(page, "import-page")
    page.watch.assert_clean()


def test_a_running_import_shows_its_progress_and_the_page_follows_it_to_the_end(page, beacon, screenshot):
    run = ImportRun.objects.create(
        kind=ImportKind.MEASUREMENTS,
        file_name="history-2025.csv",
        file_size=11_000_000,
        uploaded_by=beacon.owner,
        status=ImportStatus.RUNNING,
        step=ImportStep.APPLY,
        rows_total=200_000,
        rows_processed=84_000,
    )
    log_in(page, "olivia")
    page.goto(f"/portfolio/imports/{run.pk}/")
    progress = page.locator("progress")
    assert progress.get_attribute("value") == "84000"
    assert progress.get_attribute("max") == "200000"
    assert "84,000 of about 200,000 rows (42%)" in page.locator("#import-run-status").inner_text()
    screenshot(page, "import-progress")

    # The worker finishes: the next poll (every second) swaps in the result, and the region stops polling.
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.APPLIED, rows_processed=200_000, created=150_000, updated=50_000
    )
    page.get_by_role("heading", name="Imported: 200,000 rows").wait_for()
    assert page.locator("#import-run-status").get_attribute("hx-trigger") is None
    assert "Created\n150,000" in page.locator(".import-counts").inner_text()
    page.watch.assert_clean()
