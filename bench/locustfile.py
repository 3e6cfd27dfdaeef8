"""The `make load` scenario (Locust): product managers and directors browsing SPM Dashboard.

bench/load.py logs the people in through the real login form first and hands their session cookies over in
LOAD_SESSIONS (a JSON file), so the password hash (deliberately slow) is not what the load test measures. Each
simulated user takes one person's session: directors review rollups and drill down; PMs work the dashboard,
their products and the KPI pages. Both download CSV exports now and then. Requests for an HTMX region send the
HX-Request and HX-Target headers a browser sends.

Run by bench/load.py; by hand:  locust -f bench/locustfile.py --headless -u 50 -r 50 --run-time 30s --host URL
"""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, between, task

with open(os.environ.get("LOAD_SESSIONS", "bench/.cache/load-sessions.json")) as sessions_file:
    SESSIONS = json.load(sessions_file)
WAIT_MIN, WAIT_MAX = (float(x) for x in os.environ.get("LOAD_WAIT", "0.05,0.45").split(","))
STAGES = ["problem", "opportunity", "research", "mvp", "feedback", "strategy", "execution"]
DIMENSIONS = ["portfolio", "stage", "market", "focus", "owner"]
GRAINS = ["native", "month", "quarter"]
_directors = itertools.cycle(SESSIONS["directors"])
_pms = itertools.cycle(SESSIONS["pms"])


def htmx(target: str) -> dict[str, str]:
    return {"HX-Request": "true", "HX-Target": target}


class Person(FastHttpUser):
    abstract = True
    wait_time = between(WAIT_MIN, WAIT_MAX)
    sessions: itertools.cycle

    def on_start(self) -> None:
        person = next(self.sessions)
        self.username = person["username"]
        self.cookie = {"Cookie": f"sessionid={person['sessionid']}"}
        self.slugs = person["slugs"] or SESSIONS["slugs"]

    def get(self, path: str, *, name: str, headers: dict[str, str] | None = None) -> None:
        with self.client.get(
            path, name=name, headers={**self.cookie, **(headers or {})}, catch_response=True
        ) as response:
            # A lost session would redirect to the login page: that is an error here, not a page.
            if response.status_code != 200 or "/accounts/login/" in (response.url or ""):
                response.failure(f"{response.status_code} for {path}")
            elif headers and "HX-Request" in headers and b"<html" in response.content[:400]:
                response.failure(f"a whole page for the HTMX request {path}")

    def product(self) -> str:
        return random.choice(self.slugs)


class ProductManager(Person):
    """PMs (all ranks): their dashboard and its filters, their products, the board and the KPI pages."""

    weight = 7
    sessions = _pms

    @task(6)
    def dashboard(self) -> None:
        self.get("/", name="dashboard")

    @task(4)
    def dashboard_filter(self) -> None:
        self.get(
            f"/?stage={random.choice(STAGES)}",
            name="dashboard: filter (HTMX)",
            headers=htmx("dashboard-body"),
        )

    @task(2)
    def dashboard_sort(self) -> None:
        self.get("/?sort=health&dir=desc", name="dashboard: sort (HTMX)", headers=htmx("product-table"))

    @task(2)
    def dashboard_page(self) -> None:
        self.get(
            f"/?page={random.randint(2, 5)}", name="dashboard: page (HTMX)", headers=htmx("product-table")
        )

    @task(3)
    def product_list(self) -> None:
        self.get("/products/", name="product list")

    @task(2)
    def product_search(self) -> None:
        self.get(
            f"/products/?q={random.choice(['pay', 'data', 'mobile', 'ops', 'cloud'])}",
            name="product list: search (HTMX)",
            headers=htmx("product-table"),
        )

    @task(6)
    def product_page(self) -> None:
        self.get(f"/products/{self.product()}/", name="product page")

    @task(1)
    def product_history(self) -> None:
        self.get(
            f"/products/{self.product()}/history/",
            name="product history (HTMX)",
            headers=htmx("product-history"),
        )

    @task(2)
    def board(self) -> None:
        self.get("/lifecycle/board/", name="lifecycle board")

    @task(1)
    def kpis(self) -> None:
        self.get("/portfolio/kpis/", name="KPIs")

    @task(2)
    def measurements(self) -> None:
        self.get("/portfolio/measurements/", name="measurements")

    @task(1)
    def measurements_page(self) -> None:
        self.get(
            f"/portfolio/measurements/?page={random.randint(2, 50)}",
            name="measurements: page (HTMX)",
            headers=htmx("measurement-table"),
        )

    @task(1)
    def export_products(self) -> None:
        self.get("/products/?format=csv", name="product list CSV")


class Director(Person):
    """Directors and VPs: the director view by every dimension and grain, drilling down to products."""

    weight = 3
    sessions = _directors

    @task(4)
    def dashboard(self) -> None:
        self.get("/", name="dashboard")

    @task(5)
    def rollups(self) -> None:
        self.get("/portfolio/rollups/", name="director rollups")

    @task(5)
    def rollups_by(self) -> None:
        self.get(
            f"/portfolio/rollups/?dimension={random.choice(DIMENSIONS)}&grain={random.choice(GRAINS)}",
            name="director rollups: dimension, grain (HTMX)",
            headers=htmx("rollups-body"),
        )

    @task(1)
    def rollups_export(self) -> None:
        # What the director page's CSV link asks for: the columns' scope at the chosen grain.
        self.get(
            f"/portfolio/rollups/?format=csv&scope={random.choice(DIMENSIONS)}&grain={random.choice(['month', 'quarter'])}",
            name="director rollups CSV",
        )

    @task(3)
    def product_page(self) -> None:
        self.get(f"/products/{self.product()}/", name="product page")

    @task(2)
    def dashboard_filter(self) -> None:
        self.get(
            f"/?market={random.choice(['b2b', 'b2c'])}",
            name="dashboard: filter (HTMX)",
            headers=htmx("dashboard-body"),
        )

    @task(1)
    def board(self) -> None:
        self.get("/lifecycle/board/", name="lifecycle board")
