"""The strict CSP (no 'unsafe-inline' or 'unsafe-eval' for scripts) breaks nothing: no page, admin included,
raises a securitypolicyviolation event or a console error in Chromium."""

import datetime as dt

import pytest
from django.conf import settings

from portfolio.models import Measurement
from products.choices import Role
from tests.browser.conftest import log_in
from tests.factories import (
    KPIFactory,
    MembershipFactory,
    ProductFactory,
    RollupFactory,
    StageTransitionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script: every CSP violation the page raises is kept on window for the test to read.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    [event.violatedDirective, event.blockedURI, event.sourceFile, event.lineNumber, event.sample].join(" | ")
  );
});
"""


@pytest.fixture
def portfolio_with_charts():
    root = UserFactory(username="root", role=Role.VP, is_staff=True, is_superuser=True)
    product = ProductFactory(name="<b>Beacon</b> Payouts", slug="beacon-payouts", stage="mvp")
    MembershipFactory(product=product)
    StageTransitionFactory(product=product, from_stage="", to_stage="mvp")
    revenue = KPIFactory(name="Revenue", unit="€", default_target=120.0, is_key=True)
    start = dt.date(2026, 6, 1)
    Measurement.objects.bulk_create(
        Measurement(product=product, kpi=revenue, period=start + dt.timedelta(weeks=i), value=100.0 + i)
        for i in range(8)
    )
    for i in range(8):
        RollupFactory(kpi=revenue, period=start + dt.timedelta(weeks=i), value=100.0 + i)
    return root, product, revenue


def test_the_policy_has_no_unsafe_script_sources():
    script_src = [str(source) for source in settings.SECURE_CSP["script-src"]]
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src


def test_no_page_violates_the_csp(page, portfolio_with_charts):
    root, product, revenue = portfolio_with_charts
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, root.username)
    urls = [
        "/",
        "/products/",
        f"/products/{product.slug}/",
        f"/products/{product.slug}/history/",
        f"/products/{product.slug}/edit/",
        "/lifecycle/board/",
        f"/portfolio/rollups/?chart={revenue.pk}",
        f"/portfolio/rollups/cell/?kpi={revenue.pk}&scope=organisation&key=all&grain=native&period=2026-06-01",
        "/portfolio/kpis/",
        "/portfolio/measurements/",
        "/admin/",
        "/admin/products/product/",
        f"/admin/products/product/{product.pk}/change/",
        "/admin/products/user/",
        f"/admin/products/user/{root.pk}/change/",
        "/admin/portfolio/kpi/",
        f"/admin/portfolio/kpi/{revenue.pk}/change/",
        "/admin/portfolio/measurement/",
        "/admin/products/product/add/",
    ]
    violations = {}
    for url in urls:
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        found = page.evaluate("window.__cspViolations")
        if found:
            violations[url] = found
    assert violations == {}
    page.watch.assert_clean()


def test_the_admin_scripts_run_under_the_csp(page, portfolio_with_charts):
    """Not just silent: the admin's own JavaScript works (the changelist's select-all and action counter)."""
    root, product, _ = portfolio_with_charts
    page.add_init_script(RECORD_VIOLATIONS)
    log_in(page, root.username)
    page.goto("/admin/products/product/")
    page.locator("#action-toggle").check()
    page.locator(".action-counter").filter(has_text="1 of 1 selected").wait_for()
    page.goto(f"/admin/products/product/{product.pk}/change/")
    # The inlines' "Add another" rows are drawn by the admin's inlines.js; clicking one adds a form.
    add_row = page.locator(".add-row a").first
    add_row.wait_for()
    before = page.locator("tr.dynamic-memberships").count()
    add_row.click()
    assert page.locator("tr.dynamic-memberships").count() == before + 1
    assert page.evaluate("window.__cspViolations") == []
    page.watch.assert_clean()
