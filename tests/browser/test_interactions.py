"""Every interaction of the main pages (tests/browser/interactions.py), performed as a person would at 1440 px and on
a 390 px touch phone: none may log a console error, violate the CSP, call another host, make the page wider than
the phone, or leave the changed region or the focused element out of view."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from tests.browser.conftest import SCREENSHOTS, PageWatch, log_in
from tests.browser.interactions import DEMO, INTERACTIONS, RECORD_VIOLATIONS, SIZES, after_interaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "every-interaction-password"


@pytest.fixture
def demo_product(settings):
    settings.SPM_DEMO_PASSWORD = PASSWORD
    call_command("seed_demo", **DEMO, verbosity=0)
    call_command("recompute_rollups", verbosity=0)
    from products.models import Product

    return Product.objects.filter(owner__username="pm").order_by("pk").values_list("slug", flat=True).first()


def file_name(size: str, name: str) -> str:
    return f"{size}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"


@pytest.mark.parametrize("size", list(SIZES))
def test_every_interaction_is_clean(browser, live_server, demo_product, size):
    phone = size == "phone"
    context = browser.new_context(
        viewport=SIZES[size], base_url=live_server.url, is_mobile=phone, has_touch=phone
    )
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = PageWatch(page, urlsplit(live_server.url).netloc)
    folder = SCREENSHOTS / "interactions"
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    viewer = None
    try:
        for interaction in INTERACTIONS:
            if interaction.viewer != viewer:
                context.clear_cookies()
                log_in(page, interaction.viewer, PASSWORD)
                viewer = interaction.viewer
            if interaction.open_page:
                page.goto(interaction.path.format(product=demo_product))
            errors, foreign = len(watch.console_errors), len(watch.foreign_requests)
            region = interaction.act(page, demo_product)
            found = after_interaction(page, region, phone=phone)
            page.screenshot(path=str(folder / f"{file_name(size, interaction.name)}.png"))
            new_errors = watch.console_errors[errors:] + watch.foreign_requests[foreign:]
            if new_errors or found["csp"] or found["overflow"] or not found["region_in_view"]:
                problems.append(f"{interaction.name}: {new_errors} {found}")
            elif not found["focus_in_view"]:
                problems.append(f"{interaction.name}: focus out of view {found}")
    finally:
        context.close()
    assert problems == [], "\n".join(problems)
    assert len(list(Path(folder).glob(f"{size}-*.png"))) >= len(INTERACTIONS)
