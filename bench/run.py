"""`make bench`: server time and SQL query counts for every page and partial, rollup recompute and seed time.

Seeds the 1,000-product portfolio (about 1M measurements) once and caches it (SQLite file under bench/.cache,
or the PostgreSQL database named by BENCH_DATABASE_URL), then measures in process with Django's test client:
the server time of a request, without network or browser. Prints a table and writes bench/results.json.

    make bench                      # SQLite
    make bench BENCH_PG=1           # PostgreSQL at postgres://postgres@127.0.0.1:5432/spm_bench
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
PRODUCTS = int(os.environ.get("BENCH_PRODUCTS", "1000"))
MONTHS = int(os.environ.get("BENCH_MONTHS", "12"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "30"))
TODAY = "2026-11-23"

sys.path.insert(0, str(ROOT))
CACHE.mkdir(parents=True, exist_ok=True)
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "spm.settings",
        "SPM_DEBUG": "false",
        "SPM_HTTPS": "false",
        "SPM_SECRET_KEY": "benchmark-only-not-a-secret-" + "x" * 30,
        "SPM_ALLOWED_HOSTS": "testserver",
        "SPM_DEMO_PASSWORD": "demo",
        "SPM_LOG_LEVEL": "WARNING",
        # Mail the notifications make is kept in memory: the benchmark times writing it, never sends it.
        "SPM_EMAIL_URL": "memorymail://",
    }
)
os.environ.pop("CELERY_BROKER_URL", None)  # recompute runs in process: the benchmark times the task body
if os.environ.get("BENCH_PG"):
    os.environ["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spm_bench"
    )
else:
    os.environ.pop("DATABASE_URL", None)
    os.environ["SPM_SQLITE_PATH"] = str(CACHE / "bench.sqlite3")


def schema_fingerprint() -> str:
    digest = hashlib.sha256()
    for path in [*sorted(ROOT.glob("*/migrations/0*.py")), *sorted(ROOT.glob("portfolio/demo/*.py"))]:
        digest.update(path.read_bytes())
    return f"{digest.hexdigest()[:16]}-{PRODUCTS}-{MONTHS}"


def ensure_database(results: dict) -> None:
    import django
    from django.core.management import call_command
    from django.db import connection

    if os.environ.get("DATABASE_URL"):
        import psycopg

        url = os.environ["DATABASE_URL"]
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                admin.execute(f'CREATE DATABASE "{name}"')
    django.setup()
    marker = CACHE / f"{connection.vendor}.seeded"
    fingerprint = schema_fingerprint()
    call_command("collectstatic", interactive=False, verbosity=0)
    if marker.exists() and marker.read_text() == fingerprint:
        print(f"Using the cached {connection.vendor} portfolio ({PRODUCTS} products, {MONTHS} months).")
        results["seed"] = json.loads((CACHE / f"{connection.vendor}.seed.json").read_text())
        return
    if connection.vendor == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(os.environ["SPM_SQLITE_PATH"] + suffix).unlink(missing_ok=True)
        connection.close()
    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    call_command(
        "seed_demo",
        products=PRODUCTS,
        months=MONTHS,
        seed=1,
        today=dt.date.fromisoformat(TODAY),
        no_rollups=True,
        verbosity=1,
    )
    seeded = time.perf_counter() - started
    from portfolio.models import Measurement

    seed = {"seconds": round(seeded, 2), "measurements": Measurement.objects.count(), "products": PRODUCTS}
    (CACHE / f"{connection.vendor}.seed.json").write_text(json.dumps(seed))
    marker.write_text(fingerprint)
    results["seed"] = seed


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_request(client, path: str, *, htmx: bool = False) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HX-Request": "true", "HX-Target": htmx} if htmx else {}
    response = client.get(path, headers=headers)  # warm-up
    assert response.status_code == 200, (path, response.status_code)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if htmx:
        assert b"<html" not in body, f"{path} answered a partial request with a whole page"
    connection.queries_log.clear()  # a full log (maxlen) would make the capture count nothing
    with CaptureQueriesContext(connection) as queries:
        counted = client.get(path, headers=headers)
        if counted.streaming:
            for _chunk in counted.streaming_content:
                pass
    query_count = len(queries)  # now: the log is a live view, and every request resets it
    samples = []
    for _ in range(REPEAT):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        if response.streaming:  # a streamed export is only done when its last row is written
            for _chunk in response.streaming_content:
                pass
        samples.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "queries": query_count,
        "bytes": len(body),
    }


def bench_rollups(results: dict) -> None:
    from django.db import connection

    from portfolio.kpis.engine import rollups_recompute_all
    from portfolio.kpis.services import measurement_record
    from portfolio.models import KPI, Measurement, Rollup

    # From scratch (as after a fresh seed), then again over the full set it must replace (the periodic reconcile).
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE portfolio_rollup")
        else:
            cursor.execute("DELETE FROM portfolio_rollup")
    started = time.perf_counter()
    rollups_recompute_all()
    results["rollups_full_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    rollups_recompute_all()
    results["rollups_full_replace_s"] = round(time.perf_counter() - started, 2)
    results["rollup_rows"] = Rollup.objects.count()

    # The forecasts' share of a full recompute (issue 16's budget: at most 1.3 x the rollups alone). The
    # same recompute with the forecast steps skipped, interleaved with whole ones, medians of three each.
    def _stage_forecasts(now):  # the engine keeps the staged result by this name
        return None

    whole, bare = [], []
    for _ in range(3):
        started = time.perf_counter()
        with (
            mock.patch("portfolio.kpis.engine._stage_forecasts", new=_stage_forecasts),
            mock.patch("portfolio.kpis.engine.forecasts_recompute"),
        ):
            rollups_recompute_all()
        bare.append(time.perf_counter() - started)
        started = time.perf_counter()
        rollups_recompute_all()
        whole.append(time.perf_counter() - started)
    results["rollups_full_without_forecasts_s"] = round(statistics.median(bare), 2)
    results["rollups_full_with_forecasts_s"] = round(statistics.median(whole), 2)
    results["forecasts_ratio"] = round(statistics.median(whole) / statistics.median(bare), 2)

    latest = Measurement.objects.order_by("-period", "pk").select_related("product", "kpi").first()
    samples = []
    for i in range(5):
        started = time.perf_counter()
        measurement_record(
            product=latest.product, kpi=latest.kpi, period=latest.period, value=latest.value + i
        )
        samples.append((time.perf_counter() - started) * 1000)
    results["rollups_after_one_measurement_ms"] = round(statistics.median(samples), 1)
    results["kpis"] = KPI.objects.count()


def bench_alerts(results: dict) -> None:
    """Issue 17's budgets: the events of a full recompute (at most 1 s), and the inbox (pages below)."""
    from django.db import transaction
    from django.utils import timezone

    from portfolio.alerts.services import (
        forecast_misses_notify,
        kpi_cells_worse_notify,
        products_stuck_notify,
    )
    from portfolio.choices import EventKind
    from portfolio.models import Notification, ReportedEvent

    def timed(work) -> tuple[float, int]:
        started = time.perf_counter()
        with transaction.atomic():
            written = work()
        return round((time.perf_counter() - started) * 1000, 1), written

    # A recompute's events (forecast misses, worse KPI cells) as if every one were new (the first recompute
    # after a seed), then as the next recompute finds them (nothing new: the usual case).
    def recompute_events() -> int:
        return forecast_misses_notify() + kpi_cells_worse_notify()

    ReportedEvent.objects.filter(key__regex=r"^(forecast_miss|kpi_worse):").delete()
    Notification.objects.filter(kind__in=[EventKind.FORECAST_MISS, EventKind.KPI_WORSE]).delete()
    first_ms, first = timed(recompute_events)
    again_ms, again = timed(recompute_events)
    stuck_ms, stuck = timed(lambda: products_stuck_notify(now=timezone.now()))
    results["alerts"] = {
        "forecast_misses": ReportedEvent.objects.filter(key__startswith="forecast_miss:").count(),
        "kpi_cells_worse": ReportedEvent.objects.filter(key__startswith="kpi_worse:").count(),
        "recompute_events_first_ms": first_ms,
        "recompute_events_first_notifications": first,
        "recompute_events_again_ms": again_ms,
        "recompute_events_again_notifications": again,
        "stuck_scan_ms": stuck_ms,
        "stuck_scan_notifications": stuck,
    }


