"""Email through a real SMTP server on 127.0.0.1 (conftest): what needs a decision is mailed at once, the rest
waits for a digest at 08:00 in the person's time zone; a mail that cannot go stays in the outbox and goes
later; quiet hours hold mail; the unsubscribe link works without signing in; the settings page keeps input."""

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.utils import timezone

from portfolio.alerts.catalogue import Event
from portfolio.alerts.mail import digest_slot, quiet_ends, unsubscribe_token
from portfolio.alerts.services import digests_send, events_notify, notifications_mark_read, outbox_send
from portfolio.choices import DigestFrequency, EmailMode, EventKind
from portfolio.models import AlertSettings, Notification, OutboxEmail
from products.choices import Role
from spm.mail import mailers
from tests.factories import PortfolioFactory, ProductFactory, UserFactory
from tests.portfolio.alerts.conftest import html_of, text_of

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.fixture
def owner(db):
    owner = UserFactory(
        username="olga", first_name="Olga", last_name="Berg", role=Role.PM, email="olga@example.com"
    )
    director = UserFactory(username="dora", role=Role.DIRECTOR, email="")  # mail here is the owner's alone
    portfolio = PortfolioFactory(name="Payments", slug="payments", director=director)
    ProductFactory(name="Atlas", slug="atlas", portfolio=portfolio, owner=owner)
    return owner


def event(kind=EventKind.GATE_OVERRIDDEN, n=1, **fields):
    product = fields.pop("product", None) or ProductFactory._meta.model.objects.get(slug="atlas")
    return Event(
        kind=kind,
        sentence=fields.pop("sentence", f"Dora overrode the gate into MVP for Atlas ({n})."),
        url="/products/atlas/",
        key=f"test:{kind}:{n}",
        product_id=product.pk,
        name=product.name,
        **fields,
    )


def at(year, month, day, hour, minute=0, zone=dt.UTC):
    return dt.datetime(year, month, day, hour, minute, tzinfo=zone)


# --------------------------------------------------------------------------------------------------
# Configuration from SPM_EMAIL_URL
# --------------------------------------------------------------------------------------------------


def test_the_email_url_says_where_mail_goes():
    smtp = mailers("smtp://spm%40corp.example:s3cret@mail.corp.example:587?tls=1")["default"]
    assert smtp["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert smtp["OPTIONS"] == {
        "host": "mail.corp.example",
        "port": 587,
        "username": "spm@corp.example",
        "password": "s3cret",
        "use_ssl": False,
        "use_tls": True,
        "timeout": 10.0,
    }
    assert mailers("smtps://mail.corp.example")["default"]["OPTIONS"]["port"] == 465
    assert mailers("smtps://mail.corp.example")["default"]["OPTIONS"]["use_ssl"] is True
    assert mailers("consolemail://")["default"]["BACKEND"].endswith("console.EmailBackend")
    assert mailers("filemail:///var/spool/spm")["default"]["OPTIONS"] == {"file_path": "/var/spool/spm"}


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("smpt://mail.example.com", "must start with one of"),
        ("mail.example.com:25", "must start with one of"),
        ("smtp://", "needs a host"),
        ("smtp://mail.example.com:port", "bad port or timeout"),
        ("smtp://mail.example.com?timeout=soon", "bad port or timeout"),
        ("filemail://", "needs a folder"),
    ],
)
def test_an_email_url_that_cannot_work_is_refused_at_start_up(url, says):
    with pytest.raises(ImproperlyConfigured, match=says):
        mailers(url)


# --------------------------------------------------------------------------------------------------
# Mail at once, through the outbox
# --------------------------------------------------------------------------------------------------


