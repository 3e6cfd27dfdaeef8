import pytest

from products.choices import Role
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


@pytest.fixture(autouse=True)
def eager_tasks(request):
    """Run Celery tasks in this process, as the embedded default does. CI's second run has a real broker, but a
    worker cannot see the rows of a test's transaction; tests marked ``services`` start a real worker instead."""
    if request.node.get_closest_marker("services"):
        yield
        return
    from spm.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved
