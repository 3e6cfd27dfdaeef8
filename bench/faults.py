"""`make faults`: the production stack meets the faults it will meet in production, and the report says how it held.

Runs on services of its own, so nothing else on the machine is disturbed: a throwaway PostgreSQL cluster
(initdb + pg_ctl on FAULTS_PG_PORT, 5440) and a Redis server (FAULTS_REDIS_PORT, 6390), seeded with a small demo
portfolio, served by gunicorn (spm/gunicorn.conf.py, statement timeout 2 s) and one Celery worker.

1. Redis stopped: pages still serve, the dashboard shows its rollups as stale, a measurement recorded in the
   web form is saved, /healthz says the broker is down, a mail a new scenario makes waits in the outbox; Redis
   back, a reconcile brings the rollups up to date and the outbox task delivers the mail (to an SMTP server of
   this script's own, aiosmtpd on FAULTS_SMTP_PORT, 8025).
2. The Celery worker killed with SIGKILL in the middle of a recompute: the old rollups stay whole, the stale marks
   stay; a restarted worker finishes the recompute.
3. PostgreSQL restarted under load: requests fail cleanly at worst (a friendly 503, no hang, no traceback) and
   succeed again once it is back, without restarting gunicorn.
4. A slow query: the page answers a friendly 503 when the statement timeout cancels it, not a hang.

Prints one line per check and exits non-zero if any failed.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
BIN = Path(sys.executable).parent
PG_PORT = int(os.environ.get("FAULTS_PG_PORT", "5440"))
REDIS_PORT = int(os.environ.get("FAULTS_REDIS_PORT", "6390"))
WEB_PORT = int(os.environ.get("FAULTS_WEB_PORT", "8092"))
SMTP_PORT = int(os.environ.get("FAULTS_SMTP_PORT", "8025"))
BASE = f"http://127.0.0.1:{WEB_PORT}"
DATABASE_URL = f"postgres://postgres@127.0.0.1:{PG_PORT}/spm_faults"
BROKER_URL = f"redis://127.0.0.1:{REDIS_PORT}/0"
STATEMENT_TIMEOUT_MS = 2000
PASSWORD = "demo"
REQUEST_TIMEOUT = 15  # a request that takes longer than this counts as a hang

ENV = {
    **{
        k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_BROKER_URL", "SPM_"))
    },
    "DJANGO_SETTINGS_MODULE": "spm.settings",
    "DATABASE_URL": DATABASE_URL,
    "CELERY_BROKER_URL": BROKER_URL,
    "SPM_DEBUG": "false",
    "SPM_HTTPS": "false",
    "SPM_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SPM_SECRET_KEY": "faults-only-not-a-secret-" + "x" * 40,
    "SPM_DEMO_PASSWORD": PASSWORD,
    "SPM_LOG_LEVEL": "WARNING",
    "GUNICORN_ACCESS_LOG": "",
    "WEB_CONCURRENCY": "2",
    "SPM_EMAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}?timeout=5",
}

results: list[tuple[str, bool, str]] = []


def check(name: str, passed: bool, detail: str = "") -> bool:
    results.append((name, passed, detail))
    print(f"  {'PASS' if passed else 'FAIL'}  {name}{f' — {detail}' if detail else ''}", flush=True)
    return passed


def wait_until(condition: Callable[[], bool], *, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if condition():
                return True
        time.sleep(interval)
    return False


# ---------------------------------------------------------------------------------------------- services


def pg_binary(name: str) -> str:
    found = shutil.which(name) or next(
        iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None
    )
    if not found:
        raise SystemExit(f"{name} not found: install PostgreSQL (apt-get install postgresql)")
    return found


class Postgres:
    """A throwaway cluster on its own port; as root, it runs as the postgres user (initdb refuses root)."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="spm-faults-pg-"))
        self.data, self.log = self.directory / "data", self.directory / "postgres.log"
        self.as_root = os.geteuid() == 0

    def run(self, *command: str) -> None:
        if self.as_root:
            shutil.chown(self.directory, "postgres")
            command = ("su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{part}'" for part in command))
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def pg_ctl(self, action: str) -> None:
        options = f"-p {PG_PORT} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self.run(
            pg_binary("pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-m",
            "fast",
            action,
        )

    def start(self) -> None:
        self.run(pg_binary("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.pg_ctl("start")
        with psycopg.connect(DATABASE_URL.replace("/spm_faults", "/postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE spm_faults")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.pg_ctl("stop")
        shutil.rmtree(self.directory, ignore_errors=True)


class Process:
    """A child process in its own process group, its output in bench/.cache/faults-<name>.log."""

    def __init__(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        self.name, self.command, self.env = name, command, env or ENV
        self.popen: subprocess.Popen | None = None

    def start(self) -> Process:
        log = open(CACHE / f"faults-{self.name}.log", "a")  # noqa: SIM115 — kept open by the child
        self.popen = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.popen and self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()


def redis_server() -> Process:
    return Process(
        "redis",
        [
            "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
    )


def smtp_server() -> Process:
    # aiosmtpd's own command (the dev extra): prints every message it receives to its log.
    command = [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{SMTP_PORT}"]
    return Process("smtp", command, {**ENV, "PYTHONUNBUFFERED": "1"})


def smtp_received(subject_part: str) -> bool:
    log = CACHE / "faults-smtp.log"
    return log.exists() and subject_part in log.read_text(errors="replace")


def create_scenario(session: requests.Session, name: str) -> requests.Response:
    """A director copies the live plan into a scenario of their portfolio: it awaits approval, so the VPs are
    mailed at once (the catalogue's default)."""
    portfolio = sql(
        "SELECT p.slug FROM portfolio_portfolio p JOIN products_user u ON u.id = p.director_id "
        "WHERE u.username = 'director' ORDER BY p.id LIMIT 1"
    )[0][0]
    page = session.get(f"{BASE}/portfolio/scenarios/", timeout=REQUEST_TIMEOUT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session.post(
        f"{BASE}/portfolio/scenarios/",
        data={"name": name, "portfolio": portfolio, "description": "", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{BASE}/portfolio/scenarios/"},
        timeout=REQUEST_TIMEOUT,
        allow_redirects=False,
    )


def enqueue(task: str) -> None:
    subprocess.run(
        [str(BIN / "celery"), "-A", "spm", "call", task],
        cwd=ROOT,
        env=ENV,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def celery_worker() -> Process:
    # One process (solo pool): the process that runs the recompute is the one this script kills.
    return Process(
        "worker",
        [str(BIN / "celery"), "-A", "spm", "worker", "--pool=solo", "--loglevel=INFO", "--without-mingle"],
    )


def gunicorn() -> Process:
    env = {**ENV, "SPM_STATEMENT_TIMEOUT_MS": str(STATEMENT_TIMEOUT_MS)}  # the web processes only
    command = [
        str(BIN / "gunicorn"),
        "spm.wsgi",
        "--config",
        "spm/gunicorn.conf.py",
        "--bind",
        f"127.0.0.1:{WEB_PORT}",
    ]
    return Process("gunicorn", command, env)


def manage(*args: str) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True, stdout=subprocess.DEVNULL
    )


# ---------------------------------------------------------------------------------------------- the app


def sql(query: str, params: tuple = ()) -> list[tuple]:
    with psycopg.connect(DATABASE_URL, connect_timeout=3) as conn:
        return conn.execute(query, params).fetchall()


def log_in(username: str) -> requests.Session:
    session = requests.Session()
    form = session.get(f"{BASE}/accounts/login/", timeout=REQUEST_TIMEOUT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    session.post(
        f"{BASE}/accounts/login/",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{BASE}/accounts/login/"},
        timeout=REQUEST_TIMEOUT,
    )
    if "sessionid" not in session.cookies:
        raise SystemExit(f"could not log in as {username}")
    return session


def record_measurement(session: requests.Session, value: float) -> tuple[requests.Response, str, int, str]:
    """Record a value of the product's first KPI in its page's form; returns the answer, slug, KPI id and period."""
    # A KPI whose valid range holds the value (a percentage's 0 to 100 would refuse 3131, as it should).
    slug, kpi_id, period = sql(
        "SELECT p.slug, m.kpi_id, m.period::text FROM portfolio_measurement m "
        "JOIN products_product p ON p.id = m.product_id JOIN products_user u ON u.id = p.owner_id "
        "JOIN portfolio_kpi k ON k.id = m.kpi_id "
        "WHERE u.username = 'pm' AND (k.max_value IS NULL OR k.max_value >= %s) "
        "AND (k.min_value IS NULL OR k.min_value <= %s) ORDER BY m.period DESC, m.kpi_id LIMIT 1",
        (value, value),
    )[0]
    page = session.get(f"{BASE}/products/{slug}/", timeout=REQUEST_TIMEOUT)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{BASE}/products/{slug}/measurements/",
        data={"kpi": kpi_id, "period": period, "value": value, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{BASE}/products/{slug}/"},
        timeout=REQUEST_TIMEOUT,
        allow_redirects=False,
    )
    confirm = (
        re.search(r'name="replaces" value="([^"]+)"', response.text) if response.status_code == 200 else None
    )
    if confirm:  # the week has a value already: confirm the replacement, as a person would
        response = session.post(
            f"{BASE}/products/{slug}/measurements/",
            data={
                "kpi": kpi_id,
                "period": period,
                "value": value,
                "replaces": confirm.group(1),
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{BASE}/products/{slug}/"},
            timeout=REQUEST_TIMEOUT,
            allow_redirects=False,
        )
    return response, slug, kpi_id, period


def rollup_fresh(kpi_id: int, period: str) -> bool:
    """No stale marks left, and the KPI's organisation rollup for the period computed after its newest value."""
    if sql("SELECT EXISTS (SELECT 1 FROM portfolio_stalerollup)")[0][0]:
        return False
    return sql(
        "SELECT r.computed_at >= (SELECT max(recorded_at) FROM portfolio_measurement WHERE kpi_id = %s AND period = %s) "
        "FROM portfolio_rollup r WHERE r.kpi_id = %s AND r.period = %s AND r.scope = 'organisation' "
        "AND r.grain = 'native'",
        (kpi_id, period, kpi_id, period),
    )[0][0]


def enqueue_reconcile() -> None:
    enqueue("portfolio.tasks.rollups_reconcile")


# ---------------------------------------------------------------------------------------------- the faults


def redis_stopped(session: requests.Session, redis: Process) -> Process:
    print("\n1. Redis stopped", flush=True)
    redis.stop()
    pages = {
        path: session.get(BASE + path, timeout=REQUEST_TIMEOUT).status_code
        for path in ("/", "/products/", "/portfolio/rollups/")
    }
    check("pages serve with Redis down", set(pages.values()) == {200}, str(pages))
    health = session.get(f"{BASE}/healthz", timeout=REQUEST_TIMEOUT)
    check(
        "/healthz says the broker is down",
        health.status_code == 503 and health.json()["broker"]["status"] == "down",
        f"{health.status_code} {health.json()['broker']}",
    )
    started = time.monotonic()
    response, _slug, kpi_id, period = record_measurement(session, 4242.0)
    took = time.monotonic() - started
    check(
        "a measurement is saved with Redis down",
        response.status_code == 302,
        f"{response.status_code} in {took:.1f} s",
    )
    stale = session.get(f"{BASE}/", timeout=REQUEST_TIMEOUT)
    check("the dashboard shows its rollups as stale", "Recomputing" in stale.text)
    check("the stale marks wait for a refresh", not rollup_fresh(kpi_id, period))
    director = log_in("director")
    scenario = "Faults: hold Q1 spend"
    started = time.monotonic()
    created = create_scenario(director, scenario)
    took = time.monotonic() - started
    queued = sql(
        "SELECT count(*) FROM portfolio_outboxemail WHERE subject LIKE %s AND sent_at IS NULL",
        (f"%{scenario}%",),
    )[0][0]
    check(
        "a new scenario's mail waits in the outbox with Redis down",
        created.status_code == 302 and queued > 0,
        f"{created.status_code} in {took:.1f} s, {queued} mail(s) queued",
    )

    redis = redis_server().start()
    wait_until(
        lambda: (
            subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True).returncode == 0
        ),
        timeout=15,
    )
    started = time.monotonic()
    enqueue_reconcile()
    fresh = wait_until(lambda: rollup_fresh(kpi_id, period), timeout=120)
    check(
        "Redis back: a reconcile brings the rollups up to date",
        fresh,
        f"in {time.monotonic() - started:.1f} s",
    )
    started = time.monotonic()
    enqueue("portfolio.tasks.outbox_send")  # what beat does every minute
    delivered = wait_until(
        lambda: (
            smtp_received(scenario)
            and not sql(
                "SELECT count(*) FROM portfolio_outboxemail WHERE subject LIKE %s AND sent_at IS NULL",
                (f"%{scenario}%",),
            )[0][0]
        ),
        timeout=60,
    )
    check(
        "Redis back: the outbox delivers the mail, nothing lost",
        delivered,
        f"in {time.monotonic() - started:.1f} s, {queued} mail(s) received by SMTP",
    )
    return redis


def worker_killed(session: requests.Session, worker: Process) -> Process:
    print("\n2. Celery worker killed with SIGKILL mid-recompute", flush=True)
    before = sql("SELECT count(*), sum(value) FROM portfolio_rollup")[0]
    with psycopg.connect(DATABASE_URL) as blocker:
        # Hold the rollup table: the worker's recompute blocks inside its transaction, and is killed there.
        blocker.execute("LOCK TABLE portfolio_rollup IN ACCESS EXCLUSIVE MODE")
        response, _slug, kpi_id, period = record_measurement(session, 5151.0)
        check("a measurement is saved", response.status_code == 302, str(response.status_code))
        waiting = wait_until(
            lambda: (
                sql(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = 'spm_faults'"
                )[0][0]
                > 0
            ),
            timeout=60,
        )
        check("the worker is mid-recompute (waiting inside its transaction)", waiting)
        worker.stop(signal.SIGKILL)
        blocker.rollback()
    after = sql("SELECT count(*), sum(value) FROM portfolio_rollup")[0]
    check("the killed recompute left the old rollups whole", after == before, f"{after[0]:,} rows")
    marks = sql("SELECT count(*) FROM portfolio_stalerollup")[0][0]
    check("its stale marks are still there", marks > 0, f"{marks} marks")
    started = time.monotonic()
    worker = celery_worker().start()
    fresh = wait_until(lambda: rollup_fresh(kpi_id, period), timeout=120)
    check(
        "a restarted worker completes the recompute",
        fresh,
        f"in {time.monotonic() - started:.1f} s after restart",
    )
    return worker


def postgres_restarted(session: requests.Session, postgres: Postgres, web: Process) -> None:
    print("\n3. PostgreSQL restarted under load", flush=True)
    statuses: Counter[str] = Counter()
    slowest = [0.0]
    stop = threading.Event()
    paths = ["/", "/products/", "/portfolio/rollups/", "/portfolio/kpis/"]

    def browse(index: int) -> None:
        client = requests.Session()
        client.cookies.update(session.cookies)
        while not stop.is_set():
            path = paths[index % len(paths)]
            index += 1
            started = time.monotonic()
            try:
                response = client.get(BASE + path, timeout=REQUEST_TIMEOUT)
                friendly = response.status_code == 503 and "temporarily unavailable" in response.text
                key = "503 friendly" if friendly else str(response.status_code)
            except requests.Timeout:
                key = "hang (timeout)"
            except requests.RequestException as error:
                key = f"connection error ({type(error).__name__})"
            slowest[0] = max(slowest[0], time.monotonic() - started)
            statuses[key] += 1
            time.sleep(0.05)

    gunicorn_pid = web.popen.pid
    threads = [threading.Thread(target=browse, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    started = time.monotonic()
    postgres.pg_ctl("stop")
    time.sleep(3)  # down for a few seconds: requests meanwhile must fail cleanly
    postgres.pg_ctl("start")
    back = wait_until(lambda: session.get(f"{BASE}/", timeout=REQUEST_TIMEOUT).status_code == 200, timeout=60)
    recovered_after = time.monotonic() - started
    time.sleep(3)
    stop.set()
    for thread in threads:
        thread.join()
    unclean = {k: v for k, v in statuses.items() if k not in {"200", "503 friendly"}}
    check(
        "requests during the restart failed cleanly (200 or a friendly 503)",
        not unclean,
        dict(statuses).__repr__(),
    )
    check("no request hung", slowest[0] < REQUEST_TIMEOUT, f"slowest {slowest[0]:.1f} s")
    check(
        "pages serve again without restarting gunicorn",
        back and web.popen.poll() is None and web.popen.pid == gunicorn_pid,
        f"{recovered_after:.1f} s after the stop",
    )


def slow_query(session: requests.Session) -> None:
    print("\n4. A slow query", flush=True)
    with psycopg.connect(DATABASE_URL) as blocker:
        # Another session holds the product table: the product list's query waits until the timeout cancels it.
        blocker.execute("LOCK TABLE products_product IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        try:
            response = session.get(f"{BASE}/products/", timeout=REQUEST_TIMEOUT)
            took, status, text = time.monotonic() - started, response.status_code, response.text
        except requests.Timeout:
            took, status, text = time.monotonic() - started, "hang", ""
        blocker.rollback()
    check(
        f"the page answers a friendly 503 when the statement timeout ({STATEMENT_TIMEOUT_MS} ms) fires",
        status == 503 and "took too long" in text,
        f"{status} in {took:.1f} s",
    )
    check(
        "the page serves again once the query is not slow",
        session.get(f"{BASE}/products/", timeout=REQUEST_TIMEOUT).status_code == 200,
    )


def main() -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    for log in CACHE.glob("faults-*.log"):
        log.unlink()
    for tool in ("redis-server", "redis-cli"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: apt-get install redis-server")
    print(
        f"Starting PostgreSQL on {PG_PORT} and Redis on {REDIS_PORT} of this script's own; seeding a small portfolio…"
    )
    postgres = Postgres()
    redis = worker = web = smtp = None
    try:
        postgres.start()
        redis = redis_server().start()
        smtp = smtp_server().start()
        manage("migrate", "--no-input", "-v", "0")
        manage("collectstatic", "--no-input", "-v", "0")
        manage(
            "seed_demo",
            "--products",
            "40",
            "--months",
            "6",
            "--seed",
            "1",
            "--today",
            "2026-11-23",
            "-v",
            "0",
        )
        worker = celery_worker().start()
        web = gunicorn().start()
        if not wait_until(lambda: requests.get(f"{BASE}/healthz", timeout=5).status_code == 200, timeout=60):
            raise SystemExit(f"the stack did not come up: see {CACHE}/faults-*.log")
        session = log_in("pm")
        response, _slug, kpi_id, period = record_measurement(session, 3131.0)
        check(
            "baseline: a measurement is rolled up by the worker",
            response.status_code == 302 and wait_until(lambda: rollup_fresh(kpi_id, period), timeout=60),
        )
        redis = redis_stopped(session, redis)
        worker = worker_killed(session, worker)
        postgres_restarted(session, postgres, web)
        slow_query(session)
    finally:
        for process in (web, worker, redis, smtp):
            if process:
                process.stop()
        postgres.stop()

    failed = [name for name, passed, _ in results if not passed]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        print(f"logs: {CACHE}/faults-*.log", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