def test_an_overridden_gate_is_mailed_at_once_with_why_and_a_one_click_unsubscribe(owner, smtp, settings):
    settings.SPM_BASE_URL = "https://spm.example.com"
    events_notify([event()])
    assert OutboxEmail.objects.filter(to="olga@example.com", sent_at__isnull=True).count() == 1
    assert outbox_send() == (1, 0)
    [message] = smtp.messages
    assert message["To"] == "olga@example.com"
    assert message["Subject"] == "[SPM] Dora overrode the gate into MVP for Atlas (1)."
    text, html = text_of(message), html_of(message)
    assert "Open it: https://spm.example.com/products/atlas/" in text
    assert "Why you got this: You own Atlas." in text
    assert '<a href="https://spm.example.com/products/atlas/"' in html
    assert "Why you got this: You own Atlas." in html
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("https://spm.example.com/unsubscribe/")
    assert unsubscribe in text
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert OutboxEmail.objects.get().sent_at is not None  # the delivery log keeps it
    assert outbox_send() == (0, 0)  # and it is not sent twice


def test_the_same_event_reported_twice_is_mailed_once(owner, smtp):
    events_notify([event()])
    events_notify([event()])
    outbox_send()
    assert len(smtp.messages) == 1


def test_a_stage_move_waits_for_the_digest_unless_the_person_wants_it_at_once(owner, smtp):
    events_notify([event(EventKind.STAGE_MOVED, sentence="Dora moved Atlas from Problem to Opportunity.")])
    assert not OutboxEmail.objects.exists()  # the default for stage moves: the digest
    AlertSettings.objects.create(user=owner, modes={EventKind.STAGE_MOVED: EmailMode.IMMEDIATE})
    events_notify(
        [event(EventKind.STAGE_MOVED, n=2, sentence="Dora moved Atlas from Opportunity to Research.")]
    )
    outbox_send()
    assert [m["Subject"] for m in smtp.messages] == ["[SPM] Dora moved Atlas from Opportunity to Research."]


def test_several_events_at_once_make_one_mail_per_person(owner, smtp):
    events_notify([event(n=1), event(n=2), event(EventKind.IMPORT_FAILED, n=3, named=(owner.pk,))])
    outbox_send()
    [message] = smtp.messages
    assert message["Subject"].startswith("[SPM] 3 notifications: ")
    assert text_of(message).count("Why you got this:") == 3


def test_no_mail_when_email_is_off_or_there_is_no_address_or_the_kind_is_inbox_only(owner, smtp):
    prefs = AlertSettings.objects.create(user=owner, email_enabled=False)
    events_notify([event(n=1)])
    prefs.email_enabled, prefs.modes = True, {EventKind.GATE_OVERRIDDEN: EmailMode.INBOX}
    prefs.save()
    events_notify([event(n=2)])
    prefs.modes = {}
    prefs.save()
    owner.email = ""
    owner.save()
    events_notify([event(n=3)])
    assert not OutboxEmail.objects.exists()
    assert Notification.objects.filter(recipient=owner).count() == 3  # the inbox has them all


def test_a_send_that_fails_stays_queued_with_its_reason_and_goes_after_its_backoff(owner, smtp):
    now = timezone.now()
    events_notify([event()], now=now)
    smtp.refuse = True
    assert outbox_send(now=now) == (0, 1)
    email = OutboxEmail.objects.get()
    assert email.sent_at is None
    assert email.attempts == 1
    assert "451" in email.last_error
    assert email.send_after == now + dt.timedelta(minutes=1)
    assert outbox_send(now=now + dt.timedelta(seconds=30)) == (0, 0)  # still backing off
    assert outbox_send(now=now + dt.timedelta(minutes=1)) == (0, 1)
    email.refresh_from_db()
    assert email.attempts == 2
    assert email.send_after == now + dt.timedelta(minutes=3)
    smtp.refuse = False
    assert outbox_send(now=now + dt.timedelta(minutes=3)) == (1, 0)
    email.refresh_from_db()
    assert email.sent_at is not None
    assert email.last_error == ""
    assert len(smtp.messages) == 1


def test_a_mail_server_that_is_down_loses_nothing(owner, settings):
    settings.MAILERS = mailers("smtp://127.0.0.1:9?timeout=2")  # nothing listens on the discard port
    events_notify([event()])
    assert outbox_send() == (0, 1)
    email = OutboxEmail.objects.get()
    assert email.sent_at is None
    assert email.attempts == 1
    assert email.last_error


