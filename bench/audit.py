"""`make audit`: every main page in Debian's headless Chromium — axe-core, console errors, CSP, Lighthouse.

Serves a scratch copy of the demo (SQLite, `seed_demo --products 60 --months 12 --seed 1 --today 2026-11-23`)
with production settings (SPM_DEBUG=false, manifest static files compressed by whitenoise) through gunicorn, so
the performance score is that of the real thing. For each page of tests/browser/main_pages.py:

- axe-core (bench/audit/node_modules/axe-core, WCAG 2.1 A and AA rules plus axe's best practices), injected by
  Playwright: the serious and critical violations;
- console errors and Content-Security-Policy violations while the page loads and settles, and whether the page
  fits a 390 px phone (no sideways scroll);
- Lighthouse 12.2.3 (bench/audit/lighthouse.mjs, desktop preset): performance, accessibility and best-practices,
  from the median of LIGHTHOUSE_RUNS (3) cold loads of the page.

Then every interaction of tests/browser/interactions.py (each filter, sort, page, edit in place, record, move,
delete, approve, import...) at 1440 px and on a 390 px touch phone: console errors, CSP violations, overflow, and
whether the changed region and the focused element are in view. The demo is put back as seeded afterwards.

Prints a table per page and per interaction, writes bench/results-audit.json, and exits non-zero when a page or
an interaction misses a target: no serious or critical axe violation, no console error or CSP violation, no
overflow at 390 px, each Lighthouse score ≥ 90, the changed region and focus in view.

    make audit                       # all of the above
    make screenshots                 # only the README's tour: docs/screenshots/<page>.png at 1280x800
    AUDIT_LIGHTHOUSE=0 make audit    # axe, console and CSP only (seconds instead of minutes)
    AUDIT_PAGES=dashboard,product make audit   # some pages only (names from tests/browser/main_pages.py)
    AUDIT_INTERACTIONS=0 make audit  # the pages only
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.interactions import INTERACTIONS, SIZES, after_interaction, settle  # noqa: E402
from tests.browser.main_pages import MAIN_PAGES, MainPage, page_resolves  # noqa: E402 — needs ROOT on the path

CACHE = ROOT / "bench" / ".cache"
NODE_PROJECT = ROOT / "bench" / "audit"
AXE = NODE_PROJECT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
PORT = int(os.environ.get("AUDIT_PORT", "8091"))
BASE = f"http://127.0.0.1:{PORT}"
DATABASE = CACHE / "audit.sqlite3"
PRISTINE = CACHE / "audit-pristine.sqlite3"
SEED = ["--products", "60", "--months", "12", "--seed", "1", "--today", "2026-11-23"]
PASSWORD = "demo"
TARGET_SCORE = 90
# Who looks at each page: the director for the portfolio-wide pages, the product's owner for its page (so its
# edit and measurement forms are audited too).
VIEWER = {"product": "pm"}
DEFAULT_VIEWER = "director"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Runs before any page script: every CSP violation is kept on window for the audit to read.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push([event.violatedDirective, event.blockedURI, event.sourceFile].join(" "));
});
"""

ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_BROKER_URL"))},
    "DJANGO_SETTINGS_MODULE": "spm.settings",
    "SPM_SQLITE_PATH": str(DATABASE),
    "SPM_DEBUG": "false",
    "SPM_HTTPS": "false",
    "SPM_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SPM_SECRET_KEY": "audit-only-not-a-secret-" + "x" * 40,
    "SPM_DEMO_PASSWORD": PASSWORD,
    "SPM_LOG_LEVEL": "WARNING",
    "GUNICORN_ACCESS_LOG": "",
    "WEB_CONCURRENCY": "2",
}


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=ENV, check=True)


def ensure_database() -> None:
    """Seed the scratch database once per version of the migrations and the seeder."""
    digest = hashlib.sha256(" ".join(SEED).encode())
    for path in [*sorted(ROOT.glob("*/migrations/0*.py")), *sorted(ROOT.glob("portfolio/demo/*.py"))]:
        digest.update(path.read_bytes())
    marker = CACHE / "audit.seeded"
    if not (DATABASE.exists() and marker.exists() and marker.read_text() == digest.hexdigest()):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DATABASE}{suffix}").unlink(missing_ok=True)
        manage("migrate", "--no-input", "-v", "0")
        manage("seed_demo", *SEED, "-v", "0")
        marker.write_text(digest.hexdigest())
    manage("migrate", "--no-input", "-v", "0")
    manage("collectstatic", "--no-input", "-v", "0")


