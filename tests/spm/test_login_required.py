"""Every URL but login, healthz and an email's unsubscribe link sends an anonymous visitor to the login page."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import ProductFactory

# The unsubscribe link's signed token is its credential, for that one action (tests/portfolio/alerts/test_email.py).
PUBLIC = {"/accounts/login/", "/healthz", "/unsubscribe/<str:token>/"}


def concrete_paths(patterns, prefix: str = "") -> list[str]:
    """Every routable path of the URL conf, with sample values for converters (admin is probed by its index)."""
    paths = []
    for pattern in patterns:
        route = str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if route.startswith("admin/"):
                paths.append(prefix + "admin/")
                continue
            paths.extend(concrete_paths(pattern.url_patterns, prefix + route))
        elif isinstance(pattern, URLPattern):
            route = re.sub(r"<int:\w+>", "1", route.replace("<slug:slug>", "sample-product"))
            paths.append(prefix + re.sub(r"<slug:\w+>", "sample", route).lstrip("^").rstrip("$"))
    return [re.sub("/+", "/", "/" + p) for p in paths]


ALL_PATHS = concrete_paths(get_resolver().url_patterns)


def test_the_url_conf_is_covered():
    assert "/" in ALL_PATHS
    assert "/products/sample-product/" in ALL_PATHS
    assert "/lifecycle/board/" in ALL_PATHS


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in ALL_PATHS if p not in PUBLIC])
def test_anonymous_visitors_are_sent_to_login(client, path):
    ProductFactory(slug="sample-product")
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith(
        "/accounts/login/" if not path.startswith("/admin/") else "/admin/login/"
    )
    assert "next=" in response["Location"]


@pytest.mark.django_db
def test_login_then_the_dashboard_shows_who_is_signed_in(client):
    from tests.factories import UserFactory

    UserFactory(username="ada", first_name="Ada", last_name="Lovelace", role="senior_pm")
    response = client.post(
        "/accounts/login/", {"username": "ada", "password": "correct-horse-battery"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"Ada Lovelace" in response.content
    assert b"Senior PM" in response.content


@pytest.mark.django_db
def test_a_wrong_password_keeps_the_visitor_on_the_login_page_with_a_message(client):
    from tests.factories import UserFactory

    UserFactory(username="ada")
    response = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(client_as_pm):
    response = client_as_pm.post("/accounts/logout/")
    assert response.status_code == 302
    assert client_as_pm.get("/").status_code == 302


@pytest.mark.django_db
def test_unknown_urls_show_the_styled_404(client_as_pm):
    response = client_as_pm.get("/no/such/page/")
    assert response.status_code == 404
    assert b"SPM Dashboard" in response.content
    assert b'href="/"' in response.content
