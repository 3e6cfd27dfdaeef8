"""A large upload is checked and applied by a real Celery worker on Redis against PostgreSQL (CI's second run),
while the run's page shows a progress bar and polls until the worker is done."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from portfolio.models import Measurement, Rollup, StaleRollup
from products.choices import Role
from products.models import ImportRun, ImportStatus
from tests.factories import KPIFactory, PortfolioFactory, ProductFactory, UserFactory
from tests.services import celery_worker, require_services, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

FIRST_MONDAY = dt.date(2024, 1, 1)
WEEKS = 100


def measurement_file(products, kpis) -> bytes:
    lines = ["product,kpi,period,value,target"]
    for product in products:
        for kpi in kpis:
            for week in range(WEEKS):
                period = FIRST_MONDAY + dt.timedelta(weeks=week)
                lines.append(f"{product.slug},{kpi.name},{period.isoformat()},{week * 1.5},")
    return ("\n".join(lines) + "\n").encode()


def status_region(client: Client, run: ImportRun) -> str:
    return client.get(f"/portfolio/imports/{run.pk}/", headers={"HX-Request": "true"}).content.decode()


def test_a_large_upload_runs_on_a_real_worker_with_progress(settings):
    require_services()
    settings.IMPORT_BACKGROUND_BYTES = 1024  # this file is far larger: it goes to the worker
    owner = UserFactory(username="owner", role=Role.PM)
    portfolio = PortfolioFactory()
    products = [ProductFactory(slug=f"p{i}", owner=owner, portfolio=portfolio) for i in range(20)]
    kpis = [
        KPIFactory(name=f"K{i}", frequency="weekly", aggregation="sum", time_aggregation="sum")
        for i in range(5)
    ]
    content = measurement_file(products, kpis)
    rows = len(products) * len(kpis) * WEEKS  # 10,000
    client = Client()
    client.force_login(owner)

    response = client.post(
        "/portfolio/imports/", {"kind": "measurements", "file": SimpleUploadedFile("history.csv", content)}
    )
    assert response.status_code == 302
    run = ImportRun.objects.get()
    # No worker yet: the page says it waits, shows the bar and polls.
    waiting = status_region(client, run)
    assert "Waiting for a worker to check the file" in waiting
    assert "<progress" in waiting
    assert 'hx-trigger="every 1s"' in waiting

    with celery_worker():
        assert wait_for(lambda: ImportRun.objects.get(pk=run.pk).status == ImportStatus.READY, timeout=90), (
            ImportRun.objects.get(pk=run.pk).status
        )
        checked = status_region(client, run)
        assert "every 1s" not in checked  # done: polling stops
        assert "Apply the import" in checked
        assert Measurement.objects.count() == 0

        client.post(f"/portfolio/imports/{run.pk}/apply/")
        assert wait_for(lambda: ImportRun.objects.get(pk=run.pk).status == ImportStatus.APPLIED, timeout=90)
        # The import's one refresh request reaches the worker too.
        assert wait_for(lambda: not StaleRollup.objects.exists(), timeout=90), "rollups were not refreshed"

    run.refresh_from_db()
    assert (run.created, run.updated, run.unchanged, run.error_count) == (rows, 0, 0, 0)
    assert run.rows_processed == run.rows_total == rows
    assert Measurement.objects.count() == rows
    assert "Imported: 10,000 rows" in status_region(client, run)
    week = FIRST_MONDAY + dt.timedelta(weeks=10)
    rollup = Rollup.objects.get(kpi=kpis[0], scope="organisation", grain="native", period=week)
    assert rollup.value == pytest.approx(10 * 1.5 * len(products))
    assert rollup.products == len(products)