def inbox_fill() -> None:
    """The inbox as a busy director sees it: 600 notifications, a third unread."""
    from django.utils import timezone

    from portfolio.choices import EventKind
    from portfolio.models import Notification
    from products.models import User

    director = User.objects.get(username="director")
    Notification.objects.filter(recipient=director, key__startswith="bench:").delete()
    now = timezone.now()
    Notification.objects.bulk_create(
        Notification(
            recipient=director,
            kind=EventKind.STAGE_MOVED,
            sentence=f"Someone moved product {i} from Problem to Opportunity.",
            url="/lifecycle/board/",
            why="You direct the portfolio.",
            key=f"bench:{i}",
            created_at=now,
            read_at=None if i % 3 == 0 else now,
        )
        for i in range(600)
    )


IMPORT_ROWS = int(os.environ.get("BENCH_IMPORT_ROWS", "200000"))


def bench_import(results: dict) -> None:
    """CSV import of measurements (docs/imports.md): a file of ``IMPORT_ROWS`` rows in the export's format, taken
    from the seeded measurements with every value changed (by one, staying a possible value), checked (dry run), then applied: parse, validate and
    write, all rows updated. The apply runs in a transaction that is rolled back, so the cached portfolio stays
    as seeded (the commit itself and the rollup refresh after it are not timed)."""
    from django.db import transaction

    from portfolio.imports.importer import import_csv
    from portfolio.imports.outcome import ImportRequest
    from portfolio.kpis.exports import MEASUREMENT_COLUMNS
    from portfolio.models import KPI, KPITarget, Measurement
    from products.models import ImportKind, User
    from spm.csvfiles.reader import file_chunks
    from spm.csvfiles.writer import csv_lines

    names = dict(KPI.objects.values_list("pk", "name"))
    defaults = dict(KPI.objects.values_list("pk", "default_target"))
    own = {(p, k): t for p, k, t in KPITarget.objects.values_list("product_id", "kpi_id", "target")}
    rows = (
        Measurement.objects.order_by("product_id", "kpi_id", "period")
        .values_list("product_id", "product__slug", "kpi_id", "period", "value")[:IMPORT_ROWS]
        .iterator(chunk_size=5000)
    )
    path = CACHE / "import-measurements.csv"

    def changed(value: float) -> float:
        # Another value the KPI can take: 100 % uptime becomes 99, a count of 0 becomes 1, an NPS of -100 -99.
        return value - 1 if value >= 1 else value + 1

    with open(path, "w", encoding="utf-8", newline="") as handle:
        lines = csv_lines(
            MEASUREMENT_COLUMNS,
            (
                (slug, names[kpi], period, changed(value), own.get((product, kpi), defaults[kpi]))
                for product, slug, kpi, period, value in rows
            ),
        )
        handle.writelines(lines)
    user = User.objects.get(username="admin")

    def run(apply: bool) -> tuple[float, object]:
        started = time.perf_counter()
        outcome = import_csv(
            ImportRequest(kind=ImportKind.MEASUREMENTS, chunks=file_chunks(path), user=user, apply=apply)
        )
        return time.perf_counter() - started, outcome

    check_s, checked = run(False)
    assert checked.ok, checked.errors[:5]
    with transaction.atomic():
        apply_s, applied = run(True)
        assert applied.applied, applied.errors[:5]
        assert applied.updated == applied.rows, applied.summary()
        transaction.set_rollback(True)
    results["import"] = {
        "rows": applied.rows,
        "mb": round(path.stat().st_size / 1024 / 1024, 1),
        "check_s": round(check_s, 2),
        "apply_s": round(apply_s, 2),
        "check_rows_per_s": round(applied.rows / check_s),
        "apply_rows_per_s": round(applied.rows / apply_s),
    }


