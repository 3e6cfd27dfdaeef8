"""Low noise, measured on the seeded demo organisation: a week of what the demo's beat schedule runs (the daily
stuck scan, the recomputes) tells each person a median of at most five things, and nobody more than a dozen."""

import datetime as dt
import io
import statistics

import pytest
from django.core.management import call_command
from django.db.models import Count
from django.utils import timezone

from portfolio.alerts.services import products_stuck_notify
from portfolio.kpis.engine import rollups_recompute_all
from portfolio.models import Notification
from products.models import User

pytestmark = pytest.mark.django_db

MEDIAN_PER_WEEK = 5


def test_the_demo_tells_each_person_a_median_of_five_things_a_week(settings):
    settings.SPM_DEMO_PASSWORD = "demo-password-for-tests"
    call_command(
        "seed_demo",
        "--products",
        "60",
        "--months",
        "12",
        "--seed",
        "1",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    start = timezone.now()
    for day in range(7):
        products_stuck_notify(now=start + dt.timedelta(days=day))
        if day % 3 == 0:
            rollups_recompute_all()  # found again, nothing new to say
    heard = dict(Notification.objects.values_list("recipient").annotate(count=Count("pk")))
    people = list(User.objects.filter(is_active=True).values_list("pk", flat=True))
    per_person = [heard.get(person, 0) for person in people]
    assert len(people) >= 10
    assert sum(per_person) > 0  # the demo does have news: stuck products, KPIs forecast to miss
    assert statistics.median(per_person) <= MEDIAN_PER_WEEK, sorted(per_person)
    assert max(per_person) <= 12, sorted(per_person)
