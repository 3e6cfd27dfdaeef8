"""Audit history: what a form edit, a stage move, a measurement and an admin change leave behind, and the
product page's History tab that shows it (who, when, what, old → new; money only for those who see budgets)."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from lifecycle.models import StageTransition
from portfolio.demo.seed import demo_clear
from portfolio.models import KPI, KPITarget, Measurement
from portfolio.strategy.services.budgets import budget_line_set
from products.choices import Role
from products.models import Membership, Product
from spm.history.records import history_model
from tests.factories import (
    KPIFactory,
    KPITargetFactory,
    MembershipFactory,
    PortfolioFactory,
    ProductFactory,
    StageTransitionFactory,
    UserFactory,
)
from tests.lifecycle.factories import fill_gates
from tests.products.test_admin import admin_form_data

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def edit_form(product: Product, **changes) -> dict:
    data = {
        "name": product.name,
        "description": product.description,
        "market": product.market,
        "focus": product.focus,
        "version": product.version,
    }
    data.update(changes)
    return data


def text(response) -> str:
    """The response as a screen reader reads it: what is hidden from it and tags dropped, whitespace collapsed."""
    html = re.sub(r'<span[^>]*aria-hidden="true"[^>]*>.*?</span>', "", response.content.decode())
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def seeded_product() -> Product:
    """A product as the demo seeder writes it: built in memory, then bulk-inserted (no history)."""
    return ProductFactory.build(
        slug="seeded", name="Seeded", portfolio=PortfolioFactory(), owner=UserFactory()
    )


def history_of(product: Product):
    return product.history.order_by("-history_date", "-history_id")


# ------------------------------------------------------------------------------------------- what is recorded
def test_an_edit_on_the_product_page_is_recorded_with_who_and_old_to_new():
    product = ProductFactory(name="Atlas", market="b2b")
    editor = product.owner

    response = logged_in(editor).post(
        f"/products/{product.slug}/edit/", edit_form(product, name="Atlas Pay", market="b2c"), headers=HX
    )

    assert response.status_code == 200
    latest, before = history_of(product)[:2]
    assert (latest.history_type, latest.history_user) == ("~", editor)
    delta = latest.diff_against(before)
    assert {(c.field, c.old, c.new) for c in delta.changes} >= {
        ("name", "Atlas", "Atlas Pay"),
        ("market", "b2b", "b2c"),
    }


def test_a_stage_move_records_the_transition_and_the_products_new_stage(client_as_pm, pm_user):
    product = fill_gates(ProductFactory(owner=pm_user, stage="mvp"))

    client_as_pm.post(f"/lifecycle/board/move/{product.slug}/", {"to": "feedback"})

    transition = StageTransition.history.get(product_id=product.pk)
    assert (transition.history_type, transition.history_user, transition.to_stage) == (
        "+",
        pm_user,
        "feedback",
    )
    latest = history_of(product).first()
    assert (latest.history_user, latest.stage) == (pm_user, "feedback")
    changed = {c.field for c in latest.diff_against(latest.prev_record).changes}
    assert changed == {"stage", "stage_entered_at", "version"}


def test_recording_and_correcting_a_measurement_is_recorded(client_as_pm, pm_user):
    product = ProductFactory(owner=pm_user)
    kpi = KPIFactory(name="Signups")
    url, data = f"/products/{product.slug}/measurements/", {"kpi": kpi.pk, "period": "2026-10-12"}
    client_as_pm.post(url, {**data, "value": "12"})
    first = Measurement.objects.get(product=product)
    client_as_pm.post(
        url, {**data, "value": "15", "replaces": f"{first.pk}:12.0"}
    )  # the confirmed correction

    created, corrected = Measurement.history.filter(product_id=product.pk).order_by("history_date")
    assert (created.history_type, created.history_user, created.value) == ("+", pm_user, 12.0)
    assert (corrected.history_type, corrected.history_user) == ("~", pm_user)
    assert [
        (c.field, c.old, c.new) for c in corrected.diff_against(created).changes if c.field == "value"
    ] == [("value", 12.0, 15.0)]


def test_a_measurement_recorded_without_a_request_names_its_recorder():
    """Commands and imports call the service directly: the history falls back to ``recorded_by``."""
    from portfolio.kpis.services import measurement_record

    product = ProductFactory()
    measurement_record(
        product=product, kpi=KPIFactory(), period=dt.date(2026, 10, 12), value=3.0, by=product.owner
    )
    assert Measurement.history.get(product_id=product.pk).history_user == product.owner


def test_an_admin_change_is_recorded_with_the_admin(admin_client, superuser):
    product = ProductFactory(name="Before")
    page = admin_client.get(f"/admin/products/product/{product.pk}/change/")

    response = admin_client.post(
        f"/admin/products/product/{product.pk}/change/", admin_form_data(page, name="After")
    )

    assert response.status_code == 302
    latest = history_of(product).first()
    assert (latest.history_user, latest.name) == (superuser, "After")
    assert ("name", "Before", "After") in {
        (c.field, c.old, c.new) for c in latest.diff_against(latest.prev_record).changes
    }


def test_deleting_in_the_admin_is_recorded(admin_client, superuser):
    membership = MembershipFactory()
    admin_client.post(f"/admin/products/membership/{membership.pk}/delete/", {"post": "yes"})
    deleted = Membership.history.filter(id=membership.pk).order_by("-history_date").first()
    assert (deleted.history_type, deleted.history_user) == ("-", superuser)


def test_the_admin_shows_an_objects_history_and_refuses_to_revert_it(admin_client):
    target = KPITargetFactory(target=100.0)
    target.target = 150.0
    target.save()
    history_url = f"/admin/portfolio/kpitarget/{target.pk}/history/"

    page = admin_client.get(history_url)

    assert page.status_code == 200
    assert "100.0" in text(page)
    assert "150.0" in text(page)
    old = KPITarget.history.filter(id=target.pk).order_by("history_date").first()
    revert = admin_client.post(f"{history_url}{old.history_id}/", {"target": "100", "kpi": target.kpi_id})
    assert revert.status_code == 403
    target.refresh_from_db()
    assert target.target == 150.0


def test_seeded_rows_have_no_history_and_the_seeder_wipe_leaves_none():
    """``bulk_create`` (the demo seeder) records nothing; ``demo_clear`` drops history, its own deletions'
    included."""
    Product.objects.bulk_create([seeded_product()])
    assert not Product.history.filter(slug="seeded").exists()
    ProductFactory()  # one created the ordinary way, with history
    MembershipFactory()

    demo_clear()

    for model in (Product, Membership, StageTransition, KPI, KPITarget, Measurement):
        assert not history_model(model).objects.exists(), model


# ------------------------------------------------------------------------------------------- the History tab
def forget_lifecycle_history() -> None:
    for model in apps.get_app_config("lifecycle").get_models():
        if hasattr(model._meta, "simple_history_manager_attribute"):
            history_model(model).objects.all().delete()


def product_with_a_story():
    """A product with one of each kind of entry, made through the pages a person uses."""
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Park", role=Role.PM)
    product = ProductFactory(
        name="Beacon", slug="beacon", owner=owner, stage="mvp", planned_budget=Decimal("100000")
    )
    fill_gates(product)
    forget_lifecycle_history()  # the gate's work is setup, not part of the story
    client = logged_in(owner)
    client.post("/products/beacon/edit/", edit_form(product, name="Beacon EU"))
    # Money moves with the budget lines (the budget page's service): the product's totals follow, with history.
    budget_line_set(
        product=Product.objects.get(pk=product.pk),
        quarter=dt.date(2026, 10, 1),
        kind="opex",
        planned=Decimal("250000"),
        actual=Decimal(product.actual_spend),
        by=owner,
    )
    client.post("/lifecycle/board/move/beacon/", {"to": "feedback"})
    kpi = KPIFactory(name="Revenue")
    client.post("/products/beacon/measurements/", {"kpi": kpi.pk, "period": "2026-10-12", "value": "131"})
    MembershipFactory(
        product=product, user=UserFactory(first_name="Mia", last_name="Stone"), role=Role.JUNIOR_PM
    )
    KPITargetFactory(product=product, kpi=kpi, target=140.0)
    return product


def test_the_history_tab_lists_every_kind_of_change_newest_first_with_who_and_old_to_new():
    product = product_with_a_story()

    response = logged_in(product.owner).get("/products/beacon/history/")

    assert response.status_code == 200
    page = text(response)
    assert "<html" in response.content.decode()  # a full page without htmx
    subjects = [entry.subject for entry in response.context["history"].entries]
    assert subjects[:4] == [
        "Target for Revenue",
        "Team: Mia Stone",
        "Revenue for 12 Oct 2026",
        "Product “Beacon EU”",
    ]
    assert "Stage move: MVP → Feedback" in subjects
    assert "Name: “Beacon” changed to “Beacon EU”" in page
    assert "Planned budget: 100,000.00 changed to 250,000.00" in page
    assert "Stage: MVP changed to Feedback" in page
    assert "by Olivia Park" in page
    assert "Value: 131" in page


def test_the_tab_and_its_pages_come_as_regions_for_htmx():
    product = product_with_a_story()
    client = logged_in(product.owner)

    tab = client.get("/products/beacon/history/", headers={**HX, "HX-Target": "product-tab"})
    listing = client.get("/products/beacon/history/", headers={**HX, "HX-Target": "product-history"})

    assert tab.content.decode().lstrip().startswith('<div id="product-tab"')
    assert listing.content.decode().lstrip().startswith('<section id="product-history"')
    assert "HX-Request" in tab["Vary"]
    # The product page links to the tab with a real href and an htmx swap.
    overview = client.get(product.get_absolute_url()).content.decode()
    assert 'href="/products/beacon/history/"' in overview
    assert 'hx-target="#product-tab"' in overview


def test_money_changes_are_hidden_from_people_off_the_product():
    product = product_with_a_story()
    stranger = UserFactory(role=Role.PM)  # sees the product, not its budget

    page = text(logged_in(stranger).get("/products/beacon/history/"))

    assert "Name: “Beacon” changed to “Beacon EU”" in page
    assert "250,000.00" not in page
    assert "Planned budget" not in page
    assert "Budget figures changed too; they are not shown to you." in page
    member = MembershipFactory(product=product, role=Role.INTERN).user
    assert "250,000.00" in text(logged_in(member).get("/products/beacon/history/"))


def test_changes_to_seeded_rows_say_their_earlier_values_were_not_recorded():
    Product.objects.bulk_create([seeded_product()])
    product = Product.objects.get(slug="seeded")
    logged_in(UserFactory(role=Role.VP)).post("/products/seeded/edit/", edit_form(product, name="Renamed"))

    page = text(logged_in(product.owner).get("/products/seeded/history/"))

    assert "Changed Product “Renamed”" in page
    assert "The values before this change were not recorded" in page


def test_history_pages_newest_first(client_as_pm):
    product = ProductFactory()
    kpi = KPIFactory()
    for week in range(30):
        Measurement.objects.create(
            product=product, kpi=kpi, period=dt.date(2026, 1, 5) + dt.timedelta(weeks=week), value=week
        )

    first = client_as_pm.get(f"/products/{product.slug}/history/")
    second = client_as_pm.get(f"/products/{product.slug}/history/", {"page": 2})

    first_entries, second_entries = first.context["history"].entries, second.context["history"].entries
    assert len(first_entries) == 25
    assert first_entries[0].changes[-1].new == "29"  # the latest write first
    assert first_entries[0].at >= first_entries[-1].at >= second_entries[0].at
    # 30 measurements and the product's own creation
    assert len(second_entries) == 6
    assert second_entries[-1].subject == f"Product “{product.name}”"
    assert "Page 2 of 2 · 31 entries" in text(second)


@pytest.mark.parametrize("entries", [3, 60])
def test_the_history_tab_takes_a_fixed_number_of_queries(
    client_as_pm, django_assert_max_num_queries, entries
):
    product = product_with_a_story()
    kpi = KPI.objects.get(name="Revenue")
    for week in range(entries):
        Measurement.objects.create(
            product=product, kpi=kpi, period=dt.date(2025, 1, 6) + dt.timedelta(weeks=week), value=week
        )
        if week % 3 == 0:
            Measurement.objects.filter(product=product, kpi=kpi).first().save()
    for _ in range(entries // 10):
        MembershipFactory(product=product)
    # session, user, product, may see the budget; count and page of keys; per kind on the page its rows and
    # their previous versions (5 kinds, 2 each); names of users, KPIs and portfolios
    with django_assert_max_num_queries(19):
        response = client_as_pm.get(
            "/products/beacon/history/", headers={**HX, "HX-Target": "product-history"}
        )
    assert response.status_code == 200


def test_the_history_tab_query_count_does_not_grow_with_the_history(client_as_pm):
    small = product_with_a_story()
    big = ProductFactory()
    kpi = KPIFactory()
    for week in range(40):
        measurement = Measurement.objects.create(
            product=big, kpi=kpi, period=dt.date(2025, 1, 6) + dt.timedelta(weeks=week), value=week
        )
        measurement.value += 1
        measurement.save()
        MembershipFactory(product=big)
        StageTransitionFactory(product=big, from_stage="problem", to_stage="mvp")
        KPITargetFactory(product=big)

    def count(product) -> int:
        with CaptureQueriesContext(connection) as queries:
            client_as_pm.get(
                f"/products/{product.slug}/history/", headers={**HX, "HX-Target": "product-history"}
            )
        return len(queries)

    assert count(big) <= count(small) + 1  # +1: a kind absent from the small page's rows
