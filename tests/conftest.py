import pytest

from products.models import Role
from tests.factories import UserFactory


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True, role=Role.VP)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def pm_user(db):
    return UserFactory(username="pm-user", role=Role.PM)


@pytest.fixture
def client_as_pm(client, pm_user):
    client.force_login(pm_user)
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Tests create many users; a real password hash per user would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
