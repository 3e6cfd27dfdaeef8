"""The roadmap: entries of three kinds on one timeline, late ones marked, filters, CSV, constant queries."""

import datetime as dt

import pytest
from django.utils import timezone

from lifecycle.models import Milestone, Release, RoadmapItem
from portfolio.strategy.selectors.roadmap import roadmap_rows
from products.models import Product
from tests.factories import ProductFactory
from tests.portfolio.strategy_data import build_world

TODAY = dt.date(2026, 5, 16)


@pytest.fixture
def world(db):
    world = build_world()
    RoadmapItem.objects.create(product=world.checkout, title="One-click pay", target_date=dt.date(2026, 5, 1))
    RoadmapItem.objects.create(
        product=world.checkout, title="Wallet link", target_date=dt.date(2026, 4, 1), status="done"
    )
    Release.objects.create(product=world.wallet, name="2.0", planned_date=dt.date(2026, 6, 1))
    Release.objects.create(
        product=world.wallet,
        name="1.9",
        planned_date=dt.date(2026, 3, 1),
        actual_date=dt.date(2026, 3, 20),
        status="shipped",
    )
    Milestone.objects.create(product=world.ads, title="Beta", planned_date=dt.date(2026, 7, 1))
    RoadmapItem.objects.create(product=world.ads, title="Far away", target_date=dt.date(2029, 1, 1))
    return world


def test_late_means_overdue_and_unfinished_or_finished_after_the_date(world):
    rows = {row.title: row for row in roadmap_rows(products=Product.objects.all(), today=TODAY)}
    assert set(rows) == {"One-click pay", "Wallet link", "2.0", "1.9", "Beta"}  # 2029 is outside the window
    assert rows["One-click pay"].late
    assert not rows["Wallet link"].late  # done
    assert rows["1.9"].late  # shipped 19 days after its date
    assert not rows["2.0"].late
    assert not rows["Beta"].late


def test_late_only_and_kind_filters_agree_with_the_rule(world):
    late = roadmap_rows(products=Product.objects.all(), late_only=True, today=TODAY)
    assert [row.title for row in late] == ["1.9", "One-click pay"]
    releases = roadmap_rows(products=Product.objects.all(), kind="release", today=TODAY)
    assert [row.title for row in releases] == ["1.9", "2.0"]


def test_roadmap_page_filters_like_the_dashboard(client, world, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)
    client.force_login(world.junior)
    response = client.get("/portfolio/roadmap/?portfolio=payments")
    assert response.status_code == 200
    assert response.context["total"] == 4
    assert response.context["late_count"] == 2
    assert "late" in response.content.decode()
    partial = client.get(
        "/portfolio/roadmap/?late=on", headers={"HX-Request": "true", "HX-Target": "roadmap-results"}
    )
    assert b"<html" not in partial.content
    assert partial.context["total"] == 2


def test_timeline_has_todays_line_and_late_bars_in_red(client, world, monkeypatch):
    import json

    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)
    client.force_login(world.junior)
    figure = json.loads(client.get("/portfolio/roadmap/").context["timeline"])
    assert figure["layout"]["shapes"][0]["x0"] == "2026-05-16"
    late = next(trace for trace in figure["data"] if trace["name"] == "late")
    assert sorted(late["text"]) == ["1.9", "One-click pay"]


def test_roadmap_csv(client, world, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a: TODAY)
    client.force_login(world.junior)
    rows = b"".join(client.get("/portfolio/roadmap/?format=csv").streaming_content).decode().splitlines()
    assert rows[0] == "kind,product,portfolio,title,planned,actual,status,late"
    assert rows[1] == "release,wallet,Payments,1.9,2026-03-01,2026-03-20,shipped,true"


def test_roadmap_queries_do_not_grow(client, world, django_assert_max_num_queries):
    client.force_login(world.director)
    counts = []
    for extra in (3, 40):
        for i in range(extra):
            product = ProductFactory(portfolio=world.payments)
            RoadmapItem.objects.create(product=product, title=f"Item {i}", target_date=timezone.localdate())
            Milestone.objects.create(product=product, title=f"M {i}", planned_date=timezone.localdate())
        with django_assert_max_num_queries(10) as captured:
            assert client.get("/portfolio/roadmap/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]
