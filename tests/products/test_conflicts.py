"""Concurrent edits: two people edit the same product (or KPI target); the second save is a conflict that says
what changed and keeps their input, never a silent overwrite. Saving again applies their input on top."""

import re
import threading
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection, connections
from django.test import Client

from lifecycle.services import product_move_stage
from portfolio.models import KPITarget
from products.choices import Role
from products.models import Product
from products.services import ProductEditConflict, product_update
from spm.history.conflicts import version_claim
from tests.factories import (
    KPIFactory,
    KPITargetFactory,
    MembershipFactory,
    PortfolioFactory,
    ProductFactory,
    UserFactory,
)
from tests.lifecycle.factories import fill_gates
from tests.products.test_admin import admin_form_data
from tests.products.test_history import text

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
CONFLICT = "Someone else saved this product while you were editing"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_values(html: str) -> dict[str, str]:
    """What the product edit form in ``html`` posts back as it stands: inputs, the selected options, text."""
    values = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrfmiddlewaretoken":
            values[name.group(1)] = unescape(value.group(1)) if value else ""
    for name, options in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        values[name] = re.search(r'<option value="([^"]*)"[^>]*selected', options).group(1)
    for name, body in re.findall(r'<textarea name="([^"]+)"[^>]*>(.*?)</textarea>', html, re.S):
        values[name] = unescape(body).strip("\n")
    return values


@pytest.fixture
def beacon():
    owner = UserFactory(username="olivia", first_name="Olivia", last_name="Park", role=Role.PM)
    product = ProductFactory(
        name="Beacon", slug="beacon", owner=owner, stage="mvp", planned_budget=Decimal("100000.00")
    )
    ben = UserFactory(username="ben", first_name="Ben", last_name="Ode", role=Role.PM)
    MembershipFactory(product=product, user=ben, role=Role.PM)
    return fill_gates(product)


def open_edit_form(user) -> tuple[Client, dict[str, str]]:
    client = logged_in(user)
    response = client.get("/products/beacon/edit/", headers=HX)
    return client, form_values(response.content.decode())


# ------------------------------------------------------------------------------------------- the product page
def test_the_second_save_is_a_conflict_that_says_what_changed_and_keeps_the_input(beacon):
    olivia, olivias_form = open_edit_form(beacon.owner)
    ben, bens_form = open_edit_form(UserFactory(username="ben"))
    assert olivias_form["version"] == bens_form["version"] == "1"

    saved = olivia.post("/products/beacon/edit/", {**olivias_form, "name": "Beacon EU"}, headers=HX)
    assert "Saved Beacon EU." in text(saved)
    response = ben.post(
        "/products/beacon/edit/", {**bens_form, "description": "Payouts for EU merchants"}, headers=HX
    )

    page = text(response)
    assert response.status_code == 200
    assert CONFLICT in page
    assert "(Olivia Park," in page
    assert "Name changed “Beacon” to “Beacon EU”" in page
    # Ben's own edit is still in the form; the name he left alone now shows Olivia's save.
    shown = form_values(response.content.decode())
    assert shown["description"] == "Payouts for EU merchants"
    assert shown["name"] == "Beacon EU"
    assert "Now the value saved meanwhile: “Beacon EU” (was “Beacon”)." in page
    product = Product.objects.get(slug="beacon")
    assert (product.name, product.description, product.version) == ("Beacon EU", "", 2)
    assert shown["version"] == "2"

    # Having looked, Ben saves again: his description lands on top of Olivia's name.
    again = ben.post("/products/beacon/edit/", shown, headers=HX)
    assert "Saved Beacon EU." in text(again)
    product.refresh_from_db()
    assert (product.name, product.description, product.version) == (
        "Beacon EU",
        "Payouts for EU merchants",
        3,
    )