def restore_database() -> None:
    """Put back the demo as seeded (copied before the server started)."""
    if PRISTINE.exists():
        for suffix in ("-wal", "-shm"):
            Path(f"{DATABASE}{suffix}").unlink(missing_ok=True)
        shutil.move(PRISTINE, DATABASE)


def owned_product(username: str) -> str:
    with sqlite3.connect(DATABASE) as conn:
        row = conn.execute(
            "SELECT p.slug FROM products_product p JOIN products_user u ON u.id = p.owner_id "
            "WHERE u.username = ? ORDER BY p.id LIMIT 1",
            [username],
        ).fetchone()
    return row[0]


def start_server() -> subprocess.Popen:
    log = open(CACHE / "audit-server.log", "w")  # noqa: SIM115 — the server's output, kept for a failed run
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "spm.wsgi",
            "--config",
            "spm/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{PORT}",
        ],
        cwd=ROOT,
        env=ENV,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn stopped (exit {server.returncode}): see {CACHE / 'audit-server.log'}")
        try:
            with urllib.request.urlopen(f"{BASE}/healthz", timeout=5):
                return server
        except (urllib.error.URLError, OSError):
            time.sleep(0.5)
    stop_server(server)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def log_in(context, username: str) -> str:
    """Sign in through the form; returns the Cookie header that carries the session (for Lighthouse)."""
    page = context.new_page()
    page.goto(f"{BASE}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.close()
    return "; ".join(f"{c['name']}={c['value']}" for c in context.cookies() if c["name"] == "sessionid")


def axe_violations(page, axe_source: str) -> list[dict]:
    # Evaluated through the DevTools protocol, which the page's CSP does not govern (a <script> tag would be
    # refused: it carries no nonce).
    page.evaluate(axe_source)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
            # Why, e.g. "insufficient color contrast of 3.9 (foreground color: #64748b, background color: ...)".
            "why": [check["message"] for n in v["nodes"][:2] for check in n["any"][:1]],
        }
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def browse(pages: list[tuple[MainPage, str]], *, screenshots: bool) -> tuple[dict, dict[str, str]]:
    """axe, console errors and CSP for each page (or its screenshot); returns findings and session cookies."""
    from playwright.sync_api import sync_playwright

    axe_source = AXE.read_text() if not screenshots else ""
    findings: dict[str, dict] = {}
    cookies: dict[str, str] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = {}
        try:
            for main_page, path in pages:
                viewer = VIEWER.get(main_page.name, DEFAULT_VIEWER) if main_page.signed_in else ""
                if viewer not in contexts:
                    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=BASE)
                    context.add_init_script(RECORD_CSP_VIOLATIONS)
                    cookies[viewer] = log_in(context, viewer) if viewer else ""
                    contexts[viewer] = context
                page = contexts[viewer].new_page()
                console_errors: list[str] = []
                page.on(
                    "console", lambda m, errors=console_errors: m.type == "error" and errors.append(m.text)
                )
                page.on("pageerror", lambda e, errors=console_errors: errors.append(str(e)))
                page.goto(path)
                page.wait_for_load_state("networkidle")
                if screenshots:
                    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(SCREENSHOTS / f"{main_page.name}.png"))
                    print(f"  {SCREENSHOTS.relative_to(ROOT) / main_page.name}.png")
                else:
                    findings[main_page.name] = {
                        "path": path,
                        "viewer": viewer or "anonymous",
                        "axe": axe_violations(page, axe_source),
                        "console_errors": console_errors,
                        "csp_violations": page.evaluate("window.__cspViolations"),
                        "overflow_390": phone_overflow(contexts[viewer], path),
                    }
                page.close()
        finally:
            browser.close()
    return findings, cookies


