"""Objectives and coverage: key results from the KPI rollups, alignment with weights, the gaps, permissions."""

import pytest

from portfolio.models import Alignment, KeyResult, PlanChange
from portfolio.strategy.rules import AlignmentInvalid
from portfolio.strategy.selectors.objectives import coverage
from portfolio.strategy.services.alignments import alignment_set
from products.choices import Role
from products.models import Product
from tests.factories import MembershipFactory, ObjectiveFactory, ProductFactory, UserFactory
from tests.portfolio.strategy_data import build_world


@pytest.fixture
def world(db):
    return build_world()


def test_coverage_names_the_objectives_and_products_without_each_other(world):
    view = coverage(portfolio=None, products=Product.objects.all())
    assert [v.objective.title for v in view.uncovered] == ["Grow retention", "Nobody works on this"]
    assert list(view.unaligned_products.values_list("slug", flat=True)) == ["ads"]
    assert (view.unaligned_count, view.products) == (1, 3)
    speed = next(v for v in view.objectives if v.objective == world.speed)
    assert speed.aligned_count == 2
    assert [name for _, name, *_ in speed.aligned] == ["Checkout", "Wallet"]  # heaviest weight first


def test_a_portfolio_view_keeps_its_objectives_and_the_organisations(world):
    view = coverage(portfolio=world.growth, products=Product.objects.filter(portfolio=world.growth))
    assert {v.objective.title for v in view.objectives} == {"Nobody works on this", "Grow retention"}


def test_key_result_reads_the_latest_portfolio_rollup(world):
    view = coverage(portfolio=world.payments, products=Product.objects.all())
    speed = next(v for v in view.objectives if v.objective == world.speed)
    (kr,) = speed.key_results
    assert kr.key_result.current == 57.0  # the 4 May rollup, not the 27 April one
    assert kr.status == "at_risk"  # 57 against 60 with 10 % tolerance
    assert kr.progress == 95


def test_an_organisation_key_result_reads_the_organisation_rollup(world):
    from tests.factories import RollupFactory

    KeyResult.objects.create(objective=world.org_objective, title="Org", kpi=world.kpi, target=10.0)
    RollupFactory(kpi=world.kpi, scope="organisation", scope_key="all", value=12.0, target=10.0)
    view = coverage(portfolio=None, products=Product.objects.all())
    org = next(v for v in view.objectives if v.objective == world.org_objective)
    assert org.key_results[0].key_result.current == 12.0
    assert org.key_results[0].status == "on_target"


def test_alignment_to_another_portfolios_objective_is_refused(world):
    with pytest.raises(AlignmentInvalid):
        alignment_set(product=world.checkout, objective=world.orphan_objective, weight=50, by=None)
    alignment_set(product=world.ads, objective=world.org_objective, weight=30, by=None)
    assert Alignment.objects.get(product=world.ads).weight == 30
    assert PlanChange.objects.count() == 1


def test_objectives_page_shows_gaps_funding_and_key_results(client, world):
    client.force_login(world.director)
    response = client.get("/portfolio/objectives/")
    page = response.content.decode()
    assert "No product serves this objective." in page
    assert "Conversion to 60%" in page
    assert response.context["coverage"].unaligned_count == 1
    assert "Products that serve no objective" in page


def test_owner_aligns_their_product_and_changes_the_weight(client, world):
    client.force_login(world.pm)
    response = client.post(
        f"/portfolio/objectives/{world.reach.pk}/align/", {"product": "wallet", "weight": "25"}
    )
    assert response.status_code == 302
    assert Alignment.objects.get(product=world.wallet, objective=world.reach).weight == 25
    client.post(f"/portfolio/objectives/{world.reach.pk}/align/", {"product": "Wallet", "weight": "40"})
    assert Alignment.objects.get(product=world.wallet, objective=world.reach).weight == 40


def test_bad_alignment_input_changes_nothing(client, world):
    client.force_login(world.pm)
    before = list(Alignment.objects.values_list("pk", "weight"))
    client.post(f"/portfolio/objectives/{world.reach.pk}/align/", {"product": "wallet", "weight": "0"})
    client.post(f"/portfolio/objectives/{world.reach.pk}/align/", {"product": "nope", "weight": "10"})
    response = client.get("/portfolio/objectives/")
    assert "No product called" in response.content.decode()
    assert list(Alignment.objects.values_list("pk", "weight")) == before


