"""Investment: rollups against a hand computation, burn status, budget lines and who sees or edits money.

The world (tests/portfolio/strategy_data.py), in 2026 (today 16 May: 45 of Q2's 91 days gone):
  Checkout (Payments, MVP, B2C, customer): Q1 capex 100k/110k spent, Q1 opex 50k/50k, Q2 opex 100k/60k, Q3 opex 100k
  Wallet (Payments, execution, B2B, business): Q1 opex 40k/40k, Q2 capex 20k
  Ads (Growth, MVP, B2C, business): Q2 opex 80k/10k (and 5k in Q4 2025, outside the year)
"""

import datetime as dt
from decimal import Decimal

import pytest

from portfolio.models import BudgetLine, PlanChange, ProductYearMoney
from portfolio.strategy.rules import BudgetInvalid, burn_status, elapsed_fraction, plan_to_date
from portfolio.strategy.selectors.investment import investment_rollup, investment_totals, year_money_totals
from portfolio.strategy.selectors.plan import plan_version
from portfolio.strategy.services.budgets import budget_line_delete, budget_line_set
from portfolio.strategy.services.scenarios import (
    scenario_approve,
    scenario_change_budget,
    scenario_create_from_live,
)
from products.models import Product
from tests.factories import ProductFactory
from tests.portfolio.strategy_data import TODAY, YEAR, build_world, line

FRACTION = Decimal(45) / Decimal(91)


