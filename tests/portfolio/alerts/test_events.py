"""Who hears about what: each event of the catalogue, made where it happens, reaches the people its audience
names (owners, members, directors, VPs, followers), never its actor, never a muter, never someone who may not
see it; a batch notifies each person once per event, and a big one as one summary."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lifecycle.models import StageThreshold
from lifecycle.services import product_move_stage
from portfolio.alerts.catalogue import KINDS, SUMMARY_AFTER, Event
from portfolio.alerts.selectors import recipients
from portfolio.alerts.services import events_notify, follow_set, products_stuck_notify
from portfolio.choices import EventKind
from portfolio.imports.runs import import_run_create, import_run_start
from portfolio.kpis.services import measurement_record
from portfolio.models import Notification
from portfolio.strategy.permissions import can_view_scenarios
from portfolio.strategy.services.scenarios import scenario_create_from_live, scenario_discard
from products.choices import Health, Role, Stage
from products.models import ImportStep, Product, User
from tests.factories import (
    KPIFactory,
    MeasurementFactory,
    MembershipFactory,
    PortfolioFactory,
    ProductFactory,
    UserFactory,
)
from tests.lifecycle.factories import fill_gates


@pytest.fixture
def people(db):
    director = UserFactory(username="dora", role=Role.DIRECTOR)
    other_director = UserFactory(username="otto", role=Role.DIRECTOR)
    vp = UserFactory(username="vera", role=Role.VP)
    owner = UserFactory(username="olga", role=Role.PM)
    member = UserFactory(username="max", role=Role.JUNIOR_PM)
    outsider = UserFactory(username="pia", role=Role.PM)
    payments = PortfolioFactory(name="Payments", slug="payments", director=director)
    PortfolioFactory(name="Growth", slug="growth", director=other_director)
    product = ProductFactory(name="Atlas", slug="atlas", portfolio=payments, owner=owner)
    MembershipFactory(product=product, user=member, role=Role.JUNIOR_PM)
    return {
        "director": director,
        "other_director": other_director,
        "vp": vp,
        "owner": owner,
        "member": member,
        "outsider": outsider,
        "product": product,
        "portfolio": payments,
    }


def inbox_of(user: User) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("sentence", flat=True))


def heard(kind: str) -> set[str]:
    return set(Notification.objects.filter(kind=kind).values_list("recipient__username", flat=True))


def test_a_stage_move_reaches_the_products_people_but_not_the_mover(people):
    product = fill_gates(people["product"], to=Stage.OPPORTUNITY)
    product_move_stage(product=product, to=Stage.OPPORTUNITY, by=people["owner"])
    assert heard(EventKind.STAGE_MOVED) == {"dora", "vera", "max"}  # not olga, who moved it; not otto or pia
    note = Notification.objects.get(recipient=people["member"])
    assert note.sentence == f"{people['owner'].get_full_name()} moved Atlas from Problem to Opportunity."
    assert note.url == "/products/atlas/"
    assert note.why == "You work on Atlas."
    assert Notification.objects.get(recipient=people["director"]).why == "You direct the Payments portfolio."
    assert Notification.objects.get(recipient=people["vp"]).why == "VPs hear about every product."


def test_an_overridden_gate_is_its_own_event_with_the_reason(people):
    product_move_stage(
        product=people["product"],
        to=Stage.OPPORTUNITY,
        by=people["director"],
        override_reason="Strategic bet",
    )
    assert heard(EventKind.GATE_OVERRIDDEN) == {"vera", "olga", "max"}  # the director overrode it
    sentence = Notification.objects.filter(kind=EventKind.GATE_OVERRIDDEN).first().sentence
    assert "overrode the gate into Opportunity for Atlas" in sentence
    assert "“Strategic bet”" in sentence


def test_a_refused_move_notifies_nobody(people):
    with pytest.raises(Exception, match="not ready to leave Problem"):
        product_move_stage(product=people["product"], to=Stage.OPPORTUNITY, by=people["owner"])
    assert not Notification.objects.exists()


def test_following_adds_a_person_and_muting_removes_one_a_products_own_setting_winning(people):
    follow_set(user=people["outsider"], thing=people["product"], mode="follow")
    follow_set(user=people["member"], thing=people["product"], mode="mute")
    follow_set(user=people["vp"], thing=people["portfolio"], mode="mute")
    follow_set(user=people["other_director"], thing=people["portfolio"], mode="follow")
    follow_set(user=people["director"], thing=people["portfolio"], mode="mute")
    # The director muted the portfolio but follows this product: the product's own setting wins.
    follow_set(user=people["director"], thing=people["product"], mode="follow")
    event = Event(
        kind=EventKind.STAGE_MOVED,
        sentence="Atlas moved.",
        url="/products/atlas/",
        key="k",
        product_id=people["product"].pk,
    )
    audience = recipients([event])["k"]
    names = {User.objects.get(pk=pk).username: why for pk, why in audience.items()}
    assert names == {
        "olga": "You own Atlas.",
        "pia": "You follow Atlas.",
        "otto": "You follow the Payments portfolio.",
        "dora": "You follow Atlas.",
    }


def test_going_back_to_the_role_default_undoes_a_mute(people):
    follow_set(user=people["member"], thing=people["product"], mode="mute")
    follow_set(user=people["member"], thing=people["product"], mode="default")
    event = Event(kind=EventKind.STAGE_MOVED, sentence="x", url="/", key="k", product_id=people["product"].pk)
    assert people["member"].pk in recipients([event])["k"]


def test_inactive_people_hear_nothing(people):
    User.objects.filter(pk=people["member"].pk).update(is_active=False)
    event = Event(kind=EventKind.STAGE_MOVED, sentence="x", url="/", key="k", product_id=people["product"].pk)
    assert people["member"].pk not in recipients([event])["k"]


def test_health_getting_worse_notifies_once_but_a_first_value_is_not_news(people):
    kpi = KPIFactory(name="Revenue", default_target=100, tolerance=10)
    product = people["product"]
    measurement_record(product=product, kpi=kpi, period=dt.date(2026, 1, 5), value=120, by=people["owner"])
    product.refresh_from_db()
    assert product.health == Health.ON_TARGET
    assert not Notification.objects.exists()  # no data -> on target: the person who typed it knows
    measurement_record(product=product, kpi=kpi, period=dt.date(2026, 1, 12), value=50, by=people["owner"])
    assert heard(EventKind.HEALTH_WORSE) == {"olga", "max", "dora", "vera"}
    assert inbox_of(people["member"]) == [
        "Atlas is now Off target (was On target): at least one of its KPIs' latest values is worse."
    ]
    measurement_record(product=product, kpi=kpi, period=dt.date(2026, 1, 12), value=40, by=people["owner"])
    assert Notification.objects.filter(recipient=people["member"]).count() == 1  # still off target: no news
    measurement_record(product=product, kpi=kpi, period=dt.date(2026, 1, 12), value=130, by=people["owner"])
    assert Notification.objects.filter(recipient=people["member"]).count() == 1  # better is not an alert


def test_a_stuck_product_notifies_once_per_stay_and_not_at_the_threshold_itself(people):
    StageThreshold.objects.update_or_create(stage=Stage.PROBLEM, defaults={"stuck_after_days": 30})
    now = timezone.now()
    product = people["product"]
    Product.objects.filter(pk=product.pk).update(stage_entered_at=now - dt.timedelta(days=30, hours=1))
    products_stuck_notify(now=now)
    assert not Notification.objects.exists()  # 30 days of a 30-day threshold: not stuck yet
    Product.objects.filter(pk=product.pk).update(stage_entered_at=now - dt.timedelta(days=31, hours=1))
    products_stuck_notify(now=now)
    products_stuck_notify(now=now + dt.timedelta(days=1))  # the next day's scan: the same stay, no repeat
    assert heard(EventKind.PRODUCT_STUCK) == {"olga", "max", "dora", "vera"}
    assert Notification.objects.filter(kind=EventKind.PRODUCT_STUCK).count() == 4
    assert inbox_of(people["owner"]) == [
        "Atlas has been in Problem for 31 days, longer than the stage's threshold."
    ]


def test_scenarios_reach_only_leadership_even_when_a_pm_follows_the_portfolio(people):
    follow_set(user=people["outsider"], thing=people["portfolio"], mode="follow")
    scenario = scenario_create_from_live(
        name="Cut 10 %", portfolio=people["portfolio"], by=people["director"]
    )
    assert heard(EventKind.SCENARIO_CREATED) == {"vera"}  # the director made it; pia may not see money
    scenario_discard(scenario=scenario, by=people["vp"])
    assert heard(EventKind.SCENARIO_DISCARDED) == {"dora"}
    assert inbox_of(people["director"]) == [
        f"{people['vp'].get_full_name()} discarded the scenario “Cut 10 %” for the Payments portfolio."
    ]
    organisation = scenario_create_from_live(name="Whole plan", portfolio=None, by=people["vp"])
    assert organisation.portfolio_id is None
    assert set(
        Notification.objects.filter(key__startswith=f"scenario:{organisation.pk}:").values_list(
            "recipient__username", flat=True
        )
    ) == {"dora", "otto"}


@pytest.mark.parametrize("role", Role.values)
def test_money_events_follow_the_scenario_permission_for_every_role(people, role):
    person = UserFactory(username=f"who-{role}", role=role)
    follow_set(user=person, thing=people["portfolio"], mode="follow")
    for kind, spec in KINDS.items():
        if spec.audience != "leadership":
            continue
        event = Event(kind=kind, sentence="x", url="/", key=kind, portfolio_id=people["portfolio"].pk)
        # Scenarios are money: leadership only. Key results are on the objectives page, which everyone sees:
        # whoever follows the portfolio hears them.
        allowed = can_view_scenarios(person) if spec.money else True
        assert (person.pk in recipients([event])[kind]) == allowed, kind


def test_a_background_import_tells_its_uploader_when_it_is_checked(
    people, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_BYTES = 10
    kpi = KPIFactory(name="Revenue", frequency="weekly")
    MeasurementFactory(product=people["product"], kpi=kpi, period=dt.date(2026, 3, 2), value=90)
    data = b"product,kpi,period,value,target\natlas,Revenue,2026-03-09,96,\n"
    with django_capture_on_commit_callbacks(execute=True):
        run = import_run_create(
            kind="measurements", upload=SimpleUploadedFile("kpis.csv", data), by=people["owner"]
        )
        import_run_start(run=run, step=ImportStep.CHECK)
    assert inbox_of(people["owner"]) == [
        "Your import of kpis.csv (KPI measurements): checked, ready to apply (1 row)."
    ]
    assert heard(EventKind.IMPORT_FINISHED) == {"olga"}


def test_a_small_import_done_while_the_person_waits_notifies_nobody(people):
    KPIFactory(name="Revenue", frequency="weekly")
    data = b"product,kpi,period,value,target\natlas,Revenue,2026-03-09,96,\n"
    run = import_run_create(
        kind="measurements", upload=SimpleUploadedFile("kpis.csv", data), by=people["owner"]
    )
    import_run_start(run=run, step=ImportStep.CHECK)
    assert not Notification.objects.exists()


def test_many_events_of_one_kind_become_one_summary_per_person(people):
    products = [
        ProductFactory(name=f"P{i}", portfolio=people["portfolio"], owner=people["owner"]) for i in range(5)
    ]
    events = [
        Event(
            kind=EventKind.PRODUCT_STUCK,
            sentence=f"{p.name} is stuck.",
            url="/",
            key=f"s{p.pk}",
            product_id=p.pk,
            name=p.name,
        )
        for p in products
    ]
    events_notify(events)
    assert inbox_of(people["owner"]) == ["5 products are stuck in their stage: P0, P1, P2 and 2 more."]
    assert Notification.objects.get(recipient=people["owner"]).url == "/lifecycle/analytics/"
    events_notify(events)  # reported again: nothing new
    assert Notification.objects.filter(recipient=people["owner"]).count() == 1
    few = events[:SUMMARY_AFTER]
    events_notify([Event(**{**e.__dict__, "key": e.key + "-again"}) for e in few])
    assert Notification.objects.filter(recipient=people["owner"]).count() == 1 + SUMMARY_AFTER


def test_the_audience_of_a_batch_costs_the_same_queries_whatever_its_size(people):
    def queries(count: int) -> int:
        products = [ProductFactory(portfolio=people["portfolio"]) for _ in range(count)]
        events = [
            Event(kind=EventKind.STAGE_MOVED, sentence="x", url="/", key=f"q{p.pk}", product_id=p.pk)
            for p in products
        ]
        with CaptureQueriesContext(connection) as captured:
            recipients(events)
        return len(captured)

    assert queries(2) == queries(40)


def test_following_a_kpi_hears_its_events_everywhere_and_muting_it_silences_them(people):
    kpi = KPIFactory(name="Revenue")
    miss = Event(
        kind=EventKind.FORECAST_MISS,
        sentence="Atlas's Revenue is forecast to miss its Q4 2026 target.",
        url="/products/atlas/",
        key="forecast_miss:1",
        product_id=people["product"].pk,
        kpi_id=kpi.pk,
        name="Atlas (Revenue)",
    )
    follow_set(user=people["outsider"], thing=kpi, mode="follow")  # on no product: follows the KPI
    follow_set(user=people["owner"], thing=kpi, mode="mute")  # owns Atlas, but wants no Revenue news
    heard_by = recipients([miss])[miss.key]
    assert heard_by[people["outsider"].pk] == "You follow the Revenue KPI."
    assert people["owner"].pk not in heard_by  # a KPI's own setting wins over ownership
    assert heard_by[people["member"].pk] == "You work on Atlas."
    other = Event(**{**miss.__dict__, "kpi_id": None, "key": "forecast_miss:2"})
    assert people["outsider"].pk not in recipients([other])[other.key]  # another KPI's news: not theirs


@pytest.mark.parametrize("on_product", [False, True], ids=["follows it", "works on it"])
@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("kind", [kind for kind, spec in KINDS.items() if spec.audience != "named"])
def test_every_event_reaches_a_role_exactly_when_the_permission_rules_let_them_see_it(
    people, kind, role, on_product
):
    """Every kind and role, for someone who follows the product and its portfolio, or is a member of the
    product: they hear it if and only if they may see it (money: ``can_view_scenarios``; a product's money:
    ``can_see_budget``; the rest: ``can_view_product``, everyone signed in)."""
    from products.permissions import can_see_budget, can_view_product

    person = UserFactory(username=f"who-{role}", role=role)
    product = people["product"]
    if on_product:
        MembershipFactory(product=product, user=person, role=Role.JUNIOR_PM)
    follow_set(user=person, thing=product, mode="follow")
    follow_set(user=person, thing=people["portfolio"], mode="follow")
    spec = KINDS[kind]
    event = Event(
        kind=kind,
        sentence="x",
        url="/",
        key=kind,
        product_id=product.pk if spec.audience == "product" else None,
        portfolio_id=people["portfolio"].pk,
    )
    if spec.money:
        allowed = can_view_scenarios(person)
    elif spec.product_money:
        allowed = can_see_budget(person, product)
    else:
        allowed = can_view_product(person, product)
    assert (person.pk in recipients([event])[kind]) == allowed