def test_quiet_hours_hold_an_immediate_mail_until_they_end(owner, smtp):
    AlertSettings.objects.create(
        user=owner, time_zone="Europe/Berlin", quiet_from=dt.time(22), quiet_until=dt.time(7)
    )
    late = at(2026, 12, 8, 23, 30, BERLIN)
    events_notify([event()], now=late)
    email = OutboxEmail.objects.get()
    assert email.send_after == at(2026, 12, 9, 7, 0, BERLIN)
    assert outbox_send(now=at(2026, 12, 9, 6, 59, BERLIN)) == (0, 0)
    assert outbox_send(now=at(2026, 12, 9, 7, 0, BERLIN)) == (1, 0)


@pytest.mark.parametrize(
    ("clock", "quiet"),
    [
        (dt.time(21, 59), False),
        (dt.time(22), True),
        (dt.time(3), True),
        (dt.time(7), False),
        (dt.time(12), False),
    ],
)
def test_quiet_hours_may_span_midnight(clock, quiet):
    now = dt.datetime.combine(dt.date(2026, 12, 8), clock, tzinfo=BERLIN)
    ends = quiet_ends(now, quiet_from=dt.time(22), quiet_until=dt.time(7), time_zone="Europe/Berlin")
    assert (ends is not None) == quiet
    if quiet:
        assert ends.astimezone(BERLIN).time() == dt.time(7)
        assert ends > now


# --------------------------------------------------------------------------------------------------
# Digests
# --------------------------------------------------------------------------------------------------


def notify_at(when, n, kind=EventKind.STAGE_MOVED):
    events_notify([event(kind, n=n, sentence=f"Atlas moved ({n}).")], now=when)


def test_a_daily_digest_comes_at_eight_in_the_persons_time_zone_once_with_what_is_unread(owner, smtp):
    AlertSettings.objects.create(user=owner, time_zone="Asia/Tokyo")
    notify_at(at(2026, 12, 7, 12, 0, TOKYO), 1)
    notify_at(at(2026, 12, 7, 18, 0, TOKYO), 2)
    notify_at(at(2026, 12, 7, 19, 0, TOKYO), 3)
    notifications_mark_read(
        user=owner, ids=Notification.objects.filter(sentence="Atlas moved (3).").values_list("pk", flat=True)
    )
    events_notify([event(n=9)], now=at(2026, 12, 7, 20, 0, TOKYO))  # mailed at once, so not in the digest
    OutboxEmail.objects.all().delete()

    assert digests_send(now=at(2026, 12, 8, 7, 59, TOKYO)) == 0  # 22:59 UTC: not yet 08:00 in Tokyo
    assert digests_send(now=at(2026, 12, 8, 8, 0, TOKYO)) == 1
    assert digests_send(now=at(2026, 12, 8, 9, 0, TOKYO)) == 0  # once per day
    outbox_send(now=at(2026, 12, 8, 8, 1, TOKYO))
    [message] = smtp.messages
    assert message["Subject"] == "[SPM] Your daily digest: 2 unread notifications"
    text = text_of(message)
    assert "Atlas moved (1)." in text
    assert "Atlas moved (2)." in text
    assert "Atlas moved (3)." not in text  # read in the inbox already
    assert "overrode the gate" not in text
    assert "since Mon 7 Dec, 08:00" in text  # in the person's own time zone
    assert "Atlas moved (2)." in html_of(message)

    notify_at(at(2026, 12, 8, 10, 0, TOKYO), 4)
    assert digests_send(now=at(2026, 12, 9, 8, 0, TOKYO)) == 1
    outbox_send(now=at(2026, 12, 9, 8, 0, TOKYO))
    latest = text_of(smtp.messages[-1])
    assert "Atlas moved (4)." in latest
    assert "Atlas moved (1)." not in latest