# (name, path, the HX-Target a browser sends for the partial, or None for the full page)
PAGES = [
    ("dashboard", "/", None),
    ("dashboard: filter by stage (HTMX)", "/?stage=mvp", "dashboard-body"),
    ("dashboard: sort by health (HTMX)", "/?sort=health&dir=desc", "product-table"),
    ("dashboard: page 3 (HTMX)", "/?page=3", "product-table"),
    ("product list", "/products/", None),
    ("product list: search (HTMX)", "/products/?q=pay", "product-table"),
    ("product list CSV", "/products/?format=csv", None),
    ("product page", "/products/{slug}/", None),
    ("product history (HTMX)", "/products/{slug}/history/", "product-history"),
    ("lifecycle board", "/lifecycle/board/", None),
    ("lifecycle board: filter (HTMX)", "/lifecycle/board/?market=b2b", "board-body"),
    ("lifecycle analytics", "/lifecycle/analytics/", None),
    ("lifecycle analytics: filter (HTMX)", "/lifecycle/analytics/?market=b2b", "analytics-results"),
    ("product lifecycle work (HTMX)", "/lifecycle/products/{slug}/work/", "lifecycle-work"),
    ("director rollups", "/portfolio/rollups/", None),
    (
        "director rollups: by stage, quarter (HTMX)",
        "/portfolio/rollups/?dimension=stage&grain=quarter",
        "rollups-body",
    ),
    ("director rollups: by owner (HTMX)", "/portfolio/rollups/?dimension=owner", "rollups-body"),
    ("KPIs", "/portfolio/kpis/", None),
    ("measurements", "/portfolio/measurements/", None),
    ("measurements: page 50 (HTMX)", "/portfolio/measurements/?page=50", "measurement-table"),
    # Strategy (docs/strategy.md)
    ("objectives", "/portfolio/objectives/", None),
    ("objectives: Payments (HTMX)", "/portfolio/objectives/?portfolio=payments", "objectives-results"),
    ("investment", "/portfolio/investment/", None),
    ("investment: by objective (HTMX)", "/portfolio/investment/?dimension=objective", "investment-results"),
    ("investment: products page 2 (HTMX)", "/portfolio/investment/?page=2", "investment-products"),
    ("investment CSV", "/portfolio/investment/?format=csv&table=products", None),
    ("product budget", "/portfolio/investment/{slug}/", None),
    ("priorities", "/portfolio/priorities/", None),
    ("priorities: WSJF page 2 (HTMX)", "/portfolio/priorities/?rank=wsjf&page=2", "priority-table"),
    ("roadmap", "/portfolio/roadmap/", None),
    ("roadmap: late only (HTMX)", "/portfolio/roadmap/?late=on", "roadmap-results"),
    ("scenarios", "/portfolio/scenarios/", None),
    ("scenario", "/portfolio/scenarios/{scenario}/", None),
    ("scenario: lines page 2 (HTMX)", "/portfolio/scenarios/{scenario}/?page=2", "scenario-lines"),
    # Notifications (docs/alerts.md): the director's inbox holds 600 (bench_alerts)
    ("inbox", "/inbox/", None),
    ("inbox: unread only (HTMX)", "/inbox/?unread=on", "inbox-list"),
    ("inbox: the bell (HTMX)", "/inbox/bell/", "inbox-bell"),
    ("notification settings", "/inbox/settings/", None),
]


