"""Failed logins and denied actions land on logger ``spm.security``: who, what, from where, never a password."""

import logging

import pytest
from django.test import Client

from products.choices import Role
from tests.factories import MembershipFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

SECRET = "not-the-password-9f2c"


@pytest.fixture
def security_log(caplog):
    caplog.set_level(logging.INFO, logger="spm.security")

    def records() -> list[logging.LogRecord]:
        return [record for record in caplog.records if record.name == "spm.security"]

    return records


def everything_logged(record: logging.LogRecord) -> str:
    return " ".join([record.getMessage(), *(str(value) for value in vars(record).values())])


def test_a_failed_login_is_logged_with_username_and_address_but_not_the_password(client, security_log):
    UserFactory(username="olivia")

    response = client.post(
        "/accounts/login/", {"username": "olivia", "password": SECRET}, REMOTE_ADDR="203.0.113.7"
    )

    assert response.status_code == 200  # the form again, with its error
    [record] = security_log()
    assert record.levelno == logging.WARNING
    assert (record.event, record.username, record.ip) == ("login_failed", "olivia", "203.0.113.7")
    assert "Failed login for 'olivia' from 203.0.113.7" in record.getMessage()
    assert SECRET not in everything_logged(record)


def test_a_login_for_nobody_is_logged_too_and_a_good_login_is_not(client, security_log):
    client.post("/accounts/login/", {"username": "ghost", "password": SECRET})
    UserFactory(username="olivia")
    client.post("/accounts/login/", {"username": "olivia", "password": "correct-horse-battery"})

    assert [record.username for record in security_log()] == ["ghost"]


def test_a_denied_edit_is_logged_with_user_method_path_and_reason(security_log):
    product = ProductFactory(slug="beacon")
    junior = UserFactory(username="junior", role=Role.JUNIOR_PM)
    MembershipFactory(product=product, user=junior, role=Role.JUNIOR_PM)
    client = Client(REMOTE_ADDR="198.51.100.4")
    client.force_login(junior)

    response = client.post("/products/beacon/edit/", {"name": "Hacked"})

    assert response.status_code == 403
    [record] = security_log()
    assert (record.event, record.username, record.method, record.path, record.ip) == (
        "denied",
        "junior",
        "POST",
        "/products/beacon/edit/",
        "198.51.100.4",
    )
    assert record.reason == "You may not edit this product."


def test_the_403_page_says_why_in_the_sites_layout():
    ProductFactory(slug="beacon")
    client = Client()
    client.force_login(UserFactory(role=Role.INTERN))

    response = client.get("/products/beacon/edit/")

    page = response.content.decode()
    assert response.status_code == 403
    assert "You may not do that" in page
    assert "You may not edit this product." in page
    assert 'class="topbar"' in page  # the site's own layout, not Django's bare page


def test_admin_pages_a_staff_member_may_not_use_are_logged(security_log):
    staff = UserFactory(username="clerk", is_staff=True)
    client = Client()
    client.force_login(staff)

    assert client.get("/admin/products/product/").status_code == 403

    [record] = security_log()
    assert (record.username, record.method, record.path) == ("clerk", "GET", "/admin/products/product/")


def test_a_csrf_failure_is_logged(security_log):
    product = ProductFactory(slug="beacon")
    client = Client(enforce_csrf_checks=True)
    client.force_login(product.owner)

    assert client.post("/products/beacon/edit/", {"name": "x"}).status_code == 403

    [record] = security_log()
    assert (record.username, record.path) == (product.owner.username, "/products/beacon/edit/")
