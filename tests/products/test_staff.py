"""Admin access for staff who are not superusers: role groups (products.staff) and row rules (permissions)."""

import pytest

from portfolio.models import KPITarget
from products.choices import Role
from products.models import Product
from products.staff import DIRECTOR_GROUP, PM_GROUP, ROLE_GROUPS, role_groups_assign, role_groups_sync
from tests.factories import KPITargetFactory, PortfolioFactory, ProductFactory, UserFactory


@pytest.fixture
def staff_director(db):
    director = UserFactory(username="dana", role=Role.DIRECTOR, is_staff=True)
    role_groups_assign(users=[director])
    return director


def test_groups_sync_is_idempotent_and_people_join_their_roles_group(db):
    role_groups_sync()
    role_groups_sync()
    people = [UserFactory(role=role) for role in Role]
    role_groups_assign(users=people)
    role_groups_assign(users=people)
    for person in people:
        names = list(person.groups.values_list("name", flat=True))
        assert names == ([ROLE_GROUPS[person.role]] if person.role in ROLE_GROUPS else []), person.role
    pm = next(p for p in people if p.role == Role.PM)
    assert PM_GROUP in pm.groups.values_list("name", flat=True)
    assert not pm.has_perm("products.view_product")  # money: PMs read products in the app, not the admin
    assert pm.has_perm("portfolio.view_measurement")


def test_a_staff_director_opens_the_product_admin_but_not_the_user_admin(client, staff_director):
    assert DIRECTOR_GROUP in staff_director.groups.values_list("name", flat=True)
    client.force_login(staff_director)
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/products/product/").status_code == 200
    assert client.get("/admin/products/user/").status_code == 403
    assert client.get(f"/admin/products/user/{staff_director.pk}/change/").status_code == 403


def test_a_staff_director_changes_products_of_their_portfolio_and_only_reads_the_others(
    client, staff_director
):
    own = ProductFactory(portfolio=PortfolioFactory(director=staff_director), name="Own")
    other = ProductFactory(name="Other")
    client.force_login(staff_director)
    own_page = client.get(f"/admin/products/product/{own.pk}/change/")
    other_page = client.get(f"/admin/products/product/{other.pk}/change/")
    assert own_page.status_code == other_page.status_code == 200
    assert own_page.context["has_change_permission"] is True
    assert other_page.context["has_change_permission"] is False  # read-only
    response = client.post(f"/admin/products/product/{other.pk}/change/", {"name": "Changed"})
    assert response.status_code == 403
    assert Product.objects.get(pk=other.pk).name == "Other"


def test_a_staff_director_may_not_edit_kpi_targets_outside_their_portfolios_from_the_list(
    client, staff_director
):
    target = KPITargetFactory(target=120.0)
    client.force_login(staff_director)
    listing = client.get("/admin/portfolio/kpitarget/").content.decode()
    assert 'name="form-0-target"' not in listing  # the row shows read-only
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(target.pk),
        "form-0-target": "1",
        "form-0-version": str(target.version),
        "_save": "Save",
    }
    response = client.post("/admin/portfolio/kpitarget/", data)
    assert response.status_code in {302, 403}
    assert KPITarget.objects.get(pk=target.pk).target == 120.0