def main() -> None:
    results: dict = {"machine": f"{os.cpu_count()} cores", "products": PRODUCTS, "months": MONTHS}
    ensure_database(results)
    from django.db import connection
    from django.test import Client
    from django.urls import Resolver404, resolve

    from products.models import Product, User

    results["database"] = connection.vendor
    # Keep one connection across requests, as gunicorn workers do with CONN_MAX_AGE, and so that the query
    # log survives the request.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    if connection.vendor == "postgresql":
        # The import benchmark of an earlier run rewrote 200,000 measurements: scans must not pay for dead rows.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE portfolio_measurement")
    only = [word.strip() for word in os.environ.get("BENCH_PAGES", "").split(",") if word.strip()]
    if not only:  # BENCH_PAGES=board,objectives times only the pages whose names contain those words
        bench_rollups(results)
        bench_import(results)
        bench_alerts(results)
    inbox_fill()
    client = Client()
    client.force_login(User.objects.get(username="director"))
    slug = Product.objects.filter(owner__username="pm").values_list("slug", flat=True).first()
    from portfolio.models import Scenario

    scenario = Scenario.objects.order_by("pk").values_list("pk", flat=True).first()
    pages = {}
    for name, path, htmx in PAGES:
        if only and not any(word in name for word in only):
            continue
        path = path.format(slug=slug, scenario=scenario)
        try:
            resolve(path.split("?")[0])
        except Resolver404:
            continue
        pages[name] = {"path": path, **time_request(client, path, htmx=htmx)}
    results["pages"] = pages

    print()
    print(
        f"SPM Dashboard benchmark — {connection.vendor}, {results['seed']['measurements']:,} measurements, "
        f"{PRODUCTS} products, {os.cpu_count()} cores"
    )
    if not only:
        print(
            f"  seed: {results['seed']['seconds']} s   full rollup recompute: {results['rollups_full_s']} s "
            f"({results['rollup_rows']:,} rows; {results['rollups_full_replace_s']} s replacing them)   after one measurement: {results['rollups_after_one_measurement_ms']} ms"
        )
        print(
            f"  full recompute, medians of 3 interleaved: {results['rollups_full_with_forecasts_s']} s with forecasts, "
            f"{results['rollups_full_without_forecasts_s']} s without ({results['forecasts_ratio']} x; budget 1.3 x)"
        )
        alerts = results["alerts"]
        print(
            f"  notifications: a full recompute's events {alerts['recompute_events_first_ms']} ms when all "
            f"{alerts['forecast_misses']:,} forecast misses and {alerts['kpi_cells_worse']:,} worse KPI cells are new "
            f"({alerts['recompute_events_first_notifications']:,} notifications), "
            f"{alerts['recompute_events_again_ms']} ms when found again (budget 1 s); daily stuck "
            f"scan {alerts['stuck_scan_ms']} ms ({alerts['stuck_scan_notifications']:,} notifications)"
        )
        figures = results["import"]
        print(
            f"  CSV import of {figures['rows']:,} measurements ({figures['mb']} MB): check {figures['check_s']} s "
            f"({figures['check_rows_per_s']:,} rows/s), apply {figures['apply_s']} s ({figures['apply_rows_per_s']:,} rows/s)"
        )
    print(f"  {'page':<38} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'KB':>7}")
    for name, figures in pages.items():
        print(
            f"  {name:<38} {figures['p50_ms']:>8} {figures['p95_ms']:>8} {figures['queries']:>8} "
            f"{figures['bytes'] / 1024:>7.1f}"
        )
    if only:
        return  # a partial run does not replace the figures of a whole one
    out = ROOT / "bench" / f"results{'-postgresql' if connection.vendor == 'postgresql' else ''}.json"
    out.write_text(json.dumps(results, indent=2, default=str))
    print(f"\nwritten to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
