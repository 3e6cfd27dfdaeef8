"""Django admin for people, products and memberships, driven through HTTP as an admin would."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core import checks
from django.db import connection
from django.forms import CheckboxInput, MultiWidget
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lifecycle.models import StageTransition
from portfolio.kpis.engine import rollups_recompute
from portfolio.models import Rollup
from products.admin import ADMIN_STAGE_NOTE
from products.choices import Health, Role, Stage
from tests.factories import (
    KPIFactory,
    KPITargetFactory,
    MeasurementFactory,
    MembershipFactory,
    ProductFactory,
    StageTransitionFactory,
    UserFactory,
)
from tests.lifecycle.factories import fill_gates

pytestmark = pytest.mark.django_db


def admin_form_data(response, **changes) -> dict:
    """The body the admin page in ``response`` posts back when the user changes only ``changes``.

    Reads every form on the page (the object's form, each inline formset and its management form) the way a
    browser would submit it: split date/time widgets as ``name_0``/``name_1``, checkboxes only when ticked,
    and the hidden ``initial-`` copies Django renders for fields with a callable default.
    """
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.append(inline.formset.management_form)
        forms.extend(inline.formset.forms)
    data: dict = {}
    for form in forms:
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value, widget = form[name].value(), field.widget
            # Fields with a callable default also post their initial value, hidden, to tell what changed.
            keys = [form.add_prefix(name)] + (
                [form.add_initial_prefix(name)] if field.show_hidden_initial else []
            )
            for key in keys:
                if isinstance(widget, MultiWidget):
                    for index, part in enumerate(widget.decompress(value)):
                        if part is not None:
                            data[f"{key}_{index}"] = part
                elif isinstance(widget, CheckboxInput):
                    if value:
                        data[key] = "on"
                elif value is not None:
                    data[key] = value
    data.update(changes)
    return data


@pytest.fixture
def make_staff():
    def make(*permissions: str):
        staff = UserFactory(username="staff", is_staff=True)
        for permission in permissions:
            app_label, codename = permission.split(".")
            staff.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return staff

    return make


def result_names(response) -> list[str]:
    return [str(obj) for obj in response.context["cl"].result_list]


def test_admin_configuration_passes_djangos_checks():
    # Among others: every autocomplete field points at an admin with search_fields (admin.E039/E040).
    assert checks.run_checks(tags=[checks.Tags.admin]) == []


@pytest.mark.parametrize(
    ("model_path", "make"),
    [
        ("products/user", lambda: UserFactory(username="ada", title="Head of Payments")),
        ("products/product", lambda: ProductFactory(name="Aurora Billing")),
        ("products/membership", lambda: MembershipFactory(product=ProductFactory(name="Aurora Billing"))),
    ],
)
def test_changelist_add_and_change_pages_render(admin_client, model_path, make):
    obj = make()
    changelist = admin_client.get(f"/admin/{model_path}/")
    assert changelist.status_code == 200
    assert str(obj) in result_names(changelist)
    assert admin_client.get(f"/admin/{model_path}/add/").status_code == 200
    change = admin_client.get(f"/admin/{model_path}/{obj.pk}/change/")
    assert change.status_code == 200
    assert change.context["original"] == obj


def test_product_search_finds_the_product_by_name_and_not_the_other(admin_client):
    ProductFactory(name="Aurora Billing")
    ProductFactory(name="Zephyr Mobile")
    response = admin_client.get("/admin/products/product/", {"q": "aurora"})
    assert result_names(response) == ["Aurora Billing"]
    assert b"Zephyr Mobile" not in response.content


def test_product_search_also_finds_products_by_owner(admin_client):
    ProductFactory(name="Aurora Billing", owner=UserFactory(username="grace", last_name="Hopper"))
    ProductFactory(name="Zephyr Mobile")
    response = admin_client.get("/admin/products/product/", {"q": "hopper"})
    assert result_names(response) == ["Aurora Billing"]


def test_product_list_shows_days_in_stage_and_sorts_longest_waiting_first(admin_client):
    now = timezone.now()
    ProductFactory(name="Fresh", stage_entered_at=now - dt.timedelta(days=2))
    ProductFactory(name="Stuck", stage_entered_at=now - dt.timedelta(days=40))
    response = admin_client.get("/admin/products/product/")
    assert re.search(rb'<td class="field-days_in_stage">40</td>', response.content)

    days_column = response.context["cl"].list_display.index("days_in_stage")
    by_days = admin_client.get("/admin/products/product/", {"o": f"-{days_column}"})
    assert result_names(by_days) == ["Stuck", "Fresh"]


def test_product_list_filters_by_stage(admin_client):
    ProductFactory(name="Early", stage=Stage.PROBLEM)
    ProductFactory(name="Late", stage=Stage.EXECUTION)
    response = admin_client.get("/admin/products/product/", {"stage__exact": "execution"})
    assert result_names(response) == ["Late"]


def test_product_list_is_a_fixed_number_of_queries(admin_client, django_assert_max_num_queries):
    for _ in range(30):
        ProductFactory()
    with django_assert_max_num_queries(8):
        response = admin_client.get("/admin/products/product/")
    assert len(response.context["cl"].result_list) == 30


def test_derived_product_fields_are_shown_but_not_editable(admin_client):
    product = ProductFactory(health=Health.AT_RISK)
    response = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    form_fields = response.context["adminform"].form.fields
    assert "health" not in form_fields
    assert "days_in_stage" not in form_fields
    assert b"At risk" in response.content

    data = admin_form_data(response, health=Health.OFF_TARGET)
    assert admin_client.post(f"/admin/products/product/{product.pk}/change/", data).status_code == 302
    product.refresh_from_db()
    assert product.health == Health.AT_RISK


def test_saving_a_product_unchanged_in_the_admin_records_nothing(admin_client):
    # Microseconds, as every stage move writes them: the admin's fields show whole seconds.
    product = ProductFactory(stage_entered_at=timezone.now().replace(microsecond=123_456))
    records, version = product.history.count(), product.version
    page = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    assert (
        admin_client.post(f"/admin/products/product/{product.pk}/change/", admin_form_data(page)).status_code
        == 302
    )
    product.refresh_from_db()
    assert (product.history.count(), product.version) == (records, version)
    assert product.stage_entered_at.microsecond == 123_456


def cell(response, column: str, row: int = 0) -> str:
    """The text of one cell of the changelist (``field-<column>``), row ``row``."""
    cells = re.findall(rf'<t[dh] class="field-{column}[^"]*">(.*?)</t[dh]>', response.content.decode())
    return re.sub(r"<[^>]+>", "", cells[row])


def test_product_list_groups_money_and_writes_times_on_the_24_hour_clock(admin_client):
    product = ProductFactory(
        name="Aurora Billing", planned_budget=Decimal("2010207.50"), actual_spend=Decimal("1234.05")
    )
    afternoon = dt.datetime(2026, 5, 4, 14, 30, tzinfo=dt.UTC)
    type(product).objects.filter(pk=product.pk).update(updated_at=afternoon)
    response = admin_client.get("/admin/products/product/")
    assert cell(response, "planned_budget") == "2,010,207.50"
    assert cell(response, "actual_spend") == "1,234.05"
    assert cell(response, "updated_at") == "4 May 2026, 14:30"
    assert b"p.m." not in response.content


def test_product_list_still_sorts_by_its_grouped_money(admin_client):
    ProductFactory(name="Small", planned_budget=Decimal("9000.00"))
    ProductFactory(name="Large", planned_budget=Decimal("10000.00"))  # sorted as text, "10,000" < "9,000"
    list_display = admin_client.get("/admin/products/product/").context["cl"].list_display
    column = next(
        i for i, entry in enumerate(list_display) if getattr(entry, "__name__", "") == "planned_budget"
    )
    by_budget = admin_client.get("/admin/products/product/", {"o": f"-{column}"})
    assert result_names(by_budget) == ["Large", "Small"]
    assert result_names(admin_client.get("/admin/products/product/", {"o": str(column)})) == [
        "Small",
        "Large",
    ]


def test_product_page_shows_its_money_grouped_and_read_only(admin_client):
    product = ProductFactory(planned_budget=Decimal("2010207.50"))
    response = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    assert "planned_budget" not in response.context["adminform"].form.fields
    assert re.search(r"field-planned_budget_grouped.*?2,010,207\.50", response.content.decode(), re.S)


def test_a_stage_entry_time_typed_on_the_24_hour_clock_is_saved(admin_client):
    product = ProductFactory(stage_entered_at=dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC))
    page = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    assert 'value="04/05/2026"' in page.content.decode()  # the date input shows what it accepts
    typed = admin_form_data(page, stage_entered_at_0="03/05/2026", stage_entered_at_1="17:45")
    assert admin_client.post(f"/admin/products/product/{product.pk}/change/", typed).status_code == 302
    product.refresh_from_db()
    assert product.stage_entered_at == dt.datetime(2026, 5, 3, 17, 45, tzinfo=dt.UTC)


def test_product_page_shows_members_and_stage_history_inline(admin_client):
    product = ProductFactory()
    MembershipFactory(product=product, user=UserFactory(username="linus"), role=Role.SENIOR_PM)
    StageTransitionFactory(product=product, from_stage="", to_stage=Stage.PROBLEM, note="Kick-off")
    response = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    inlines = {
        inline.formset.model.__name__: inline.formset for inline in response.context["inline_admin_formsets"]
    }
    assert [form.instance.user.username for form in inlines["Membership"].forms] == ["linus"]
    assert [form.instance.note for form in inlines["StageTransition"].forms] == ["Kick-off"]


def test_product_page_links_to_its_measurements(admin_client):
    product = ProductFactory()
    response = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    assert f'href="/admin/portfolio/measurement/?product={product.pk}"'.encode() in response.content


def test_changing_the_stage_in_admin_records_a_transition(admin_client, superuser):
    product = ProductFactory(stage=Stage.RESEARCH, stage_entered_at=timezone.now() - dt.timedelta(days=30))
    fill_gates(product)  # the research gate is met
    page = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    response = admin_client.post(
        f"/admin/products/product/{product.pk}/change/", admin_form_data(page, stage=Stage.MVP)
    )
    assert response.status_code == 302

    product.refresh_from_db()
    assert product.stage == Stage.MVP
    assert product.days_in_stage == 0
    transition = StageTransition.objects.get(product=product)
    assert (transition.from_stage, transition.to_stage, transition.by) == (
        Stage.RESEARCH,
        Stage.MVP,
        superuser,
    )
    assert transition.note == ADMIN_STAGE_NOTE


def test_staff_not_on_the_product_see_it_read_only_and_may_not_move_it(client, make_staff):
    # Staff with every product permission, but not on this product: products.permissions says no, so the admin
    # opens it read-only and refuses a save (docs/permissions.md).
    staff = make_staff("products.view_product", "products.change_product")
    client.force_login(staff)
    product = ProductFactory(stage=Stage.RESEARCH)
    page = client.get(f"/admin/products/product/{product.pk}/change/")
    assert page.context["has_change_permission"] is False
    response = client.post(
        f"/admin/products/product/{product.pk}/change/", {"stage": Stage.MVP, "name": product.name}
    )
    assert response.status_code == 403
    product.refresh_from_db()
    assert product.stage == Stage.RESEARCH
    assert not StageTransition.objects.exists()


def test_a_backward_move_in_admin_is_recorded_as_backward(admin_client):
    product = ProductFactory(stage=Stage.MVP)
    page = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    admin_client.post(
        f"/admin/products/product/{product.pk}/change/", admin_form_data(page, stage=Stage.RESEARCH)
    )
    transition = StageTransition.objects.get(product=product)
    assert transition.is_backward
    assert transition.note == ADMIN_STAGE_NOTE


def test_saving_a_product_without_a_stage_change_records_nothing(admin_client):
    product = ProductFactory(stage=Stage.RESEARCH)
    page = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    admin_client.post(f"/admin/products/product/{product.pk}/change/", admin_form_data(page, name="Renamed"))
    product.refresh_from_db()
    assert product.name == "Renamed"
    assert not StageTransition.objects.filter(product=product).exists()


def test_adding_a_product_records_its_first_stage(admin_client, superuser):
    owner = UserFactory()
    portfolio = ProductFactory().portfolio
    page = admin_client.get("/admin/products/product/add/")
    data = admin_form_data(
        page,
        name="Nova",
        slug="nova",
        portfolio=portfolio.pk,
        owner=owner.pk,
        market="b2c",
        focus="design",
        stage=Stage.OPPORTUNITY,
    )
    response = admin_client.post("/admin/products/product/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    transition = StageTransition.objects.get(product__slug="nova")
    assert (transition.from_stage, transition.to_stage, transition.by) == ("", Stage.OPPORTUNITY, superuser)
    assert transition.note == ADMIN_STAGE_NOTE
    assert transition.product.history.get().history_user == superuser


@pytest.mark.parametrize(("directs", "status"), [(True, 302), (False, 403)])
def test_a_director_adds_products_only_to_the_portfolios_they_direct(client, make_staff, directs, status):
    director = make_staff("products.add_product", "products.change_product", "products.view_product")
    director.role = Role.DIRECTOR
    director.save(update_fields=["role"])
    client.force_login(director)
    portfolio = ProductFactory().portfolio
    if directs:
        portfolio.director = director
        portfolio.save(update_fields=["director"])
    page = client.get("/admin/products/product/add/")
    data = admin_form_data(page, name="Nova", slug="nova", portfolio=portfolio.pk, owner=director.pk)
    data.update(market="b2c", focus="design")
    assert client.post("/admin/products/product/add/", data).status_code == status
    assert StageTransition.objects.filter(product__slug="nova", by=director).exists() is directs


def test_moving_a_product_to_another_owner_recomputes_the_owner_rollups(
    admin_client, eager_tasks, django_capture_on_commit_callbacks
):
    product = ProductFactory(owner=UserFactory(username="before"))
    MeasurementFactory(product=product, kpi=KPIFactory(), period=dt.date(2026, 1, 5))
    rollups_recompute()
    assert set(Rollup.objects.filter(scope="owner").values_list("scope_key", flat=True)) == {"before"}

    after = UserFactory(username="after")
    page = admin_client.get(f"/admin/products/product/{product.pk}/change/")
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            f"/admin/products/product/{product.pk}/change/", admin_form_data(page, owner=after.pk)
        )
    assert set(Rollup.objects.filter(scope="owner").values_list("scope_key", flat=True)) == {"after"}


def test_deleting_a_product_recomputes_the_rollups_it_fed(
    admin_client, eager_tasks, django_capture_on_commit_callbacks
):
    kpi = KPIFactory()
    kept, doomed = ProductFactory(), ProductFactory()
    for product in (kept, doomed):
        MeasurementFactory(product=product, kpi=kpi, period=dt.date(2026, 1, 5), value=100.0)
    rollups_recompute()
    organisation = Rollup.objects.filter(scope="organisation", grain="native", kpi=kpi)
    assert organisation.get().value == 200.0

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(f"/admin/products/product/{doomed.pk}/delete/", {"post": "yes"})
    assert organisation.get().value == 100.0


def test_product_delete_page_counts_cascaded_rows_instead_of_listing_them(
    admin_client, django_assert_max_num_queries
):
    product = ProductFactory(name="Doomed")
    kpi = KPIFactory()
    for week in range(40):
        MeasurementFactory(product=product, kpi=kpi, period=dt.date(2026, 1, 5) + dt.timedelta(weeks=week))
    KPITargetFactory(product=product, kpi=kpi)
    MembershipFactory(product=product)

    # A count per model that cascades from a product (its lifecycle work products, notifications and follows
    # too), whatever the rows.
    with django_assert_max_num_queries(34):
        response = admin_client.get(f"/admin/products/product/{product.pk}/delete/")
    assert response.status_code == 200
    assert dict(response.context["model_count"]) == {
        "products": 1,
        "measurements": 40,
        "KPI targets": 1,
        "memberships": 1,
    }
    assert b"Measurements: 40" in response.content
    assert b"Measurement:" not in response.content  # no line per measurement

    admin_client.post(f"/admin/products/product/{product.pk}/delete/", {"post": "yes"})
    assert not type(product).objects.filter(pk=product.pk).exists()


def test_user_admin_edits_role_and_title_and_keeps_the_password(admin_client):
    person = UserFactory(username="ada", role=Role.JUNIOR_PM)
    password_hash = person.password
    page = admin_client.get(f"/admin/products/user/{person.pk}/change/")
    assert {"role", "title"} <= set(page.context["adminform"].form.fields)

    data = admin_form_data(page, role=Role.SENIOR_PM, title="Payments lead")
    response = admin_client.post(f"/admin/products/user/{person.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    person.refresh_from_db()
    assert (person.role, person.title) == (Role.SENIOR_PM, "Payments lead")
    assert person.password == password_hash
    assert person.check_password("correct-horse-battery")


def test_user_list_shows_and_filters_by_role(admin_client):
    UserFactory(username="dee", role=Role.DIRECTOR, title="Director, Payments")
    UserFactory(username="ian", role=Role.INTERN)
    response = admin_client.get("/admin/products/user/", {"role__exact": Role.DIRECTOR})
    assert [user.username for user in response.context["cl"].result_list] == ["dee"]
    assert b"Director of product" in response.content
    assert b"Director, Payments" in response.content


def test_adding_a_user_hashes_the_password_and_stores_the_role(admin_client):
    data = {
        "username": "newpm",
        "usable_password": "true",
        "password1": "a-long-Passphrase-42",
        "password2": "a-long-Passphrase-42",
        "first_name": "New",
        "last_name": "Person",
        "email": "newpm@example.com",
        "role": Role.ASSOCIATE_PM,
        "title": "Associate PM, Growth",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    response = admin_client.post("/admin/products/user/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = get_user_model().objects.get(username="newpm")
    assert (person.role, person.title) == (Role.ASSOCIATE_PM, "Associate PM, Growth")
    assert person.password != "a-long-Passphrase-42"
    assert person.check_password("a-long-Passphrase-42")


def test_user_page_lists_memberships_without_a_query_per_row(admin_client):
    person = UserFactory()
    for _ in range(5):
        MembershipFactory(user=person)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(f"/admin/products/user/{person.pk}/change/")
    for _ in range(10):
        MembershipFactory(user=person)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(f"/admin/products/user/{person.pk}/change/")
    assert len(response.context["inline_admin_formsets"][0].formset.forms) == 15
    # The product picker of each row looks up its one product; nothing else grows with the rows.
    assert len(many.captured_queries) - len(few.captured_queries) <= 10


def test_membership_list_filters_by_role(admin_client):
    MembershipFactory(role=Role.PRODUCT_OWNER, user=UserFactory(username="po"))
    MembershipFactory(role=Role.INTERN, user=UserFactory(username="intern"))
    response = admin_client.get("/admin/products/membership/", {"role__exact": Role.PRODUCT_OWNER})
    assert [m.user.username for m in response.context["cl"].result_list] == ["po"]