@pytest.mark.parametrize("role", [Role.JUNIOR_PM, Role.PM, Role.DIRECTOR])
def test_people_who_do_not_edit_the_product_may_not_align_it(client, world, role):
    person = UserFactory(role=role)
    if role == Role.JUNIOR_PM:
        MembershipFactory(product=world.wallet, user=person, role=Role.JUNIOR_PM)
    client.force_login(person)
    response = client.post(
        f"/portfolio/objectives/{world.reach.pk}/align/", {"product": "wallet", "weight": "25"}
    )
    assert response.status_code == 403
    alignment = Alignment.objects.get(product=world.checkout, objective=world.reach)
    assert client.post(f"/portfolio/objectives/alignments/{alignment.pk}/remove/").status_code == 403
    assert Alignment.objects.count() == 3


def test_a_product_may_not_serve_another_portfolios_objective(client, world):
    client.force_login(world.vp)
    response = client.post(
        f"/portfolio/objectives/{world.orphan_objective.pk}/align/", {"product": "checkout", "weight": "25"}
    )
    assert response.status_code == 403
    assert not Alignment.objects.filter(objective=world.orphan_objective).exists()


def test_director_removes_an_alignment(client, world):
    alignment = Alignment.objects.get(product=world.checkout, objective=world.reach)
    client.force_login(world.director)
    assert client.post(f"/portfolio/objectives/alignments/{alignment.pk}/remove/").status_code == 302
    assert not Alignment.objects.filter(pk=alignment.pk).exists()


def test_objectives_csv_and_unaligned_csv(client, world):
    client.force_login(world.junior)
    rows = b"".join(client.get("/portfolio/objectives/?format=csv").streaming_content).decode().splitlines()
    assert rows[0] == "objective,portfolio,target_date,key_results,aligned_products,planned_this_year,covered"
    assert any(row.startswith("Faster payments,payments,,Conversion to 60%,2,") for row in rows)
    unaligned = b"".join(client.get("/portfolio/objectives/?format=csv&table=unaligned").streaming_content)
    assert unaligned.decode().splitlines() == ["product,name,portfolio,stage", "ads,Ads,growth,mvp"]


