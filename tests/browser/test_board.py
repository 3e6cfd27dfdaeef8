"""A PM moves a product on the lifecycle board: forward at once, backward only with a note."""

import pytest

from lifecycle.models import StageTransition
from products.models import Product, Role
from tests.browser.conftest import log_in
from tests.factories import ProductFactory, StageTransitionFactory, UserFactory
from tests.lifecycle.factories import fill_gates

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def research_product():
    owner = UserFactory(username="rosa", first_name="Rosa", last_name="Diaz", role=Role.PM)
    product = ProductFactory(name="Comet Ledger", slug="comet-ledger", owner=owner, stage="research")
    StageTransitionFactory(product=product, from_stage="", to_stage="research")
    return fill_gates(
        product
    )  # its research gate is met: this test is about moving (test_lifecycle_work: gates)


def test_moving_forward_then_back_with_a_note(page, research_product, screenshot):
    log_in(page, "rosa")
    page.goto("/lifecycle/board/")
    card = page.locator("#card-comet-ledger")

    card.locator("summary", has_text="Move").click()
    card.locator('select[name="to"]').select_option("mvp")
    card.get_by_role("button", name="Move", exact=True).click()
    page.get_by_text("Moved Comet Ledger from Research to MVP.").wait_for()
    assert Product.objects.get(slug="comet-ledger").stage == "mvp"

    card = page.locator("#card-comet-ledger")
    card.locator("summary", has_text="Move").click()
    card.locator('select[name="to"]').select_option("problem")
    card.get_by_role("button", name="Move", exact=True).click()
    page.locator("#card-comet-ledger .errorlist").wait_for()
    assert "note" in page.locator("#card-comet-ledger .errorlist").inner_text().lower()
    assert Product.objects.get(slug="comet-ledger").stage == "mvp"
    screenshot(page, "board-note-required")

    card = page.locator("#card-comet-ledger")
    card.locator('textarea[name="note"]').fill("Customers told us the problem is different")
    card.get_by_role("button", name="Move", exact=True).click()
    page.get_by_text("Moved Comet Ledger from MVP to Problem.").wait_for()
    last = StageTransition.objects.filter(product__slug="comet-ledger").latest("at")
    assert (last.from_stage, last.to_stage, last.note) == (
        "mvp",
        "problem",
        "Customers told us the problem is different",
    )
    screenshot(page, "board")
    page.watch.assert_clean()