def test_a_weekly_digest_comes_on_monday_only(owner, smtp):
    AlertSettings.objects.create(user=owner, digest=DigestFrequency.WEEKLY, time_zone="Europe/Berlin")
    notify_at(at(2026, 12, 8, 9, 0, BERLIN), 1)  # a Tuesday
    # Chosen mid-week: the first digest is next Monday's, and covers the week.
    for day in (9, 10, 11, 12, 13):
        assert digests_send(now=at(2026, 12, day, 8, 0, BERLIN)) == 0
    assert digests_send(now=at(2026, 12, 14, 8, 0, BERLIN)) == 1  # Monday
    outbox_send(now=at(2026, 12, 14, 8, 0, BERLIN))
    assert smtp.messages[0]["Subject"] == "[SPM] Your weekly digest: 1 unread notification"


def test_no_digest_when_nothing_is_unread_or_digests_are_off(owner, smtp):
    assert digests_send(now=at(2026, 12, 8, 8, 0)) == 0
    notify_at(at(2026, 12, 8, 7, 0), 1)
    AlertSettings.objects.create(user=owner, digest=DigestFrequency.NEVER)
    assert digests_send(now=at(2026, 12, 8, 8, 0)) == 0
    assert not OutboxEmail.objects.exists()


@pytest.mark.parametrize(
    ("local", "frequency", "slot"),
    [
        (at(2026, 12, 8, 7, 59, BERLIN), DigestFrequency.DAILY, at(2026, 12, 7, 8, 0, BERLIN)),
        (at(2026, 12, 8, 8, 0, BERLIN), DigestFrequency.DAILY, at(2026, 12, 8, 8, 0, BERLIN)),
        (at(2026, 12, 8, 8, 0, BERLIN), DigestFrequency.WEEKLY, at(2026, 12, 7, 8, 0, BERLIN)),
        (at(2026, 12, 7, 7, 0, BERLIN), DigestFrequency.WEEKLY, at(2026, 11, 30, 8, 0, BERLIN)),
        # Summer time begins on 29 March 2026: 08:00 is still 08:00 local.
        (at(2026, 3, 29, 9, 0, BERLIN), DigestFrequency.DAILY, at(2026, 3, 29, 8, 0, BERLIN)),
    ],
)
def test_the_digest_slot_is_eight_local_on_the_right_day(local, frequency, slot):
    assert digest_slot(local, frequency=frequency, time_zone="Europe/Berlin") == slot


# --------------------------------------------------------------------------------------------------
# Unsubscribe, without signing in
# --------------------------------------------------------------------------------------------------


def test_the_unsubscribe_link_asks_then_stops_all_email_without_signing_in(owner, smtp):
    anonymous = Client()
    url = f"/unsubscribe/{unsubscribe_token(owner.pk, owner.email)}/"
    page = anonymous.get(url)
    assert page.status_code == 200
    assert b"Unsubscribe from email" in page.content
    assert not AlertSettings.objects.exists()  # a link scanner's GET unsubscribes nobody
    response = anonymous.post(url)
    assert response.status_code == 302
    assert response["Location"] == url
    assert b"No more email goes to olga@example.com" in anonymous.get(url).content
    assert AlertSettings.objects.get(user=owner).email_enabled is False
    events_notify([event()])
    assert not OutboxEmail.objects.exists()
    assert Notification.objects.filter(recipient=owner).exists()  # the inbox still hears


@pytest.mark.parametrize("bad", ["nonsense", "altered"])
def test_an_unsubscribe_link_that_was_not_made_here_changes_nothing(owner, bad):
    token = unsubscribe_token(owner.pk, owner.email)
    token = "nonsense" if bad == "nonsense" else token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for response in (Client().get(f"/unsubscribe/{token}/"), Client().post(f"/unsubscribe/{token}/")):
        assert response.status_code == 400
        assert b"This link does not work" in response.content
    assert not AlertSettings.objects.exists()


