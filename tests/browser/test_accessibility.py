"""axe-core finds no serious or critical accessibility violation on any main page (tests/browser/main_pages.py),
on a small demo portfolio. `make audit` runs the same checks, plus Lighthouse, against production settings.

axe-core comes from bench/audit (npm ci, which `make test` runs): evaluated through the DevTools protocol, as
the page's Content-Security-Policy would refuse an injected <script> without its nonce.
"""

import os
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.browser.conftest import log_in
from tests.browser.main_pages import MAIN_PAGES, page_resolves

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "bench" / "audit" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
PASSWORD = "axe-audit-password"


@pytest.fixture
def demo_portfolio(settings):
    settings.SPM_DEMO_PASSWORD = PASSWORD
    call_command("seed_demo", products=18, months=3, seed=1, verbosity=0)


@pytest.fixture
def axe_source() -> str:
    if not AXE.exists():
        reason = f"needs axe-core at {AXE.relative_to(AXE.parents[4])} (npm ci --prefix bench/audit)"
        if os.environ.get("SPM_REQUIRE_BROWSER"):
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text()


def serious_violations(page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        f"{v['impact']} {v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in {"serious", "critical"}
    ]


def test_no_main_page_has_a_serious_or_critical_accessibility_violation(
    page, demo_portfolio, axe_source, screenshot
):
    from products.models import Product

    product = Product.objects.filter(owner__username="pm").order_by("pk").first()
    found = {}
    signed_in = False
    for main_page in sorted(MAIN_PAGES, key=lambda p: p.signed_in):  # the login page before signing in
        if not page_resolves(main_page.path):
            continue  # being built: audited once its URL exists
        if main_page.signed_in and not signed_in:
            log_in(page, "pm", PASSWORD)
            signed_in = True
        response = page.goto(main_page.path.format(product=product.slug))
        assert response.status == 200, main_page.path
        page.wait_for_load_state("networkidle")
        violations = serious_violations(page, axe_source)
        if violations:
            found[main_page.name] = violations
            screenshot(page, f"axe-{main_page.name}")
    assert found == {}
    page.watch.assert_clean()
