"""`make load`: throughput and latency of the production stack under 10, 50 and 100 concurrent users.

1. Ensures the PostgreSQL bench database (the 1M-measurement portfolio of `make bench`: seed_demo --products 1000
   --months 12 --seed 1 --today 2026-11-23) exists, is migrated, seeded and rolled up.
2. Starts the `make serve` stack (bench/serve.sh: gunicorn with spm/gunicorn.conf.py, a Celery worker, Celery
   beat) on its own port, and waits for /healthz.
3. Logs people in through the login form (directors and VPs; PMs of every rank) and gives their sessions to the
   Locust scenario (bench/locustfile.py).
4. Runs Locust headless for LOAD_DURATION seconds at each number of users in LOAD_USERS, after a short warm-up,
   and prints requests, requests/s, p50/p95/p99 and errors per step, with the CPU the load generator used.
5. Stops the stack, writes bench/results-load.json, and exits non-zero if any request failed.

Environment (defaults): LOAD_USERS (10,50,100) · LOAD_DURATION (30) seconds per step · LOAD_WARMUP (5) ·
LOAD_WAIT ("0.05,0.45") seconds between a user's requests · LOAD_PORT (8090) · LOAD_DATABASE_URL
(postgres://postgres@127.0.0.1:5432/spm_bench) · LOAD_BROKER_URL (redis://127.0.0.1:6379/9) · WEB_CONCURRENCY and
GUNICORN_THREADS (spm/gunicorn.conf.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import http.cookiejar
import json
import os
import platform
import re
import resource
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
BIN = Path(sys.executable).parent
USERS = [int(n) for n in os.environ.get("LOAD_USERS", "10,50,100").split(",")]
DURATION = int(os.environ.get("LOAD_DURATION", "30"))
WARMUP = int(os.environ.get("LOAD_WARMUP", "5"))
PORT = int(os.environ.get("LOAD_PORT", "8090"))
DATABASE_URL = os.environ.get("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/spm_bench")
BROKER_URL = os.environ.get("LOAD_BROKER_URL", "redis://127.0.0.1:6379/9")
PASSWORD = os.environ.get("SPM_DEMO_PASSWORD", "demo")
BASE = f"http://127.0.0.1:{PORT}"
# The target of issue 9, at 50 users on the 2-core machine.
TARGET_USERS, TARGET_RPS, TARGET_P95_MS = 50, 150, 300
# How many people log in: a mix of directors/VPs and PMs of every rank (the demo's own director, pm, junior first).
DIRECTORS, PMS = 6, 24

ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "spm.settings",
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER_URL,
    "SPM_DEBUG": "false",
    "SPM_HTTPS": "false",
    "SPM_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SPM_SECRET_KEY": os.environ.get("SPM_SECRET_KEY") or "load-test-only-not-a-secret-" + "x" * 30,
    "SPM_DEMO_PASSWORD": PASSWORD,
    "SPM_LOG_LEVEL": "WARNING",
    "GUNICORN_ACCESS_LOG": "",  # one log line per request would cost the server CPU the test measures
    "PORT": str(PORT),
}


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True)


def ensure_database() -> None:
    """Create, migrate, seed and roll up the bench database unless it already holds the portfolio."""
    import psycopg

    name = urllib.parse.urlsplit(DATABASE_URL).path.lstrip("/")
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    manage("migrate", "--no-input", "-v", "0")
    manage(
        "seed_demo",
        "--if-empty",
        "--products",
        "1000",
        "--months",
        "12",
        "--seed",
        "1",
        "--today",
        "2026-11-23",
    )
    with psycopg.connect(DATABASE_URL) as conn:
        measurements = conn.execute("SELECT count(*) FROM portfolio_measurement").fetchone()[0]
        rollups = conn.execute("SELECT EXISTS (SELECT 1 FROM portfolio_rollup)").fetchone()[0]
    if not rollups:  # `make bench` seeds without rollups and computes them itself; a stopped run may not have
        manage("recompute_rollups")
    print(f"Portfolio: {measurements:,} measurements in {name}.")


def people_and_products() -> dict:
    """Who logs in, and the products each may open (a PM's own first; anyone may open any product)."""
    import psycopg

    with psycopg.connect(DATABASE_URL) as conn:
        directors = [
            row[0]
            for row in conn.execute(
                "SELECT username FROM products_user WHERE role IN ('director', 'vp') AND is_active "
                "ORDER BY username = 'director' DESC, username LIMIT %s",
                [DIRECTORS],
            )
        ]
        pms = [
            row[0]
            for row in conn.execute(
                "SELECT u.username FROM products_user u WHERE u.role NOT IN ('director', 'vp') AND u.is_active "
                "AND NOT u.is_superuser AND EXISTS (SELECT 1 FROM products_membership m WHERE m.user_id = u.id) "
                "ORDER BY u.username IN ('pm', 'junior') DESC, u.username LIMIT %s",
                [PMS],
            )
        ]
        slugs = [row[0] for row in conn.execute("SELECT slug FROM products_product ORDER BY id LIMIT 300")]
        owned = {}
        for username in pms:
            owned[username] = [
                row[0]
                for row in conn.execute(
                    "SELECT p.slug FROM products_product p JOIN products_user u ON u.id = p.owner_id "
                    "WHERE u.username = %s ORDER BY p.id LIMIT 20",
                    [username],
                )
            ]
    return {"directors": directors, "pms": pms, "slugs": slugs, "owned": owned}


def log_in(username: str) -> str:
    """Sign in through the login form, as a browser does; returns the session id."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(f"{BASE}/accounts/login/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    body = urllib.parse.urlencode({"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token})
    request = urllib.request.Request(
        f"{BASE}/accounts/login/", data=body.encode(), headers={"Referer": f"{BASE}/accounts/login/"}
    )
    response = opener.open(request, timeout=30)
    if "/accounts/login/" in response.geturl():
        raise SystemExit(f"could not log in as {username} (is SPM_DEMO_PASSWORD the seed's password?)")
    return next(cookie.value for cookie in jar if cookie.name == "sessionid")


def sessions_file(people: dict) -> Path:
    sessions = {
        "directors": [{"username": u, "sessionid": log_in(u), "slugs": []} for u in people["directors"]],
        "pms": [{"username": u, "sessionid": log_in(u), "slugs": people["owned"][u]} for u in people["pms"]],
        "slugs": people["slugs"],
    }
    path = CACHE / "load-sessions.json"
    path.write_text(json.dumps(sessions))
    print(
        f"Logged in {len(sessions['directors'])} directors/VPs and {len(sessions['pms'])} PMs of every rank."
    )
    return path


def start_stack() -> subprocess.Popen:
    log = open(CACHE / "load-serve.log", "w")  # noqa: SIM115 — the stack's output, kept for a failed run
    stack = subprocess.Popen(
        ["bash", "bench/serve.sh"],
        cwd=ROOT,
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if stack.poll() is not None:
            raise SystemExit(f"the stack stopped (exit {stack.returncode}): see {CACHE / 'load-serve.log'}")
        try:
            with urllib.request.urlopen(f"{BASE}/healthz", timeout=5) as response:
                if response.status == 200:
                    return stack
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    stop_stack(stack)
    raise SystemExit(f"the stack did not answer /healthz within 120 s: see {CACHE / 'load-serve.log'}")


def stop_stack(stack: subprocess.Popen) -> None:
    if stack.poll() is None:
        os.killpg(stack.pid, signal.SIGTERM)
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(stack.pid, signal.SIGKILL)
            stack.wait()


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine since boot, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def run_locust(users: int, seconds: int, sessions: Path, *, label: str) -> dict:
    prefix = CACHE / f"load-{label}"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, total_before = machine_busy()
    started = time.monotonic()
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            "bench/locustfile.py",
            "--headless",
            "--only-summary",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--stop-timeout",
            "10",
            "--host",
            BASE,
            "--csv",
            str(prefix),
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env={**ENV, "LOAD_SESSIONS": str(sessions)},
        check=False,  # Locust exits 1 when a request failed; the table says so
        stdout=subprocess.DEVNULL,
        stderr=open(CACHE / f"load-{label}.log", "w"),  # noqa: SIM115
    )
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_after, total_after = machine_busy()
    with open(f"{prefix}_stats.csv") as stats_file:
        rows = list(csv.DictReader(stats_file))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    pages = {
        row["Name"]: {
            "requests": int(row["Request Count"]),
            "errors": int(row["Failure Count"]),
            "p50_ms": float(row["50%"]),
            "p95_ms": float(row["95%"]),
        }
        for row in rows
        if row["Name"] != "Aggregated"
    }
    generator_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {
        "users": users,
        "seconds": seconds,
        "requests": int(total["Request Count"]),
        "errors": int(total["Failure Count"]),
        "rps": round(float(total["Requests/s"]), 1),
        "p50_ms": float(total["50%"]),
        "p95_ms": float(total["95%"]),
        "p99_ms": float(total["99%"]),
        "max_ms": round(float(total["Max Response Time"]), 1),
        # Seconds of CPU per second of wall time: 1.0 is one whole core of the two.
        "load_generator_cores": round(generator_cpu / wall, 2),
        "machine_busy_percent": round(
            100 * (busy_after - busy_before) / max(1.0, total_after - total_before), 1
        ),
        "pages": pages,
    }


def main() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    load_average = os.getloadavg()[0]
    ensure_database()
    people = people_and_products()
    stack = start_stack()
    steps = []
    try:
        sessions = sessions_file(people)
        if WARMUP:
            run_locust(min(USERS), WARMUP, sessions, label="warmup")
        for users in USERS:
            print(f"  {users} users for {DURATION} s …", flush=True)
            steps.append(run_locust(users, DURATION, sessions, label=f"{users}"))
    finally:
        stop_stack(stack)

    machine = f"{os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    print()
    print(f"SPM Dashboard load test — gunicorn + Celery on PostgreSQL/Redis, {machine}")
    wait = os.environ.get("LOAD_WAIT", "0.05,0.45").replace(",", " to ")
    print(f"  {DURATION} s per step, {wait} s between a user's requests")
    print(
        f"  load average before the run: {load_average:.2f} (other work on the machine depresses the figures)"
    )
    print()
    header = (
        f"  {'users':>5} {'requests':>9} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>7}"
    )
    print(header + f" {'locust CPU':>10} {'machine CPU':>11}")
    for step in steps:
        print(
            f"  {step['users']:>5} {step['requests']:>9} {step['rps']:>7} {step['p50_ms']:>7.0f} {step['p95_ms']:>7.0f}"
            f" {step['p99_ms']:>7.0f} {step['errors']:>7} {step['load_generator_cores']:>9.2f}c"
            f" {step['machine_busy_percent']:>10.0f}%"
        )
    target = next((s for s in steps if s["users"] == TARGET_USERS), None)
    verdict = None
    if target is not None:
        verdict = target["rps"] >= TARGET_RPS and target["p95_ms"] <= TARGET_P95_MS
        print(
            f"\n  target at {TARGET_USERS} users: ≥ {TARGET_RPS} req/s with p95 ≤ {TARGET_P95_MS} ms — "
            f"{'met' if verdict else 'NOT met'} ({target['rps']} req/s, p95 {target['p95_ms']:.0f} ms)"
        )
    errors = sum(s["errors"] for s in steps)
    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "load_average_before": round(load_average, 2),
        "duration_s": DURATION,
        "wait_s": os.environ.get("LOAD_WAIT", "0.05,0.45"),
        "gunicorn": {k: ENV.get(k) for k in ("WEB_CONCURRENCY", "GUNICORN_THREADS")},
        "target_met": verdict,
        "steps": steps,
    }
    out = ROOT / "bench" / "results-load.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"  written to {out.relative_to(ROOT)}; per-page figures there, Locust's CSVs in bench/.cache/")
    if errors:
        print(f"\n{errors} requests failed: see bench/.cache/load-*_failures.csv", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
