"""Security through HTTP: CSRF on every write, login throttling, session rotation, escaped text and CSV cells."""

import csv
import datetime as dt
import io
import re

import pytest
from axes.utils import reset as axes_reset
from django.test import Client

from lifecycle.models import StageTransition
from portfolio.models import Measurement
from products.choices import Role, Stage
from products.models import Product
from tests.factories import (
    KPIFactory,
    MeasurementFactory,
    MembershipFactory,
    ProductFactory,
    RollupFactory,
    StageTransitionFactory,
    UserFactory,
)
from tests.test_permission_matrix import EXPECTED, SUPERUSER, url_patterns

PASSWORD = "correct-horse-battery"
UNIT_MARKUP = "<img src=x>"
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("x")'
PERIOD = dt.date(2026, 1, 5)


@pytest.fixture(autouse=True)
def fresh_axes(db):
    """No failed sign-in of one test counts in another."""
    axes_reset()
    yield
    axes_reset()


# --------------------------------------------------------------------------------------------------
# CSRF: every POST endpoint refuses a request without the token, and changes nothing
# --------------------------------------------------------------------------------------------------

# An email's one-click unsubscribe is posted by mail clients (RFC 8058), which have no CSRF token: its signed token
# is the credential, and an altered one changes nothing (tests/portfolio/alerts/test_email.py).
CSRF_EXEMPT = {"portfolio:unsubscribe"}
POST_ENDPOINTS = sorted(
    name for name, entry in EXPECTED.items() if entry.post[SUPERUSER] != 405 and name not in CSRF_EXEMPT
)


def test_the_csrf_list_covers_the_writes():
    assert {"products:edit", "products:measurement-create", "lifecycle:move", "login", "logout"} <= set(
        POST_ENDPOINTS
    )


def db_state() -> tuple:
    return (
        list(Product.objects.order_by("pk").values_list("name", "stage", "planned_budget", "version")),
        Measurement.objects.count(),
        StageTransition.objects.count(),
    )


