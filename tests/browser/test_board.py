"""A PM moves a product on the lifecycle board: forward at once, backward only with a note."""

import pytest

from lifecycle.models import StageTransition
from products.choices import Role
from products.models import Product
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


def test_show_all_expands_a_column_in_place_and_a_card_in_it_still_moves(page, research_product, screenshot):
    import datetime as dt

    from django.utils import timezone

    from lifecycle.board.selectors import BOARD_CARDS_PER_STAGE

    owner = research_product.owner
    for n in range(BOARD_CARDS_PER_STAGE + 2):
        ProductFactory(
            name=f"Research product {n:02d}",
            slug=f"research-{n:02d}",
            owner=owner,
            stage="research",
            stage_entered_at=timezone.now() - dt.timedelta(days=100 + n),
        )
    total = BOARD_CARDS_PER_STAGE + 3
    log_in(page, "rosa")
    page.goto("/lifecycle/board/")
    column = page.locator("#stage-research")
    assert column.locator(".kcard").count() == BOARD_CARDS_PER_STAGE
    assert not page.locator("#card-comet-ledger").count()  # it has waited least

    column.get_by_role("link", name=f"Show all {total}").click()
    page.wait_for_url("**/lifecycle/board/?show=research")
    page.locator("#card-comet-ledger").wait_for()
    assert page.locator("#stage-research .kcard").count() == total
    # the focus moves to the first card that was not shown before
    focused = page.evaluate("document.activeElement.closest('.kcard').id")
    assert focused == page.locator("#stage-research .kcard").nth(BOARD_CARDS_PER_STAGE).get_attribute("id")
    screenshot(page, "board-show-all")

    card = page.locator("#card-comet-ledger")
    card.locator("summary", has_text="Move").click()
    card.locator('select[name="to"]').select_option("mvp")
    card.get_by_role("button", name="Move", exact=True).click()
    page.get_by_text("Moved Comet Ledger from Research to MVP.").wait_for()
    # the board comes back with the research column still expanded
    assert page.locator("#stage-research .kcard").count() == total - 1
    assert page.locator("#stage-research").get_by_text(f"All {total - 1} shown").count() == 1
    page.watch.assert_clean()