def test_an_unsubscribe_link_for_an_old_address_changes_nothing(owner):
    token = unsubscribe_token(owner.pk, owner.email)
    owner.email = "olga.berg@example.com"
    owner.save()
    assert Client().post(f"/unsubscribe/{token}/").status_code == 400
    assert not AlertSettings.objects.exists()


# --------------------------------------------------------------------------------------------------
# The settings page
# --------------------------------------------------------------------------------------------------


def settings_post(client, **changes):
    data = {"email_enabled": "on", "digest": "daily", "time_zone": "", "quiet_from": "", "quiet_until": ""}
    return client.post("/inbox/settings/", {**data, **changes})


def test_the_settings_page_shows_the_defaults_and_saves_a_choice(owner):
    client = Client()
    client.force_login(owner)
    page = client.get("/inbox/settings/").content.decode()
    assert "Mail goes to <strong>olga@example.com</strong>" in page
    assert '<option value="immediate" selected>Email at once</option>' in page  # gate overridden's default
    assert "Scenario awaiting approval" not in page  # money: not for a PM
    response = settings_post(
        client,
        digest="weekly",
        time_zone="Europe/Berlin",
        quiet_from="22:00",
        quiet_until="07:00",
        mode_stage_moved="immediate",
        mode_gate_overridden="inbox",
    )
    assert response.status_code == 302
    prefs = AlertSettings.objects.get(user=owner)
    assert (prefs.digest, prefs.time_zone, prefs.quiet_from, prefs.quiet_until) == (
        "weekly",
        "Europe/Berlin",
        dt.time(22),
        dt.time(7),
    )
    assert prefs.modes == {"stage_moved": "immediate", "gate_overridden": "inbox"}
    assert "Saved: this is how you hear from now on." in client.get("/inbox/settings/").content.decode()


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"time_zone": "Europe/Atlantis"}, "is not a time zone"),
        ({"digest": "hourly"}, "Choose daily, weekly or no digest."),
        ({"quiet_from": "22:00"}, "Give both ends of the quiet hours, or neither."),
        ({"quiet_from": "22:00", "quiet_until": "22:00"}, "Quiet hours cannot end when they start."),
        ({"quiet_from": "25:00", "quiet_until": "07:00"}, "Enter a time such as 22:00."),
        ({"mode_stage_moved": "sms"}, "Choose inbox only, email at once or in my digest."),
    ],
)
def test_settings_that_cannot_work_are_refused_and_keep_the_input(owner, changes, says):
    client = Client()
    client.force_login(owner)
    response = settings_post(client, **{"digest": "weekly", "mode_import_failed": "inbox", **changes})
    assert response.status_code == 200
    page = response.content.decode()
    assert says in page
    assert "Not saved:" in page
    assert not AlertSettings.objects.exists()
    # What was typed is still there to correct.
    assert '<option value="inbox" selected>Inbox only</option>' in page
    if "digest" not in changes:
        assert '<option value="weekly" selected>' in page


def test_a_leader_chooses_how_to_hear_about_scenarios(db):
    vp = UserFactory(username="vera", role=Role.VP)
    client = Client()
    client.force_login(vp)
    assert "Scenario awaiting approval" in client.get("/inbox/settings/").content.decode()


def test_the_admins_delivery_log_sends_a_failed_mail_again_now(
    owner, smtp, django_capture_on_commit_callbacks
):
    events_notify([event()])
    smtp.refuse = True
    outbox_send()
    email = OutboxEmail.objects.get()
    assert email.send_after > timezone.now()  # waiting for its backoff
    root = UserFactory(username="root", is_staff=True, is_superuser=True, role=Role.VP)
    client = Client()
    client.force_login(root)
    log = client.get("/admin/portfolio/outboxemail/").content.decode()
    assert "Failed, will retry" in log
    smtp.refuse = False
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/portfolio/outboxemail/",
            {"action": "send_again_now", "_selected_action": [email.pk]},
            follow=True,
        )
    assert "1 mail queued to go now." in response.content.decode()
    email.refresh_from_db()
    assert email.sent_at is not None  # the worker (eager here) sent it at once
    assert len(smtp.messages) == 1
