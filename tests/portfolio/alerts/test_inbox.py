"""The inbox, the bell and the follow buttons through HTTP: a person sees and changes only their own
notifications; filters that make no sense are dropped with a message; every write is a POST with CSRF."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portfolio.choices import EventKind
from portfolio.models import Follow, Notification
from tests.factories import PortfolioFactory, ProductFactory, UserFactory


def note(
    user, kind=EventKind.STAGE_MOVED, *, sentence="Atlas moved from Problem to Opportunity.", read=False
):
    from django.utils import timezone

    return Notification.objects.create(
        recipient=user,
        kind=kind,
        sentence=sentence,
        url="/products/atlas/",
        why="You own Atlas.",
        key=f"{kind}:{sentence}",
        read_at=timezone.now() if read else None,
    )


def test_the_bell_counts_only_ones_own_unread_notifications(client_as_pm, pm_user):
    note(pm_user)
    note(pm_user, sentence="Beacon moved.")
    note(pm_user, sentence="Comet moved.", read=True)
    note(UserFactory(username="someone-else"), sentence="Not yours.")
    bell = client_as_pm.get("/inbox/bell/", headers={"HX-Request": "true"}).content.decode()
    assert '<span class="bell__count">2</span>' in bell
    assert "Notifications: 2 unread" in bell
    assert 'hx-trigger="every 60s, inbox-changed from:body"' in bell  # refetched, never reloading the page


def test_every_page_has_the_bell_which_loads_its_count_without_a_query_of_its_own(client_as_pm):
    page = client_as_pm.get("/inbox/").content.decode()
    assert 'id="inbox-bell"' in page
    assert 'hx-trigger="load, every 60s, inbox-changed from:body"' in page.split('id="inbox-bell"')[1][:400]


def test_the_inbox_lists_ones_own_notifications_newest_first_with_why(client_as_pm, pm_user):
    note(pm_user, sentence="First.")
    note(pm_user, sentence="Second.")
    note(UserFactory(username="someone-else"), sentence="Not yours.")
    text = client_as_pm.get("/inbox/").content.decode()
    assert text.index("Second.") < text.index("First.")
    assert "Not yours." not in text
    assert "You own Atlas." in text
    assert "<strong>2</strong> unread" in text


def test_filters_by_kind_and_unread_and_drops_nonsense_with_a_message(client_as_pm, pm_user):
    note(pm_user, sentence="A move.")
    note(pm_user, EventKind.PRODUCT_STUCK, sentence="A stuck product.")
    note(pm_user, EventKind.PRODUCT_STUCK, sentence="An old stuck product.", read=True)
    text = client_as_pm.get("/inbox/?kind=product_stuck").content.decode()
    assert "A stuck product." in text
    assert "An old stuck product." in text
    assert "A move." not in text
    text = client_as_pm.get("/inbox/?kind=product_stuck&unread=on").content.decode()
    assert "A stuck product." in text
    assert "An old stuck product." not in text
    response = client_as_pm.get("/inbox/?kind=everything&page=two")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Kind: “everything” is not a kind of notification." in text
    assert "Page: A page is a whole number." in text
    assert "A move." in text  # the valid rest still applies


def test_a_filter_through_htmx_answers_the_list_region_only(client_as_pm, pm_user):
    note(pm_user)
    response = client_as_pm.get(
        "/inbox/?unread=on", headers={"HX-Request": "true", "HX-Target": "inbox-list"}
    )
    text = response.content.decode()
    assert "<html" not in text
    assert text.lstrip().startswith('<section id="inbox-list"')


def test_marking_one_read_through_htmx_updates_the_list_and_tells_the_bell(client_as_pm, pm_user):
    first, second = note(pm_user, sentence="First."), note(pm_user, sentence="Second.")
    response = client_as_pm.post(
        "/inbox/read/", {"id": first.pk}, headers={"HX-Request": "true", "HX-Target": "inbox-list"}
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "inbox-changed"
    assert "<strong>1</strong> unread" in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None


def test_marking_all_read_without_javascript_redirects_back_with_a_message(client_as_pm, pm_user):
    for i in range(3):
        note(pm_user, sentence=f"Move {i}.")
    response = client_as_pm.post(
        "/inbox/read/", {"all": "on", "next": "/inbox/?kind=stage_moved"}, follow=True
    )
    assert response.redirect_chain == [("/inbox/?kind=stage_moved", 302)]
    assert "Marked 3 notifications read." in response.content.decode()
    assert not Notification.objects.filter(read_at__isnull=True).exists()


def test_nobody_marks_another_persons_notification_read(client_as_pm):
    theirs = note(UserFactory(username="someone-else"))
    response = client_as_pm.post("/inbox/read/", {"id": theirs.pk}, follow=True)
    assert "That notification was already read." in response.content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_read_request_that_names_nothing_is_refused(client_as_pm, pm_user):
    unread = note(pm_user)
    response = client_as_pm.post("/inbox/read/", {"id": "abc"})
    assert response.status_code == 400
    assert "Say which notification to mark read" in response.content.decode()
    unread.refresh_from_db()
    assert unread.read_at is None


def test_a_redirect_back_never_leaves_the_site(client_as_pm, pm_user):
    note(pm_user)
    response = client_as_pm.post("/inbox/read/", {"all": "on", "next": "https://evil.example/"})
    assert response["Location"] == "/inbox/"


def test_writes_need_the_csrf_token(pm_user):
    note(pm_user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(pm_user)
    assert client.post("/inbox/read/", {"all": "on"}).status_code == 403
    product = ProductFactory(slug="atlas")
    assert client.post(f"/follow/product/{product.slug}/", {"mode": "follow"}).status_code == 403
    assert not Notification.objects.filter(read_at__isnull=False).exists()
    assert not Follow.objects.exists()


def test_following_a_product_from_its_page(client_as_pm, pm_user):
    product = ProductFactory(slug="atlas", name="Atlas")
    page = client_as_pm.get("/products/atlas/").content.decode()
    assert 'action="/follow/product/atlas/"' in page
    assert 'value="default" class="btn btn--sm btn--pressed" aria-pressed="true"' in page
    response = client_as_pm.post("/follow/product/atlas/", {"mode": "follow"}, headers={"HX-Request": "true"})
    text = response.content.decode()
    assert text.lstrip().startswith('<form id="follow-control"')
    assert 'value="follow" class="btn btn--sm btn--pressed" aria-pressed="true"' in text
    assert Follow.objects.get(user=pm_user, product=product).muted is False
    response = client_as_pm.post("/follow/product/atlas/", {"mode": "mute"}, follow=True)
    assert "You muted Atlas: you hear nothing about it." in response.content.decode()
    assert Follow.objects.get(user=pm_user, product=product).muted is True
    client_as_pm.post("/follow/product/atlas/", {"mode": "default"})
    assert not Follow.objects.exists()


def test_a_follow_mode_that_does_not_exist_changes_nothing(client_as_pm):
    ProductFactory(slug="atlas")
    response = client_as_pm.post("/follow/product/atlas/", {"mode": "always"})
    assert response.status_code == 400
    assert "Follow, mute, or go back to what your role decides." in response.content.decode()
    assert not Follow.objects.exists()
    assert client_as_pm.post("/follow/product/no-such/", {"mode": "follow"}).status_code == 404


def test_following_a_portfolio(client_as_pm, pm_user):
    portfolio = PortfolioFactory(slug="payments", name="Payments")
    response = client_as_pm.post(f"/follow/portfolio/{portfolio.pk}/", {"mode": "follow"})
    assert response["Location"] == "/?portfolio=payments"
    assert Follow.objects.get(user=pm_user, portfolio=portfolio).muted is False


def test_the_inbox_page_costs_the_same_queries_for_5_or_60_notifications(client_as_pm, pm_user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client_as_pm.get("/inbox/").status_code == 200
        return len(captured)

    for i in range(5):
        note(pm_user, sentence=f"Few {i}.")
    few = queries()
    for i in range(55):
        note(pm_user, sentence=f"Many {i}.")
    assert queries() == few


def test_the_kpi_page_follows_and_mutes_a_kpi_in_place(client_as_pm, pm_user):
    from tests.factories import KPIFactory

    kpi = KPIFactory(name="Revenue")
    page = client_as_pm.get("/portfolio/kpis/").content.decode()
    assert f'id="follow-kpi-{kpi.pk}"' in page
    assert f'action="/follow/kpi/{kpi.pk}/"' in page
    response = client_as_pm.post(
        f"/follow/kpi/{kpi.pk}/",
        {"mode": "follow", "follow_id": f"follow-kpi-{kpi.pk}", "compact": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    control = response.content.decode()
    assert f'id="follow-kpi-{kpi.pk}"' in control  # the same control comes back, the pressed button moved
    assert 'value="follow" class="btn btn--sm btn--pressed" aria-pressed="true"' in control
    assert Follow.objects.get(user=pm_user, kpi=kpi).muted is False
    client_as_pm.post(f"/follow/kpi/{kpi.pk}/", {"mode": "mute"})
    assert Follow.objects.get(user=pm_user, kpi=kpi).muted is True
    assert (
        client_as_pm.post(f"/follow/kpi/{kpi.pk}/", {"mode": "mute", "follow_id": "<script>"}).status_code
        == 400
    )
    assert client_as_pm.post("/follow/kpi/999999/", {"mode": "follow"}).status_code == 404
