"""Slack and Microsoft Teams: a portfolio's channel hears its events through an incoming webhook (a real HTTP
server on 127.0.0.1 here), one message per batch, never what it may not hear, never twice; a service that is
down loses nothing."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portfolio.alerts.catalogue import Event
from portfolio.alerts.services import chat_send, events_notify, products_stuck_notify
from portfolio.choices import EventKind
from portfolio.models import ChatDelivery, ChatWebhook
from products.choices import Role
from products.models import Product
from tests.factories import PortfolioFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def products():
    payments = PortfolioFactory(name="Payments", slug="payments")
    growth = PortfolioFactory(name="Growth", slug="growth")
    owner = UserFactory(username="olga", role=Role.PM)
    return {
        "atlas": ProductFactory(name="Atlas", slug="atlas", portfolio=payments, owner=owner),
        "comet": ProductFactory(name="Comet", slug="comet", portfolio=growth, owner=owner),
        "payments": payments,
    }


def moved(product, n=1, kind=EventKind.STAGE_MOVED, **fields):
    return Event(
        kind=kind,
        sentence=fields.pop("sentence", f"Dora moved {product.name} from Problem to Opportunity ({n})."),
        url=product.get_absolute_url(),
        key=f"test:{kind}:{product.pk}:{n}",
        product_id=product.pk,
        name=product.name,
        **fields,
    )


def test_a_portfolios_slack_channel_hears_its_products_events_as_one_message(products, chat_server, settings):
    settings.SPM_BASE_URL = "https://spm.example.com"
    ChatWebhook.objects.create(
        name="#payments", service="slack", url=chat_server.url, portfolio=products["payments"]
    )
    events_notify([moved(products["atlas"], 1), moved(products["atlas"], 2), moved(products["comet"], 3)])
    assert chat_send() == (1, 0)
    [body] = chat_server.bodies
    assert body["text"] == (
        "• <https://spm.example.com/products/atlas/|Dora moved Atlas from Problem to Opportunity (1).>\n"
        "• <https://spm.example.com/products/atlas/|Dora moved Atlas from Problem to Opportunity (2).>"
    )  # Comet is Growth's: not in this channel
    assert ChatDelivery.objects.get().sent_at is not None


def test_a_teams_channel_gets_an_adaptive_card(products, chat_server):
    ChatWebhook.objects.create(name="Product leads", service="teams", url=chat_server.url)
    events_notify([moved(products["comet"])])
    chat_send()
    [body] = chat_server.bodies
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    [block] = attachment["content"]["body"]
    assert block["text"].startswith("[Dora moved Comet from Problem to Opportunity (1).](http")


def test_a_channel_hears_money_only_when_its_webhook_names_the_kind_and_never_ones_import(
    products, chat_server
):
    everything = ChatWebhook.objects.create(name="#all", service="slack", url=chat_server.url)
    scenario = Event(
        kind=EventKind.SCENARIO_CREATED,
        sentence="Dora created the scenario “Cut 10 %” for the whole organisation: it awaits approval.",
        url="/portfolio/scenarios/1/",
        key="scenario:1:created",
    )
    own_import = Event(
        kind=EventKind.IMPORT_FAILED,
        sentence="Your import of kpis.csv (KPI measurements): failed.",
        url="/portfolio/imports/1/",
        key="import:1",
        named=(products["atlas"].owner_id,),
    )
    events_notify([scenario, own_import])
    assert not ChatDelivery.objects.exists()
    everything.kinds = [EventKind.SCENARIO_CREATED]
    everything.save()
    events_notify([Event(**{**scenario.__dict__, "key": "scenario:2:created"})])
    chat_send()
    assert "awaits approval" in chat_server.bodies[0]["text"]


def test_a_daily_scan_finding_the_same_stuck_product_posts_it_once(products, chat_server):
    ChatWebhook.objects.create(
        name="#payments", service="slack", url=chat_server.url, portfolio=products["payments"]
    )
    Product.objects.filter(pk=products["atlas"].pk).update(
        stage_entered_at=timezone.now() - dt.timedelta(days=400)
    )
    products_stuck_notify()
    products_stuck_notify(now=timezone.now() + dt.timedelta(days=1))
    chat_send()
    assert len(chat_server.bodies) == 1
    assert "Atlas has been in Problem for 400 days" in chat_server.bodies[0]["text"]


def test_many_events_of_a_kind_read_as_one_summary_line(products, chat_server):
    ChatWebhook.objects.create(
        name="#payments", service="slack", url=chat_server.url, portfolio=products["payments"]
    )
    events_notify([moved(products["atlas"], n) for n in range(6)])
    chat_send()
    assert chat_server.bodies[0]["text"].startswith(
        "• <http://127.0.0.1:8000/lifecycle/board/|6 products moved stage"
    )


def test_a_service_that_is_down_loses_nothing(products, chat_server):
    ChatWebhook.objects.create(name="#all", service="slack", url=chat_server.url)
    now = timezone.now()
    events_notify([moved(products["atlas"])], now=now)
    chat_server.status = 503
    assert chat_send(now=now) == (0, 1)
    delivery = ChatDelivery.objects.get()
    assert delivery.sent_at is None
    assert delivery.attempts == 1
    assert "503" in delivery.last_error
    assert delivery.send_after == now + dt.timedelta(minutes=1)
    chat_server.status = 200
    assert chat_send(now=now + dt.timedelta(minutes=1)) == (1, 0)
    assert len(chat_server.bodies) == 1


def test_an_inactive_webhook_hears_nothing(products, chat_server):
    ChatWebhook.objects.create(name="#all", service="slack", url=chat_server.url, active=False)
    events_notify([moved(products["atlas"])])
    assert not ChatDelivery.objects.exists()


@pytest.mark.parametrize(
    "url",
    ["http://hooks.slack.com/services/T0/B0/x", "ftp://example.com/hook", "https://", "hooks.slack.com/x"],
)
def test_a_webhook_address_that_is_not_https_is_refused(url):
    hook = ChatWebhook(name="#x", service="slack", url=url)
    with pytest.raises(ValidationError):
        hook.full_clean()


def test_a_webhook_listing_a_kind_that_does_not_exist_is_refused():
    hook = ChatWebhook(
        name="#x", service="slack", url="https://hooks.slack.com/services/T0/B0/x", kinds=["stage_move"]
    )
    with pytest.raises(ValidationError, match="known kinds"):
        hook.full_clean()