@pytest.mark.parametrize("name", POST_ENDPOINTS)
@pytest.mark.parametrize("htmx", [False, True], ids=["form", "htmx"])
def test_a_post_without_the_csrf_token_is_refused(name, htmx):
    root = UserFactory(username="root", is_staff=True, is_superuser=True, role=Role.VP)
    product = ProductFactory(slug="target", stage=Stage.PROBLEM)
    kpi = KPIFactory()
    client = Client(enforce_csrf_checks=True)
    if name != "login":
        client.force_login(root)
    # Other path parameters get sample values: the CSRF check refuses before any view looks them up.
    url = re.sub(r"<int:\w+>", "1", url_patterns()[name].replace("<slug:slug>", product.slug))
    url = re.sub(r"<slug:\w+>", "sample", url)
    data = {
        "name": "Changed",
        "market": "b2c",
        "focus": "design",
        "planned_budget": "1",
        "actual_spend": "1",
        "version": "1",
        "kpi": kpi.pk,
        "period": str(PERIOD),
        "value": "1",
        "to": Stage.OPPORTUNITY,
        "username": "root",
        "password": PASSWORD,
    }
    before = db_state()
    response = client.post(url, data, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 403, name
    assert db_state() == before
    if name == "logout":
        assert client.get("/").status_code == 200  # still signed in
    if name == "login":
        assert "_auth_user_id" not in client.session


def test_an_admin_post_without_the_csrf_token_is_refused():
    root = UserFactory(username="root", is_staff=True, is_superuser=True, role=Role.VP)
    product = ProductFactory(name="Kept")
    client = Client(enforce_csrf_checks=True)
    client.force_login(root)
    response = client.post(f"/admin/products/product/{product.pk}/change/", {"name": "Changed"})
    assert response.status_code == 403
    assert Product.objects.get(pk=product.pk).name == "Kept"


def test_the_htmx_token_on_the_body_lets_an_htmx_post_through():
    owner = UserFactory(username="owner", role=Role.PM)
    product = ProductFactory(owner=owner, slug="target")
    kpi = KPIFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    page = client.get(product.get_absolute_url()).content.decode()
    token = re.search(r"<body[^>]*hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", page).group(1)
    response = client.post(
        f"/products/{product.slug}/measurements/",
        {"kpi": kpi.pk, "period": str(PERIOD), "value": "3"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200
    assert Measurement.objects.filter(product=product, value=3).exists()


# --------------------------------------------------------------------------------------------------
# Login throttling (django-axes), session rotation and logout
# --------------------------------------------------------------------------------------------------


def sign_in(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_failed_sign_ins_lock_the_username_at_that_address(client, settings):
    UserFactory(username="pat", role=Role.PM)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "pat", "wrong")
        assert response.status_code == 200  # the form again, with its error
    response = sign_in(client, "pat", "wrong")
    assert response.status_code == 429
    # Locked: even the right password is refused, with a page that says why and for how long.
    response = sign_in(client, "pat", PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert "Too many sign-in attempts" in text
    assert "Try again in 15 minutes" in text
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_a_lockout_is_for_that_username_and_address_only(client, settings):
    UserFactory(username="pat", role=Role.PM)
    UserFactory(username="sam", role=Role.PM)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pat", "wrong")
    assert sign_in(Client(), "pat", PASSWORD, ip="10.0.0.2").status_code == 302
    assert sign_in(Client(), "sam", PASSWORD).status_code == 302


def test_a_successful_sign_in_resets_the_count(client, settings):
    UserFactory(username="pat", role=Role.PM)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "pat", "wrong")
    assert sign_in(Client(), "pat", PASSWORD).status_code == 302
    assert sign_in(client, "pat", "wrong").status_code == 200


def test_the_session_key_rotates_at_sign_in(client):
    UserFactory(username="pat", role=Role.PM)
    session = client.session
    session["before"] = "sign-in"
    session.save()
    anonymous_key = session.session_key
    assert sign_in(client, "pat", PASSWORD).status_code == 302
    assert client.session.session_key != anonymous_key
    assert client.cookies["sessionid"].value != anonymous_key
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=anonymous_key).exists()


def test_sign_out_clears_the_session(client):
    UserFactory(username="pat", role=Role.PM)
    sign_in(client, "pat", PASSWORD)
    signed_in_key = client.session.session_key
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    from django.contrib.sessions.models import Session

    assert not Session.objects.filter(session_key=signed_in_key).exists()
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


# --------------------------------------------------------------------------------------------------
# Text is text: names with markup and formulas on every page, partial, chart and export
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def hostile(db):
    """A product and KPIs named like attacks, with measurements (one negative), rollups and a transition."""
    owner = UserFactory(username="owner", role=Role.PM, first_name=SCRIPT)
    script_product = ProductFactory(name=SCRIPT, slug="script", owner=owner, stage=Stage.MVP)
    formula_product = ProductFactory(name=FORMULA, slug="formula", owner=owner, description=SCRIPT)
    MembershipFactory(product=script_product, user=UserFactory(username="member", last_name=SCRIPT))
    # A unit holds 20 characters: markup that fits, and that must show as text too.
    script_kpi = KPIFactory(name=SCRIPT, unit=UNIT_MARKUP, is_key=True)
    formula_kpi = KPIFactory(name=FORMULA, description=FORMULA)
    for product in (script_product, formula_product):
        for kpi in (script_kpi, formula_kpi):
            MeasurementFactory(product=product, kpi=kpi, period=PERIOD, value=-5)
            MeasurementFactory(product=product, kpi=kpi, period=PERIOD + dt.timedelta(days=7), value=7)
    for kpi in (script_kpi, formula_kpi):
        RollupFactory(kpi=kpi, period=PERIOD, value=-5, products=2)
        RollupFactory(kpi=kpi, period=PERIOD, value=-5, products=1, scope="stage", scope_key=Stage.MVP)
    StageTransitionFactory(product=script_product, to_stage=Stage.MVP, note=SCRIPT)
    return {"script_kpi": script_kpi, "formula_kpi": formula_kpi, "product": script_product}


def pages(hostile) -> list[tuple[str, str | None]]:
    kpi = hostile["script_kpi"].pk
    cell = f"kpi={kpi}&scope=organisation&key=all&grain=native&period={PERIOD}"
    return [
        ("/", None),
        ("/", "product-table"),
        ("/", "dashboard-results"),
        ("/products/", None),
        ("/products/", "product-table"),
        ("/products/script/", None),
        ("/products/script/history/", None),
        ("/products/script/history/", "product-history"),
        ("/products/script/edit/", None),
        ("/products/script/edit/", "product-edit"),
        ("/lifecycle/board/", None),
        ("/lifecycle/board/", "board-region"),
        (f"/portfolio/rollups/?chart={kpi}", None),
        (f"/portfolio/rollups/?chart={kpi}", "rollups-results"),
        (f"/portfolio/rollups/?chart={kpi}", "rollup-trend"),
        (f"/portfolio/rollups/cell/?{cell}", None),
        (f"/portfolio/rollups/cell/?{cell}", "rollup-cell"),
        ("/portfolio/kpis/", None),
        ("/portfolio/kpis/", "kpi-table"),
        ("/portfolio/measurements/", None),
        ("/portfolio/measurements/", "measurement-table"),
        (f"/portfolio/measurements/?product=script&kpi={kpi}", "measurement-table"),
    ]


def test_names_with_markup_render_as_text_everywhere(admin_client, hostile):
    for url, region in pages(hostile):
        headers = {"HX-Request": "true", "HX-Target": region} if region else {}
        response = admin_client.get(url, headers=headers)
        where = f"{url} #{region or 'page'}"
        assert response.status_code == 200, where
        html = response.content.decode()
        assert SCRIPT not in html, where
        assert "alert(1)</script>" not in html, where
        assert UNIT_MARKUP not in html, where
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html or "\\u003Cscript\\u003E" in html, where


def test_chart_json_carries_the_name_escaped(admin_client, hostile):
    html = admin_client.get("/products/script/").content.decode()
    # The trend figures name the KPI: in a json_script (\u003C) or HTML-escaped text, never as markup.
    assert "\\u003Cscript\\u003Ealert(1)\\u003C/script\\u003E" in html or "&lt;script&gt;alert(1)" in html
    assert SCRIPT not in html


def csv_of(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


EXPORTS = [
    "/products/?format=csv",
    "/portfolio/kpis/?format=csv",
    "/portfolio/measurements/?format=csv",
    "/portfolio/rollups/?format=csv",
]


@pytest.mark.parametrize("url", EXPORTS)
def test_every_export_defuses_formulas_and_keeps_numbers(admin_client, hostile, url):
    rows = csv_of(admin_client, url)
    cells = [cell for row in rows[1:] for cell in row]
    assert cells, url
    assert FORMULA not in cells, url
    assert f"'{FORMULA}" in cells, url
    # Markup is just text in a CSV: kept as typed (a spreadsheet does not run HTML).
    for cell in cells:
        if cell.startswith("'"):
            assert cell[1:2] in {"=", "+", "-", "@", "\t", "\r"}, (url, cell)
        assert not re.fullmatch(r"[=+@].*", cell), (url, cell)
    if url in {"/portfolio/measurements/?format=csv", "/portfolio/rollups/?format=csv"}:
        assert any(re.fullmatch(r"-5(\.0+)?", cell) for cell in cells), (
            url,
            "a negative number stays a number",
        )
        assert not any(cell.startswith("'-5") for cell in cells), url


def test_the_dashboard_export_is_the_product_export(admin_client, hostile):
    response = admin_client.get("/?format=csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/products/?format=csv")