def phone_overflow(context, path: str) -> int:
    """How many pixels wider than a 390 px phone the page is (0: it fits), loaded at that width: a page
    narrowed after loading would measure the charts before they redraw."""
    page = context.new_page()
    page.set_viewport_size(SIZES["phone"])
    page.goto(path)
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("Math.max(0, document.documentElement.scrollWidth - window.innerWidth)")
    page.close()
    return overflow


def interact(slug: str) -> dict[str, dict]:
    """Every interaction of tests/browser/interactions.py at both sizes: what each left behind."""
    from playwright.sync_api import sync_playwright

    found: dict[str, dict] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for size, viewport in SIZES.items():
                phone = size == "phone"
                context = browser.new_context(
                    viewport=viewport, base_url=BASE, is_mobile=phone, has_touch=phone
                )
                context.add_init_script(RECORD_CSP_VIOLATIONS)
                page = context.new_page()
                page.set_default_timeout(15_000)
                errors: list[str] = []
                page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                viewer = None
                for interaction in INTERACTIONS:
                    if interaction.viewer != viewer:
                        context.clear_cookies()
                        log_in(context, interaction.viewer)
                        viewer = interaction.viewer
                    before = len(errors)
                    try:
                        if interaction.open_page:
                            page.goto(interaction.path.format(product=slug))
                            settle(page)
                        region = interaction.act(page, slug)
                        result = after_interaction(page, region, phone=phone)
                    except Exception as error:
                        result = {"failed": str(error).splitlines()[0]}
                    result["console_errors"] = errors[before:]
                    name = f"{size}: {interaction.name}"
                    found[name] = result
                    if interaction_failures(name, result):  # what the person saw, for the one who fixes it
                        shot = CACHE / f"audit-{re.sub(r'[^a-z0-9]+', '-', name.lower())}.png"
                        page.screenshot(path=str(shot), full_page=True)
                        result["screenshot"] = str(shot.relative_to(ROOT))
                context.close()
        finally:
            browser.close()
    return found


def interaction_failures(name: str, result: dict) -> list[str]:
    if "failed" in result:
        return [f"{name}: could not be done: {result['failed']}"]
    failures = [f"{name}: console error {e}" for e in result["console_errors"]]
    failures += [f"{name}: CSP violation {e}" for e in result["csp"]]
    if result["overflow"]:
        failures.append(f"{name}: {result['overflow']} px wider than the phone")
    if not result["region_in_view"]:
        failures.append(f"{name}: the changed region is out of view")
    if not result["focus_in_view"]:
        failures.append(f"{name}: the focused element is out of view")
    return failures


