"""A real Celery worker on Redis against PostgreSQL (CI's second run) delivers a digest through a real SMTP
server: the beat task queues it in the outbox, the outbox task sends it, the delivery log says so."""

import datetime as dt

import pytest
from celery import current_app
from django.utils import timezone

from portfolio.choices import EventKind
from portfolio.models import AlertSettings, Notification, OutboxEmail
from products.choices import Role
from tests.factories import UserFactory
from tests.portfolio.alerts.conftest import text_of
from tests.services import celery_worker, require_services, wait_for

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_delivers_a_due_digest_through_smtp(smtp_server):
    require_services()
    controller, mailbox = smtp_server
    person = UserFactory(username="olga", role=Role.PM, email="olga@example.com")
    now = timezone.now()
    # The last digest went two days ago, so one is due now whatever the hour (a missed slot goes late, once).
    AlertSettings.objects.create(
        user=person, time_zone="Europe/Berlin", last_digest_at=now - dt.timedelta(days=2)
    )
    Notification.objects.create(
        recipient=person,
        kind=EventKind.STAGE_MOVED,
        sentence="Dora moved Atlas from Problem to Opportunity.",
        url="/products/atlas/",
        why="You own Atlas.",
        key="worker-digest",
        created_at=now - dt.timedelta(hours=3),
    )

    with celery_worker({"SPM_EMAIL_URL": f"smtp://127.0.0.1:{controller.port}?timeout=5"}):
        current_app.send_task("portfolio.tasks.digests_send")
        assert wait_for(lambda: mailbox.messages, timeout=60), "the worker never delivered the digest"

    [message] = mailbox.messages
    assert message["To"] == "olga@example.com"
    assert message["Subject"] == "[SPM] Your daily digest: 1 unread notification"
    assert "Dora moved Atlas from Problem to Opportunity." in text_of(message)
    email = OutboxEmail.objects.get()
    assert email.kind == OutboxEmail.DIGEST
    assert email.sent_at is not None
    assert AlertSettings.objects.get(user=person).last_digest_at > now