def cents(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


@pytest.fixture
def world(db):
    return build_world()


def test_totals_match_the_hand_computation(world):
    totals = investment_totals(products=Product.objects.all(), quarters=YEAR, today=TODAY)
    assert (totals.capex, totals.opex, totals.planned, totals.actual) == (120_000, 370_000, 490_000, 270_000)
    # Q1 ended (190k planned); Q2 under way (200k planned, 45/91 of it due).
    assert totals.plan_to_date == cents(190_000 + 200_000 * FRACTION) == Decimal("288901.10")
    assert totals.variance == Decimal("-18901.10")
    assert totals.status == "on_plan"


def test_rollup_by_portfolio(world):
    rows = {
        row.key: row
        for row in investment_rollup(
            products=Product.objects.all(), quarters=YEAR, dimension="portfolio", today=TODAY
        )
    }
    assert (rows["payments"].planned, rows["payments"].actual, rows["payments"].products) == (
        410_000,
        260_000,
        2,
    )
    assert rows["payments"].plan_to_date == cents(190_000 + 120_000 * FRACTION)
    assert rows["payments"].label == "Payments"
    assert rows["growth"].planned == 80_000
    assert rows["growth"].actual == 10_000
    assert rows["growth"].status == "under_plan"  # 10k of 39.6k due


def test_rollup_by_objective_splits_money_by_alignment_weight(world):
    rows = {
        row.label.split(" (")[0]: row
        for row in investment_rollup(
            products=Product.objects.all(), quarters=YEAR, dimension="objective", today=TODAY
        )
    }
    # Checkout 60 % speed, 40 % reach; Wallet 50 % speed and 50 % nothing; Ads nothing.
    assert rows["Faster payments"].planned == 350_000 * Decimal("0.6") + 60_000 * Decimal("0.5") == 240_000
    assert rows["Faster payments"].actual == 152_000
    assert rows["More merchants"].planned == 140_000
    assert rows["More merchants"].actual == 88_000
    assert rows["Not aligned to any objective"].planned == 110_000
    assert sum(row.planned for row in rows.values()) == 490_000


def test_weights_over_100_are_scaled_down(world):
    from portfolio.models import Alignment

    Alignment.objects.filter(product=world.wallet).update(weight=100)
    Alignment.objects.create(product=world.wallet, objective=world.reach, weight=100)
    rows = {
        row.key: row
        for row in investment_rollup(
            products=Product.objects.filter(pk=world.wallet.pk),
            quarters=YEAR,
            dimension="objective",
            today=TODAY,
        )
    }
    assert rows[str(world.speed.pk)].planned == rows[str(world.reach.pk)].planned == 30_000
    assert "not aligned" not in rows


@pytest.mark.parametrize(
    ("dimension", "expected"),
    [
        ("stage", {"mvp": 430_000, "execution": 60_000}),
        ("market", {"b2c": 430_000, "b2b": 60_000}),
        ("focus", {"customer": 350_000, "business": 140_000}),
        ("quarter", {"2026-01-01": 190_000, "2026-04-01": 200_000, "2026-07-01": 100_000}),
    ],
)
def test_rollup_by_stage_market_focus_and_quarter(world, dimension, expected):
    rows = investment_rollup(products=Product.objects.all(), quarters=YEAR, dimension=dimension, today=TODAY)
    assert {row.key: row.planned for row in rows} == expected


def test_a_quarter_row_is_due_in_full_once_ended_and_prorated_while_under_way(world):
    rows = {
        row.key: row
        for row in investment_rollup(
            products=Product.objects.all(), quarters=YEAR, dimension="quarter", today=TODAY
        )
    }
    assert rows["2026-01-01"].plan_to_date == 190_000
    assert rows["2026-04-01"].plan_to_date == cents(200_000 * FRACTION)
    assert rows["2026-07-01"].plan_to_date == 0
    assert rows["2026-07-01"].status == "no_plan"


def test_burn_status_thresholds():
    assert burn_status(plan_to_date=Decimal(100), actual=Decimal(111)) == "over_plan"
    assert burn_status(plan_to_date=Decimal(100), actual=Decimal(110)) == "at_risk"
    assert burn_status(plan_to_date=Decimal(100), actual=Decimal(105)) == "on_plan"
    assert burn_status(plan_to_date=Decimal(100), actual=Decimal(80)) == "on_plan"
    assert burn_status(plan_to_date=Decimal(100), actual=Decimal(79)) == "under_plan"
    assert burn_status(plan_to_date=Decimal(0), actual=Decimal(1)) == "over_plan"
    assert burn_status(plan_to_date=Decimal(0), actual=Decimal(0)) == "no_plan"
    assert elapsed_fraction(dt.date(2026, 4, 1), dt.date(2026, 3, 31)) == 0
    assert elapsed_fraction(dt.date(2026, 4, 1), dt.date(2026, 7, 1)) == 1
    assert plan_to_date(ended=Decimal(10), current=Decimal(91), fraction=FRACTION) == Decimal("55.00")


def test_investment_page_shows_the_totals_and_the_over_plan_product_first(client, world, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: TODAY)
    client.force_login(world.director)
    response = client.get("/portfolio/investment/?year=2026")
    assert response.status_code == 200
    assert response.context["totals"].planned == 490_000
    first = response.context["product_rows"][0]
    assert first.key == "checkout"
    assert first.status == "over_plan"
    assert "€490,000" in response.content.decode()


def test_money_follows_budget_visibility(client, world, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: TODAY)
    client.force_login(world.pm)  # owns Checkout and Wallet, not Ads
    assert client.get("/portfolio/investment/?year=2026").context["totals"].planned == 410_000
    client.force_login(world.junior)  # on no product
    response = client.get("/portfolio/investment/?year=2026")
    assert response.context["totals"].planned == 0
    assert b"only the products whose budget is shared with you" in response.content
    assert client.get("/portfolio/investment/checkout/").status_code == 403


def test_investment_csv_matches_the_rollup(client, world, monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: TODAY)
    client.force_login(world.vp)
    response = client.get("/portfolio/investment/?year=2026&dimension=portfolio&format=csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert (
        lines[0]
        == "group_by,key,label,quarters,planned_capex,planned_opex,planned,actual,plan_to_date,variance,status"
    )
    assert lines[1].startswith(
        "portfolio,payments,Payments,2026-01-01/2026-10-01,120000.00,290000.00,410000.00,260000.00"
    )
    products = b"".join(
        client.get("/portfolio/investment/?year=2026&format=csv&table=products").streaming_content
    )
    assert (
        products.decode()
        .splitlines()[1]
        .startswith("checkout,Checkout,Payments,100000.00,250000.00,350000.00,220000.00")
    )


def test_invalid_filters_are_named_and_the_rest_still_applies(client, world):
    client.force_login(world.director)
    response = client.get("/portfolio/investment/?year=2026&dimension=colour&portfolio=growth")
    assert "a way to group the money" in response.content.decode()
    assert response.context["totals"].planned == 80_000


def test_budget_line_set_syncs_product_totals_and_records_the_change(world):
    version = plan_version()
    budget_line_set(
        product=world.wallet,
        quarter=YEAR[2],
        kind="opex",
        planned=Decimal("5000.50"),
        actual=Decimal("0"),
        by=world.director,
    )
    world.wallet.refresh_from_db()
    assert world.wallet.planned_budget == Decimal("65000.50")
    assert world.wallet.actual_spend == 40_000
    assert plan_version() == version + 1
    assert PlanChange.objects.get(version=version + 1).portfolio == world.payments
    with pytest.raises(BudgetInvalid):
        budget_line_set(
            product=world.wallet,
            quarter=dt.date(2026, 5, 1),
            kind="opex",
            planned=Decimal(1),
            actual=Decimal(0),
            by=None,
        )


def test_leadership_of_the_portfolio_edits_lines_others_get_403(client, world):
    data = {"quarter": "2026-07-01", "kind": "capex", "planned": "12,500", "actual": ""}
    client.force_login(world.pm)  # sees the money, may not change it
    assert client.get("/portfolio/investment/checkout/").status_code == 200
    assert client.post("/portfolio/investment/checkout/", data).status_code == 403
    client.force_login(world.other_director)
    assert client.post("/portfolio/investment/checkout/", data).status_code == 403
    assert not BudgetLine.objects.filter(product=world.checkout, quarter=YEAR[2], kind="capex").exists()
    client.force_login(world.director)
    response = client.post("/portfolio/investment/checkout/", data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content
    assert BudgetLine.objects.get(product=world.checkout, quarter=YEAR[2], kind="capex").planned == Decimal(
        "12500.00"
    )


def test_a_bad_line_is_refused_with_a_message(client, world):
    client.force_login(world.director)
    response = client.post(
        "/portfolio/investment/checkout/", {"quarter": "2026-05-01", "kind": "opex", "planned": "-3"}
    )
    assert response.status_code == 400
    assert "first day of a quarter" in response.content.decode()
    assert BudgetLine.objects.filter(product=world.checkout).count() == 4


def test_deleting_a_line_asks_first_naming_the_totals_it_leaves(client, world):
    wallet_q2 = BudgetLine.objects.get(product=world.wallet, quarter=YEAR[1], kind="capex")
    delete_url = f"/portfolio/investment/wallet/lines/{wallet_q2.pk}/delete/"
    client.force_login(world.director)
    page = client.get("/portfolio/investment/wallet/").content.decode()
    assert f'href="{delete_url}" hx-get="{delete_url}"' in page
    step = client.get(delete_url, headers={"HX-Request": "true"})
    html = step.content.decode()
    assert b"<html" not in step.content  # the lines region, with the question in the line's row
    row = html.split(f'id="line-{wallet_q2.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Delete the Q2 2026 capex line (planned €20,000, actual €0)?" in row
    assert "planned budget goes from €60,000 to €40,000" in row
    assert "actual spend from €40,000 to €40,000" in row
    assert f'hx-post="{delete_url}"' in row
    assert BudgetLine.objects.filter(pk=wallet_q2.pk).exists()
    version = plan_version()
    done = client.post(delete_url)
    assert done["Location"] == "/portfolio/investment/wallet/"
    assert not BudgetLine.objects.filter(pk=wallet_q2.pk).exists()
    world.wallet.refresh_from_db()
    assert (world.wallet.planned_budget, world.wallet.actual_spend) == (40_000, 40_000)
    change = PlanChange.objects.get(version=version + 1)
    assert change.summary == "Wallet Q2 2026 capex: line deleted"
    assert change.details[0]["planned"] == ["20000.00", None]
    assert "Deleted the Q2 2026 capex line." in client.get(done["Location"]).content.decode()


def test_only_leadership_of_the_portfolio_deletes_a_line(client, world):
    line_pk = BudgetLine.objects.get(product=world.checkout, quarter=YEAR[1], kind="opex").pk
    delete_url = f"/portfolio/investment/checkout/lines/{line_pk}/delete/"
    for who in (world.pm, world.other_director):
        client.force_login(who)
        assert client.get(delete_url).status_code == 403
        assert client.post(delete_url).status_code == 403
    client.force_login(world.director)
    ads_line = BudgetLine.objects.filter(product__slug="ads").first()
    # A line of another product, through this product's URL: not found, nothing deleted.
    assert client.post(f"/portfolio/investment/checkout/lines/{ads_line.pk}/delete/").status_code == 404
    assert BudgetLine.objects.filter(pk__in=[line_pk, ads_line.pk]).count() == 2


def test_admin_deletes_lines_through_the_plan(admin_client, world):
    lines = BudgetLine.objects.filter(product=world.wallet)
    version = plan_version()
    response = admin_client.post(
        "/admin/portfolio/budgetline/",
        {
            "action": "delete_selected",
            "_selected_action": [str(pk) for pk in lines.values_list("pk", flat=True)],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not lines.exists()
    world.wallet.refresh_from_db()
    assert (world.wallet.planned_budget, world.wallet.actual_spend) == (0, 0)
    assert plan_version() == version + 2  # one recorded change per line


def test_investment_queries_do_not_grow(client, world, django_assert_max_num_queries):
    client.force_login(world.director)
    counts = []
    for extra in (3, 40):
        for _ in range(extra):
            product = ProductFactory(portfolio=world.payments)
            line(product, YEAR[1], "opex", "1000", "900")
        for dimension in ("portfolio", "objective"):
            with django_assert_max_num_queries(16) as captured:
                assert (
                    client.get(f"/portfolio/investment/?year=2026&dimension={dimension}").status_code == 200
                )
            counts.append(len(captured))
    assert counts[:2] == counts[2:]


@pytest.mark.parametrize("dimension", ["portfolio", "objective", "stage", "focus", "market", "quarter"])
def test_every_grouping_adds_up_to_the_totals(world, dimension):
    from portfolio.strategy.selectors.money import current_fraction, totals_of

    rows = investment_rollup(products=Product.objects.all(), quarters=YEAR, dimension=dimension, today=TODAY)
    total = totals_of(rows, fraction=current_fraction(YEAR, TODAY))
    direct = investment_totals(products=Product.objects.all(), quarters=YEAR, today=TODAY)
    assert (total.planned, total.actual, total.capex) == (direct.planned, direct.actual, direct.capex)
    assert total.plan_to_date == direct.plan_to_date


def test_objective_funding_agrees_with_the_rollup_by_objective(world):
    from portfolio.strategy.selectors.objective_funding import objective_funding

    funding, total = objective_funding(products=Product.objects.all(), quarters=YEAR)
    assert funding == {world.speed.pk: Decimal("240000.00"), world.reach.pk: Decimal("140000.00")}
    assert total == 490_000


def test_product_budget_lines_csv(client, world):
    client.force_login(world.pm)
    rows = (
        b"".join(client.get("/portfolio/investment/wallet/?format=csv").streaming_content)
        .decode()
        .splitlines()
    )
    assert rows == [
        "product,quarter,kind,planned,actual",
        "wallet,2026-01-01,opex,40000.00,40000.00",
        "wallet,2026-04-01,capex,20000.00,0.00",
    ]


@pytest.mark.parametrize("dimension", ["portfolio", "stage", "focus", "market"])
def test_one_pass_rollup_matches_the_two_queries(world, dimension):
    from portfolio.strategy.selectors.investment import rollup_with_quarters

    rows, by_quarter = rollup_with_quarters(
        products=Product.objects.all(), quarters=YEAR, dimension=dimension, today=TODAY
    )
    expected = investment_rollup(
        products=Product.objects.all(), quarters=YEAR, dimension=dimension, today=TODAY
    )
    quarters = investment_rollup(
        products=Product.objects.all(), quarters=YEAR, dimension="quarter", today=TODAY
    )
    shape = lambda rows: [(r.key, r.capex, r.opex, r.actual, r.plan_to_date, r.status) for r in rows]  # noqa: E731
    assert shape(rows) == shape(expected)
    assert shape(by_quarter) == shape(quarters)


def test_products_are_ordered_by_variance(world):
    from portfolio.strategy.selectors.investment import product_money_rows

    ordered = [
        v["product__slug"]
        for v in product_money_rows(products=Product.objects.all(), quarters=YEAR, today=TODAY)
    ]
    assert ordered == ["checkout", "wallet", "ads"]  # +20.5k, -9.9k, -29.6k against plan to date


def test_objective_split_in_thirds_keeps_the_total_exact(world):
    """Weights 50 + 50 + 50 split a product's money in thirds (divisor 150): each objective gets its rounded
    third; the total stays the product's exact money (the split is summed in SQL, divided once per divisor)."""
    from portfolio.models import Alignment
    from portfolio.strategy.selectors.objective_funding import objective_funding

    Alignment.objects.filter(product=world.wallet).update(weight=50)
    Alignment.objects.create(product=world.wallet, objective=world.reach, weight=50)
    Alignment.objects.create(product=world.wallet, objective=world.org_objective, weight=50)
    wallet = Product.objects.filter(pk=world.wallet.pk)
    funding, total = objective_funding(products=wallet, quarters=YEAR)
    assert total == 60_000
    assert funding == {
        world.speed.pk: Decimal("20000.00"),
        world.reach.pk: Decimal("20000.00"),
        world.org_objective.pk: Decimal("20000.00"),
    }
    rows = investment_rollup(products=wallet, quarters=YEAR, dimension="objective", today=TODAY)
    assert [row.planned for row in rows] == [Decimal("20000.00")] * 3
    assert all(row.products == 1 for row in rows)


def test_objective_split_counts_only_the_money_a_person_may_see(client, world, monkeypatch):
    """By objective, a PM sees the split of their own products' money (Checkout and Wallet, not Ads); the
    objectives page's funding likewise."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: TODAY)
    client.force_login(world.pm)
    rows = {
        row.label.split(" (")[0]: row
        for row in client.get("/portfolio/investment/?year=2026&dimension=objective").context["rows"]
    }
    assert rows["Faster payments"].planned == 240_000
    assert rows["More merchants"].planned == 140_000
    assert rows["Not aligned to any objective"].planned == 30_000  # Wallet's other half; Ads is not theirs
    assert sum(row.planned for row in rows.values()) == 410_000
    response = client.get("/portfolio/objectives/")
    assert response.context["funding_total"] == 410_000


def _figures(row):
    return (row.key, row.label, row.capex, row.opex, row.actual, row.plan_to_date, row.status, row.products)


@pytest.mark.parametrize("portfolio", [None, "payments"])
def test_objective_overview_shows_what_the_separate_rollups_show(world, portfolio):
    """By objective the page reads the split, the quarter chart and a page of products from one statement: the
    same rows, figures and order as the rollup by objective, by quarter and the products furthest over plan."""
    from portfolio.strategy.selectors.investment import money_row, product_money_rows
    from portfolio.strategy.selectors.objective_funding import objective_overview

    products = Product.objects.all()
    if portfolio:
        products = products.filter(portfolio__slug=portfolio)
    for extra in range(3):  # more products than a page of two, some over plan
        product = ProductFactory(portfolio=world.payments, name=f"Extra {extra}")
        line(product, YEAR[0], "opex", "1000", str(900 + 100 * extra))
    overviews = [
        objective_overview(products=products, quarters=YEAR, offset=offset, limit=2, today=TODAY)
        for offset in (0, 2, 4)
    ]
    by_objective = investment_rollup(products=products, quarters=YEAR, dimension="objective", today=TODAY)
    by_quarter = investment_rollup(products=products, quarters=YEAR, dimension="quarter", today=TODAY)
    assert [_figures(row) for row in overviews[0].rows] == [_figures(row) for row in by_objective]
    assert [_figures(row) for row in overviews[0].by_quarter] == [
        (*_figures(row)[:-1], 0) for row in by_quarter
    ]
    paged = [
        _figures(money_row(values, quarters=YEAR, today=TODAY))
        for overview in overviews
        for values in overview.product_values
    ]
    ranked = product_money_rows(products=products, quarters=YEAR, today=TODAY)
    assert paged == [_figures(money_row(values, quarters=YEAR, today=TODAY)) for values in ranked]
    assert len(paged) == (5 if portfolio else 6)


def test_objective_partial_lists_the_same_products_as_the_products_page(client, world, monkeypatch):
    """The products card of the by-objective partial and the products partial agree, for a PM too (their
    products' money only)."""
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a: TODAY)
    for user in (world.director, world.pm):
        client.force_login(user)
        whole = client.get(
            "/portfolio/investment/?year=2026&dimension=objective",
            headers={"HX-Request": "true", "HX-Target": "investment-results"},
        )
        products = client.get(
            "/portfolio/investment/?year=2026&dimension=portfolio",
            headers={"HX-Request": "true", "HX-Target": "investment-products"},
        )
        names = [row.label for row in whole.context["product_rows"]]
        assert names == [row.label for row in products.context["product_rows"]]
        assert ("Ads" in names) is (user == world.director)
        assert whole.context["page"].paginator.count == len(names)


# ------------------------------------------------------------------ money per product and year


def _money(row) -> tuple:
    return (row.capex, row.opex, row.actual, row.plan_to_date)


@pytest.mark.parametrize(
    "today",
    [TODAY, dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2027, 2, 10), dt.date(2025, 11, 3)],
    ids=["mid-q2", "first-day", "last-day", "year-over", "year-ahead"],
)
@pytest.mark.parametrize("portfolio", [None, "payments", "growth"])
def test_the_money_per_year_adds_up_to_the_same_figures_as_the_lines(world, today, portfolio):
    products = Product.objects.all()
    if portfolio:
        products = products.filter(portfolio__slug=portfolio)
    from_lines = investment_totals(products=products, quarters=YEAR, today=today)
    per_year = year_money_totals(products=products, year=2026, today=today)
    assert _money(per_year) == _money(from_lines)
    assert per_year.fraction == from_lines.fraction


def test_every_write_to_the_lines_moves_the_money_per_year(world):
    def year_figures(year=2026):
        return _money(year_money_totals(products=Product.objects.all(), year=year, today=TODAY))

    assert year_figures() == (120_000, 370_000, 270_000, Decimal("288901.10"))
    assert year_figures(2025) == (0, 5_000, 5_000, 5_000)  # Ads' line of Q4 2025, all of it due
    line = budget_line_set(
        product=world.ads,
        quarter=YEAR[0],
        kind="capex",
        planned=Decimal("30000"),
        actual=Decimal("1"),
        by=None,
    )
    assert year_figures() == (150_000, 370_000, 270_001, Decimal("318901.10"))
    budget_line_delete(line=line, by=None)
    assert year_figures() == (120_000, 370_000, 270_000, Decimal("288901.10"))
    budget_line_delete(line=BudgetLine.objects.get(product=world.ads, quarter=dt.date(2025, 10, 1)), by=None)
    assert year_figures(2025) == (0, 0, 0, 0)
    assert not ProductYearMoney.objects.filter(year=2025).exists()


def test_an_approved_scenario_moves_the_money_per_year(world):
    scenario = scenario_create_from_live(
        name="Cut checkout", portfolio=world.payments, by=world.director, today=TODAY
    )
    lines = {line.product.slug: line for line in scenario.lines.select_related("product")}
    scenario_change_budget(scenario=scenario, line=lines["checkout"], planned=Decimal("100000"))
    scenario_approve(scenario=scenario, by=world.director)
    products = Product.objects.filter(portfolio=world.payments)
    from_lines = investment_totals(products=products, quarters=YEAR, today=TODAY)
    assert _money(year_money_totals(products=products, year=2026, today=TODAY)) == _money(from_lines)
    checkout = Product.objects.get(slug="checkout")
    assert checkout.planned_budget == sum(
        row.capex + row.opex for row in ProductYearMoney.objects.filter(product=checkout)
    )
