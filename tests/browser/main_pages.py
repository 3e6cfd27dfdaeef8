"""The main pages of SPM Dashboard, in one list: the accessibility test (tests/browser/test_accessibility.py),
`make audit` (axe-core, console, CSP and Lighthouse per page) and `make screenshots` (the README's tour) all read
it. A new page is one line here; a page whose URL does not resolve yet is skipped with a note.

``{product}`` in a path stands for a product's slug (one the signed-in PM owns).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MainPage:
    name: str  # also the screenshot's file name: docs/screenshots/<name>.png
    path: str
    title: str  # what the README's tour calls it
    signed_in: bool = True
    optional: bool = False  # being built: audited when its URL resolves, skipped with a note when not


MAIN_PAGES = [
    MainPage("login", "/accounts/login/", "Sign in", signed_in=False),
    MainPage("dashboard", "/", "Portfolio dashboard"),
    MainPage("products", "/products/", "Products"),
    MainPage("product", "/products/{product}/", "A product's page"),
    MainPage("lifecycle-board", "/lifecycle/board/", "Lifecycle board"),
    MainPage("lifecycle-analytics", "/lifecycle/analytics/", "Lifecycle analytics", optional=True),
    MainPage("rollups", "/portfolio/rollups/", "Director view: KPI rollups"),
    MainPage("objectives", "/portfolio/objectives/", "Strategy: objectives and coverage"),
    MainPage("investment", "/portfolio/investment/", "Investment", optional=True),
    MainPage("priorities", "/portfolio/priorities/", "Strategy: priorities (RICE, WSJF)"),
    MainPage("roadmap", "/portfolio/roadmap/", "Strategy: roadmap"),
    MainPage("kpis", "/portfolio/kpis/", "KPI definitions"),
    MainPage("measurements", "/portfolio/measurements/", "Measurements"),
    MainPage("inbox", "/inbox/", "Inbox"),
    MainPage("alert-settings", "/inbox/settings/", "Notification settings"),
]


def page_resolves(path: str) -> bool:
    """Whether the URLconf has this page (the query string and the product slug do not matter)."""
    from django.urls import Resolver404, resolve

    try:
        resolve(path.split("?")[0].replace("{product}", "a-product"))
    except Resolver404:
        return False
    return True