def test_when_both_change_the_same_field_the_form_keeps_the_second_persons_value(beacon):
    olivia, olivias_form = open_edit_form(beacon.owner)
    ben, bens_form = open_edit_form(UserFactory(username="ben"))
    olivia.post("/products/beacon/edit/", {**olivias_form, "name": "Beacon EU"}, headers=HX)

    response = ben.post("/products/beacon/edit/", {**bens_form, "name": "Beacon Global"}, headers=HX)

    assert form_values(response.content.decode())["name"] == "Beacon Global"
    assert "Saved meanwhile: “Beacon EU”. The form keeps your input." in text(response)
    assert Product.objects.get(slug="beacon").name == "Beacon EU"


def test_a_stage_move_while_editing_is_a_conflict_too(beacon):
    ben, bens_form = open_edit_form(UserFactory(username="ben"))
    product_move_stage(product=beacon, to="feedback", by=beacon.owner)

    response = ben.post("/products/beacon/edit/", {**bens_form, "name": "Beacon 2"}, headers=HX)

    assert "Stage changed MVP to Feedback" in text(response)
    assert Product.objects.get(slug="beacon").name == "Beacon"


def test_without_htmx_the_conflict_is_the_edit_page(beacon):
    ben, bens_form = open_edit_form(UserFactory(username="ben"))
    product_update(product=beacon, changes={"name": "Beacon EU"}, by=beacon.owner)

    response = ben.post("/products/beacon/edit/", {**bens_form, "actual_spend": "1"})

    assert response.status_code == 200
    assert "<html" in response.content.decode()
    assert CONFLICT in text(response)


def test_a_form_without_its_version_is_refused_not_saved(beacon):
    form = open_edit_form(beacon.owner)[1]
    del form["version"]
    response = logged_in(beacon.owner).post("/products/beacon/edit/", {**form, "name": "X"}, headers=HX)
    assert "This form is out of date" in text(response)
    assert Product.objects.get(slug="beacon").name == "Beacon"


# ------------------------------------------------------------------------------------------- the service
def test_a_stale_version_is_refused_by_the_service_and_nothing_is_written(beacon):
    product_update(product=beacon, changes={"name": "Beacon EU"}, by=beacon.owner, expected_version=1)

    with pytest.raises(ProductEditConflict) as raised:
        product_update(product=beacon, changes={"focus": "design"}, by=beacon.owner, expected_version=1)

    conflict = raised.value
    assert conflict.since_loaded
    assert [(c.field, c.old, c.new) for c in conflict.changes] == [("name", "“Beacon”", "“Beacon EU”")]
    assert conflict.saved_by == beacon.owner
    product = Product.objects.get(pk=beacon.pk)
    assert (product.focus, product.version) == ("customer", 2)


def test_every_save_moves_the_version_on_and_a_save_without_changes_does_not(beacon, admin_client):
    product_update(product=beacon, changes={"name": "Beacon"}, by=beacon.owner)
    assert Product.objects.get(pk=beacon.pk).version == 1
    product_update(product=beacon, changes={"name": "Beacon EU"}, by=beacon.owner)
    product_move_stage(product=beacon, to="feedback", by=beacon.owner)
    page = admin_client.get(f"/admin/products/product/{beacon.pk}/change/")
    admin_client.post(f"/admin/products/product/{beacon.pk}/change/", admin_form_data(page, name="Beacon 3"))
    assert Product.objects.get(pk=beacon.pk).version == 4


def test_a_conflict_on_data_without_history_lists_the_current_values_that_differ():
    """Seeded rows have no history, so the version the editor loaded cannot be looked up."""
    Product.objects.bulk_create(
        [
            ProductFactory.build(
                slug="seeded", name="Seeded", portfolio=PortfolioFactory(), owner=UserFactory()
            )
        ]
    )
    product = Product.objects.get(slug="seeded")
    product_update(product=product, changes={"name": "Renamed"}, by=product.owner, expected_version=1)

    with pytest.raises(ProductEditConflict) as raised:
        product_update(
            product=product, changes={"name": "Seeded", "market": "b2c"}, by=product.owner, expected_version=1
        )

    assert not raised.value.since_loaded
    assert "Name is now “Renamed”" in raised.value.summary()