def lighthouse(pages: list[tuple[MainPage, str]], cookies: dict[str, str]) -> dict:
    listing = [
        {
            "name": main_page.name,
            "url": BASE + path,
            "cookie": cookies[VIEWER.get(main_page.name, DEFAULT_VIEWER)] if main_page.signed_in else "",
        }
        for main_page, path in pages
    ]
    pages_file, scores_file = CACHE / "audit-pages.json", CACHE / "audit-lighthouse.json"
    pages_file.write_text(json.dumps(listing))
    subprocess.run(
        ["node", str(NODE_PROJECT / "lighthouse.mjs"), str(pages_file), str(scores_file)],
        cwd=ROOT,
        env={**os.environ, "CHROME_PATH": CHROMIUM},
        check=True,
    )
    return json.loads(scores_file.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--screenshots", action="store_true", help="only write docs/screenshots/<page>.png")
    args = parser.parse_args()
    with_lighthouse = not args.screenshots and os.environ.get("AUDIT_LIGHTHOUSE", "1") != "0"
    if not args.screenshots and not AXE.exists():
        raise SystemExit(f"{AXE} is missing: run `npm ci --prefix bench/audit` (make audit does)")
    CACHE.mkdir(parents=True, exist_ok=True)
    os.environ.update(ENV)
    import django

    django.setup()  # for the URLconf: which optional pages exist yet
    ensure_database()
    shutil.copyfile(DATABASE, PRISTINE)
    slug = owned_product("pm")
    server = start_server()
    notes, pages = [], []
    try:
        only = {name for name in os.environ.get("AUDIT_PAGES", "").split(",") if name}
        for main_page in MAIN_PAGES:
            if only and main_page.name not in only:
                continue
            path = main_page.path.format(product=slug)
            if main_page.optional and not page_resolves(main_page.path):
                notes.append(f"{main_page.name} ({path}): not built yet (no such URL), skipped")
                continue
            pages.append((main_page, path))
        findings, cookies = browse(pages, screenshots=args.screenshots)
        scores = lighthouse(pages, cookies) if with_lighthouse else {}
        with_interactions = not args.screenshots and os.environ.get("AUDIT_INTERACTIONS", "1") != "0"
        interactions = interact(slug) if with_interactions else {}
    finally:
        stop_server(server)
        # The interactions wrote to the demo (a scenario approved, lines deleted): the next run starts afresh.
        if not args.screenshots:
            restore_database()
    for note in notes:
        print(f"  note: {note}")
    if args.screenshots:
        return

    failures = []
    print()
    print(
        f"SPM Dashboard browser audit — {platform.system()} {platform.release()}, {os.cpu_count()} cores, {CHROMIUM}"
    )
    print(
        f"  {'page':<20} {'axe serious+critical':>20} {'console':>8} {'CSP':>4} {'390px':>6}"
        f" {'perf':>5} {'a11y':>5} {'b-p':>5}"
    )
    for main_page, _path in pages:
        found = findings[main_page.name]
        score = scores.get(main_page.name, {}).get("scores", {})
        found["lighthouse"] = scores.get(main_page.name)
        cells = [score.get(c, "-") for c in ("performance", "accessibility", "best-practices")]
        fits = "fits" if not found["overflow_390"] else f"+{found['overflow_390']}"
        print(
            f"  {main_page.name:<20} {len(found['axe']):>20} {len(found['console_errors']):>8}"
            f" {len(found['csp_violations']):>4} {fits:>6} {cells[0]:>5} {cells[1]:>5} {cells[2]:>5}"
        )
        if found["overflow_390"]:
            failures.append(f"{main_page.name}: {found['overflow_390']} px wider than a 390 px phone")
        for violation in found["axe"]:
            failures.append(
                f"{main_page.name}: axe {violation['impact']} {violation['id']} at {violation['nodes']}: {violation['why']}"
            )
        failures += [f"{main_page.name}: console error {e}" for e in found["console_errors"]]
        failures += [f"{main_page.name}: CSP violation {e}" for e in found["csp_violations"]]
        final_url = (found["lighthouse"] or {}).get("finalUrl", "")
        if (found["lighthouse"] or {}).get("runtimeError"):
            failures.append(
                f"{main_page.name}: Lighthouse could not measure: {found['lighthouse']['runtimeError']}"
            )
        if main_page.signed_in and "/accounts/login/" in final_url:
            failures.append(f"{main_page.name}: Lighthouse was sent to the login page: its session was lost")
        for category, value in score.items():
            if value < TARGET_SCORE:
                missed = [f for f in scores[main_page.name]["failing"] if f.startswith(category)]
                failures.append(f"{main_page.name}: Lighthouse {category} {value} < {TARGET_SCORE}: {missed}")
    if interactions:
        print()
        print(f"  {'interaction':<46} {'console':>8} {'CSP':>4} {'overflow':>9} {'region':>7} {'focus':>6}")
        for name, result in interactions.items():
            if "failed" in result:
                print(f"  {name:<46} could not be done: {result['failed'][:60]}")
            else:
                print(
                    f"  {name:<46} {len(result['console_errors']):>8} {len(result['csp']):>4}"
                    f" {result['overflow']:>9} {'in view' if result['region_in_view'] else 'OUT':>7}"
                    f" {'in view' if result['focus_in_view'] else 'OUT':>6}"
                )
            failures += interaction_failures(name, result)
    results = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.release()}",
        "lighthouse": "12.2.3, desktop preset" if with_lighthouse else None,
        "pages": findings,
        "interactions": interactions,
        "notes": notes,
        "failures": failures,
    }
    out = ROOT / "bench" / "results-audit.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\n  written to {out.relative_to(ROOT)}")
    if failures:
        print("\nTargets missed:", *failures, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print("  every page meets its targets")


if __name__ == "__main__":
    main()
