import json

import pytest
from django.utils import timezone

from portfolio.models import RollupState, StaleRollup
from tests.factories import RollupFactory


@pytest.mark.django_db
def test_healthz_reports_database_broker_and_rollup_freshness_without_login(client, settings):
    computed = timezone.now().replace(microsecond=0)
    RollupFactory(computed_at=computed)
    RollupState.objects.create(pk=1, computed_at=computed)  # what every recompute records

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["status"] == "ok"
    expected_broker = "eager" if settings.CELERY_TASK_ALWAYS_EAGER else "ok"
    assert body["broker"]["status"] == expected_broker
    assert body["rollups"]["last_computed_at"] == computed.isoformat()


@pytest.mark.django_db
def test_healthz_names_no_secret_host_or_password(client, settings):
    text = json.dumps(client.get("/healthz").json())
    assert settings.SECRET_KEY not in text
    assert "password" not in text.lower()
    for fragment in ("127.0.0.1", "redis://", "postgres://"):
        assert fragment not in text


@pytest.mark.django_db
def test_healthz_says_when_no_rollup_was_ever_computed(client):
    assert client.get("/healthz").json()["rollups"] == {"status": "empty", "last_computed_at": None}


@pytest.mark.django_db
def test_healthz_reports_an_unreachable_broker_as_degraded(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"]["status"] == "down"


@pytest.mark.django_db
def test_healthz_says_rollups_are_stale_while_a_recompute_is_pending(client):
    RollupState.objects.create(pk=1, computed_at=timezone.now())
    StaleRollup.objects.create()
    assert client.get("/healthz").json()["rollups"]["status"] == "stale"