def test_objectives_page_queries_do_not_grow(client, world, django_assert_max_num_queries):
    client.force_login(world.director)
    counts = []
    for extra in (3, 40):
        objective = ObjectiveFactory(portfolio=world.payments)
        for _ in range(extra):
            Alignment.objects.create(
                product=ProductFactory(portfolio=world.payments), objective=objective, weight=50
            )
            ProductFactory(portfolio=world.growth)
        with django_assert_max_num_queries(16) as captured:
            assert client.get("/portfolio/objectives/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]


def test_aligning_through_htmx_swaps_the_objective_card(client, world):
    client.force_login(world.pm)
    response = client.post(
        f"/portfolio/objectives/{world.reach.pk}/align/",
        {"product": "wallet", "weight": "25"},
        headers={"HX-Request": "true", "HX-Target": f"objective-{world.reach.pk}"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "<html" not in page
    assert page.lstrip().startswith(f'<article id="objective-{world.reach.pk}"')
    assert "Wallet now serves" in page
    assert "2 products" in page
    refused = client.post(
        f"/portfolio/objectives/{world.reach.pk}/align/",
        {"product": "nope", "weight": "5"},
        headers={"HX-Request": "true"},
    )
    assert "No product called" in refused.content.decode()
    alignment = Alignment.objects.get(product=world.wallet, objective=world.reach)
    removed = client.post(
        f"/portfolio/objectives/alignments/{alignment.pk}/remove/", headers={"HX-Request": "true"}
    )
    assert "no longer serves" in removed.content.decode()
    assert not Alignment.objects.filter(pk=alignment.pk).exists()


def test_objective_cards_escape_names_and_give_editors_their_forms(client, world):
    """The cards are written in Python (strategy_tables): every name is escaped, the editor of a product gets
    its Remove form with the CSRF token, and someone who may edit none sees neither form."""
    world.checkout.name = "Checkout <script>alert(1)</script>"
    world.checkout.save()
    world.speed.title = 'Speed & "reach"'
    world.speed.save()
    client.force_login(world.director)
    page = client.get("/portfolio/objectives/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "Checkout &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Speed &amp; &quot;reach&quot;" in page
    alignment = Alignment.objects.get(product=world.checkout, objective=world.speed)
    remove = f'action="/portfolio/objectives/alignments/{alignment.pk}/remove/"'
    assert remove in page
    card = page[page.index(f'id="objective-{world.speed.pk}"') :]
    card = card[: card.index("</article>")]
    assert 'name="csrfmiddlewaretoken"' in card
    assert f'hx-post="/portfolio/objectives/{world.speed.pk}/align/"' in card
    assert "Conversion to 60%" in card
    assert "status--at_risk" in card  # the key result's badge

    client.force_login(world.junior)
    page = client.get("/portfolio/objectives/").content.decode()
    assert remove not in page
    assert "Align a product" not in page


def _group_of(page: str, title: str) -> str:
    """The markup of the group headed ``title`` on the objectives page."""
    start = page.index(f">{title}</h3>")
    end = page.find('class="card objective-group"', start)
    return page[start : end if end != -1 else len(page)]


def test_objectives_come_grouped_by_portfolio_with_their_key_results_folded_into_a_summary(client, world):
    client.force_login(world.director)
    response = client.get("/portfolio/objectives/")
    assert [group.label for group in response.context["groups"]] == [
        "Organisation-wide",
        "Growth",
        "Payments",
    ]
    page = response.content.decode()
    payments = _group_of(page, "Payments")
    assert "<p>2 objectives</p>" in payments  # both served
    assert "1 objective · " in _group_of(page, "Growth")
    assert "1 without a product" in _group_of(page, "Growth")  # nobody works on this
    card = payments[payments.index(f'id="objective-{world.speed.pk}"') :]
    card = card[: card.index("</article>")]
    details = card[card.index("<details") :]
    assert details.startswith('<details class="objective__details">')  # closed: the page reads as summaries
    summary = details[: details.index("</summary>")]
    assert "1 key result<" in summary
    assert "1 at risk" in summary
    assert "95% of target" in summary
    assert summary.index("1 at risk") < summary.index("95% of target")
    assert details.index("Conversion to 60%") > details.index("</summary>")  # the key result itself, folded
    assert "No key results yet" in _group_of(page, "Organisation-wide")


@pytest.mark.parametrize(
    ("status", "titles"),
    [("at_risk", ["Faster payments"]), ("no_data", []), ("", None)],
)
def test_the_status_filter_keeps_objectives_with_a_key_result_in_that_status(client, world, status, titles):
    client.force_login(world.director)
    response = client.get("/portfolio/objectives/", {"status": status})
    shown = [view.objective.title for group in response.context["groups"] for view in group.objectives]
    if titles is None:
        assert len(shown) == 4
        return
    assert shown == titles
    page = response.content.decode()
    if titles:
        assert "with a key result at risk, of 4" in page
    else:
        assert "No objective has a key result without data" in page
    rows = b"".join(
        client.get("/portfolio/objectives/", {"status": status, "format": "csv"}).streaming_content
    )
    assert [line.split(",")[0] for line in rows.decode().splitlines()[1:]] == titles


def test_an_unknown_status_is_named_and_ignored(client, world):
    client.force_login(world.director)
    response = client.get("/portfolio/objectives/", {"status": "sideways"})
    assert "“sideways” is not a key result status." in response.content.decode()
    assert sum(len(group.objectives) for group in response.context["groups"]) == 4


def test_the_objectives_csv_link_keeps_the_filters(client, world):
    client.force_login(world.director)
    page = client.get(
        "/portfolio/objectives/", {"portfolio": "payments", "status": "at_risk"}
    ).content.decode()
    assert 'href="/portfolio/objectives/?portfolio=payments&amp;status=at_risk&amp;format=csv"' in page


def test_a_status_filter_through_htmx_swaps_the_results_only(client, world):
    client.force_login(world.director)
    response = client.get(
        "/portfolio/objectives/",
        {"status": "at_risk"},
        headers={"HX-Request": "true", "HX-Target": "objectives-results"},
    )
    page = response.content.decode()
    assert "<html" not in page
    assert page.lstrip().startswith('<div id="objectives-results"')
    assert "Faster payments" in page
    assert "More merchants" not in page


def test_the_card_swapped_in_after_an_alignment_is_open(client, world):
    client.force_login(world.pm)
    response = client.post(
        f"/portfolio/objectives/{world.reach.pk}/align/",
        {"product": "wallet", "weight": "25"},
        headers={"HX-Request": "true", "HX-Target": f"objective-{world.reach.pk}"},
    )
    assert '<details class="objective__details" open>' in response.content.decode()


def test_filtering_by_status_adds_no_query(client, world, django_assert_max_num_queries):
    client.force_login(world.director)
    with django_assert_max_num_queries(16) as everything:
        client.get("/portfolio/objectives/")
    with django_assert_max_num_queries(len(everything)):
        client.get("/portfolio/objectives/", {"status": "at_risk"})


def test_the_gap_list_links_only_to_objectives_on_the_page(client, world):
    client.force_login(world.director)
    everything = client.get("/portfolio/objectives/").content.decode()
    assert f'href="#objective-{world.orphan_objective.pk}"' in everything
    at_risk = client.get("/portfolio/objectives/", {"status": "at_risk"}).content.decode()
    assert "Nobody works on this" in at_risk  # still a gap
    assert f'href="#objective-{world.orphan_objective.pk}"' not in at_risk  # but not shown below