def test_a_version_is_claimed_once():
    product = ProductFactory()
    assert version_claim(model=Product, pk=product.pk, expected=1)
    assert not version_claim(model=Product, pk=product.pk, expected=1)
    assert Product.objects.get(pk=product.pk).version == 2


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_saves_from_the_same_version_one_wins_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL (SQLite serialises writers)")
    product = ProductFactory(name="Race")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def save(name: str) -> None:
        try:
            start.wait()
            product_update(product=product, changes={"name": name}, by=product.owner, expected_version=1)
            outcomes.append("saved")
        except ProductEditConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=save, args=(name,)) for name in ("First", "Second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "saved"]
    assert Product.objects.get(pk=product.pk).version == 2


# ------------------------------------------------------------------------------------------- the admin
def test_two_admins_editing_a_product_conflict_instead_of_overwriting(admin_client, beacon):
    url = f"/admin/products/product/{beacon.pk}/change/"
    other_admin = logged_in(UserFactory(username="root2", is_staff=True, is_superuser=True))
    first_page, second_page = admin_client.get(url), other_admin.get(url)
    assert admin_client.post(url, admin_form_data(first_page, name="Beacon EU")).status_code == 302

    response = other_admin.post(url, admin_form_data(second_page, description="Payouts for EU merchants"))

    assert response.status_code == 200
    assert CONFLICT in text(response)
    assert "Name changed “Beacon” → “Beacon EU”" in text(response)
    product = Product.objects.get(pk=beacon.pk)
    assert (product.name, product.description) == ("Beacon EU", "")
    # The page keeps the description typed, shows the saved name, and carries the current version: saving again works.
    again = dict(response.context["adminform"].form.data.items())  # what the page posts back as it stands
    assert (again["name"], again["description"], again["version"]) == (
        "Beacon EU",
        "Payouts for EU merchants",
        "2",
    )
    assert other_admin.post(url, again).status_code == 302
    product.refresh_from_db()
    assert (product.name, product.description) == ("Beacon EU", "Payouts for EU merchants")


def test_two_admins_editing_a_target_in_the_list_conflict(admin_client):
    target = KPITargetFactory(target=100.0, kpi=KPIFactory(name="Revenue"))
    listing = admin_client.get("/admin/portfolio/kpitarget/")
    assert 'name="form-0-version" value="1"' in listing.content.decode()  # each row carries its version
    target.target = 150.0
    target.version = 2
    target.save()  # someone else's save

    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": target.pk,
        "form-0-target": "120",
        "form-0-version": "1",
        "_save": "Save",
    }
    response = admin_client.post("/admin/portfolio/kpitarget/", data)

    assert response.status_code == 200
    assert "Someone else saved this KPI target while you were editing" in text(response)
    assert "Target changed 100 → 150" in text(response)
    assert KPITarget.objects.get(pk=target.pk).target == 150.0
    assert 'name="form-0-version" value="2"' in response.content.decode()
    assert (
        admin_client.post("/admin/portfolio/kpitarget/", {**data, "form-0-version": "2"}).status_code == 302
    )
    assert KPITarget.objects.get(pk=target.pk).target == 120.0


def test_a_target_edited_on_its_kpis_page_conflicts_too(admin_client):
    kpi = KPIFactory(name="Revenue")
    target = KPITargetFactory(kpi=kpi, target=100.0)
    url = f"/admin/portfolio/kpi/{kpi.pk}/change/"
    page = admin_client.get(url)
    KPITarget.objects.filter(pk=target.pk).update(target=150.0, version=2)

    response = admin_client.post(url, admin_form_data(page, **{"targets-0-target": "120"}))

    assert response.status_code == 200
    assert "Someone else saved this KPI target while you were editing" in text(response)
    assert KPITarget.objects.get(pk=target.pk).target == 150.0
