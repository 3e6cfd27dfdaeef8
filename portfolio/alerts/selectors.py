"""Who hears about an event, and what a person's inbox holds.

``recipients`` answers for a whole batch of events in a fixed number of queries (products, memberships,
follows, leaders), whatever the batch's size: a full recompute's events cost the same five queries as one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from lifecycle.analytics.selectors import stuck_filter, stuck_thresholds
from lifecycle.models import Milestone, MilestoneStatus, Release, ReleaseStatus, RoadmapItem, RoadmapStatus
from portfolio.alerts.catalogue import FORECAST_MISS_CHANCE, KINDS, Audience, Event
from portfolio.alerts.mail import unsubscribe_reader
from portfolio.choices import EmailMode, EventKind, Grain, Horizon, Scope
from portfolio.models import (
    KPI,
    AlertSettings,
    Follow,
    Notification,
    Portfolio,
    ProductForecast,
    ReportedEvent,
    Rollup,
)
from products.choices import Role
from products.models import Membership, Product, User
from products.permissions import is_leadership

INBOX_PAGE = 25


@dataclass
class Facts:
    """What the audiences of a batch of events are made of, read once."""

    products: dict[int, tuple[int | None, int, str]] = field(
        default_factory=dict
    )  # id: (owner, portfolio, name)
    members: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    directors: dict[int, int | None] = field(default_factory=dict)  # portfolio: director
    portfolio_names: dict[int, str] = field(default_factory=dict)
    users: dict[int, User] = field(default_factory=dict)  # every active person who may hear
    follows: dict[tuple[str, int], dict[int, bool]] = field(default_factory=lambda: defaultdict(dict))
    kpi_names: dict[int, str] = field(default_factory=dict)


def _facts(events: list[Event]) -> Facts:
    facts = Facts()
    product_ids = {event.product_id for event in events if event.product_id}
    if product_ids:
        rows = Product.objects.filter(pk__in=product_ids).values_list(
            "pk", "owner_id", "portfolio_id", "name", "portfolio__director_id", "portfolio__name"
        )
        for pk, owner, portfolio, name, director, portfolio_name in rows:
            facts.products[pk] = (owner, portfolio, name)
            facts.directors[portfolio], facts.portfolio_names[portfolio] = director, portfolio_name
        members = Membership.objects.filter(product__in=product_ids).values_list("product_id", "user_id")
        for product, user in members:
            facts.members[product].add(user)
    if any(event.product_id is None for event in events):  # about a portfolio, or the organisation
        for pk, director, name in Portfolio.objects.values_list("pk", "director_id", "name"):
            facts.directors[pk], facts.portfolio_names[pk] = director, name
    portfolio_ids = {p for _, p, _ in facts.products.values()}
    portfolio_ids |= {event.portfolio_id for event in events if event.portfolio_id}
    kpi_ids = {event.kpi_id for event in events if event.kpi_id}
    follows = Follow.objects.filter(
        Q(product__in=product_ids) | Q(portfolio__in=portfolio_ids) | Q(kpi__in=kpi_ids)
    )
    for user, product, portfolio, kpi, kpi_name, muted in follows.values_list(
        "user_id", "product_id", "portfolio_id", "kpi_id", "kpi__name", "muted"
    ):
        if kpi:
            facts.follows["kpi", kpi][user] = not muted
            facts.kpi_names[kpi] = kpi_name
        else:
            facts.follows["product" if product else "portfolio", product or portfolio][user] = not muted
    wanted = {user for users in facts.members.values() for user in users}
    wanted |= {owner for owner, _, _ in facts.products.values() if owner}
    wanted |= {director for director in facts.directors.values() if director}
    wanted |= {user for users in facts.follows.values() for user in users}
    wanted |= {user for event in events for user in event.named}
    # VPs hear about everything; every director only about organisation-wide scenarios.
    organisation_wide = any(e.product_id is None and e.portfolio_id is None for e in events)
    leaders = [Role.VP, Role.DIRECTOR] if organisation_wide else [Role.VP]
    people = User.objects.filter(is_active=True).filter(
        Q(pk__in=wanted) | Q(role__in=leaders) | Q(is_superuser=True)
    )
    facts.users = {
        user.pk: user for user in people.only("pk", "role", "is_superuser", "is_active", "username")
    }
    return facts


def _product_audience(event: Event, facts: Facts) -> dict[int, str]:
    if event.product_id not in facts.products:
        return {}
    owner, portfolio, name = facts.products[event.product_id]
    portfolio_name = facts.portfolio_names.get(portfolio, "")
    heard: dict[int, str] = {}
    for user in facts.users.values():
        if user.role == Role.VP or user.is_superuser:
            heard[user.pk] = "VPs hear about every product."
    if facts.directors.get(portfolio):
        heard[facts.directors[portfolio]] = f"You direct the {portfolio_name} portfolio."
    for member in facts.members.get(event.product_id, ()):
        heard[member] = f"You work on {name}."
    if owner:
        heard[owner] = f"You own {name}."
    _apply_follows(heard, facts, ("portfolio", portfolio), f"You follow the {portfolio_name} portfolio.")
    _apply_follows(heard, facts, ("product", event.product_id), f"You follow {name}.")
    _apply_kpi_follows(heard, facts, event)
    return heard


def _apply_kpi_follows(heard: dict[int, str], facts: Facts, event: Event) -> None:
    """Last, so a KPI's own setting wins: mute Revenue, hear no forecast miss of it anywhere."""
    if event.kpi_id:
        name = facts.kpi_names.get(event.kpi_id, "this")
        _apply_follows(heard, facts, ("kpi", event.kpi_id), f"You follow the {name} KPI.")


def _leadership_audience(event: Event, facts: Facts) -> dict[int, str]:
    heard: dict[int, str] = {}
    about = KINDS[event.kind].about
    for user in facts.users.values():
        if user.role == Role.VP or user.is_superuser:
            heard[user.pk] = f"VPs hear about every portfolio's {about}."
    if event.portfolio_id is None:
        for user in facts.users.values():
            if user.role == Role.DIRECTOR:
                heard[user.pk] = f"Directors hear about organisation-wide {about}."
        _apply_kpi_follows(heard, facts, event)
        return heard
    name = facts.portfolio_names.get(event.portfolio_id, "")
    if facts.directors.get(event.portfolio_id):
        heard[facts.directors[event.portfolio_id]] = f"You direct the {name} portfolio."
    _apply_follows(heard, facts, ("portfolio", event.portfolio_id), f"You follow the {name} portfolio.")
    _apply_kpi_follows(heard, facts, event)
    return heard


def _apply_follows(heard: dict[int, str], facts: Facts, thing: tuple[str, int], why: str) -> None:
    """A follow adds the person (keeping a closer reason they already have); a mute removes them. Applied to
    the portfolio first and the product second, a product's own setting wins."""
    for user, following in facts.follows.get(thing, {}).items():
        if following:
            heard.setdefault(user, why)
        else:
            heard.pop(user, None)


def may_hear(user: User, event: Event) -> bool:
    """The permission rules decide: a person never hears about what they may not see. Everyone signed in sees
    every product (``can_view_product``); money (scenarios) for leadership, the rule of
    ``portfolio.strategy.permissions.can_view_scenarios`` (a layer above: the matrix test holds them equal)."""
    if not user.is_active:
        return False
    return not KINDS[event.kind].money or is_leadership(user)


def recipients(events: list[Event]) -> dict[str, dict[int, str]]:
    """Event key -> {person: why they hear about it}, for every event of the batch; never its actor."""
    facts = _facts(events)
    heard_by: dict[str, dict[int, str]] = {}
    for event in events:
        audience = KINDS[event.kind].audience
        if audience == Audience.PRODUCT:
            heard = _product_audience(event, facts)
        elif audience == Audience.LEADERSHIP:
            heard = _leadership_audience(event, facts)
        else:
            heard = dict.fromkeys(event.named, "It is your import.")
        if KINDS[event.kind].product_money:
            heard = {user: why for user, why in heard.items() if _sees_budget(user, event, facts)}
        heard_by[event.key] = {
            user: why
            for user, why in heard.items()
            if user != event.actor_id and user in facts.users and may_hear(facts.users[user], event)
        }
    return heard_by


def _sees_budget(user_id: int, event: Event, facts: Facts) -> bool:
    """``products.permissions.can_see_budget`` over the batch's facts: leadership, the product's director,
    owner and members."""
    user = facts.users.get(user_id)
    if user is None:
        return False
    if is_leadership(user):
        return True
    owner, portfolio, _ = facts.products.get(event.product_id, (None, None, ""))
    return user_id in (owner, facts.directors.get(portfolio)) or user_id in facts.members.get(
        event.product_id, ()
    )


def products_stuck(*, now: dt.datetime | None = None) -> QuerySet[Product]:
    """Products longer in their stage than its threshold, now (as ``lifecycle.analytics`` counts them)."""
    return Product.objects.filter(stuck_filter(stuck_thresholds(), now or timezone.now()))


# --------------------------------------------------------------------------------------------------
# The inbox
# --------------------------------------------------------------------------------------------------


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def inbox(user: User, *, kind: str = "", unread: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(recipient=user)
    if kind:
        notifications = notifications.filter(kind=kind)
    if unread:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-pk")


def follow_target(thing) -> dict:
    if isinstance(thing, Product):
        return {"product": thing}
    return {"kpi": thing} if isinstance(thing, KPI) else {"portfolio": thing}


def follow_modes_of_kpis(user: User) -> dict[int, str]:
    """The KPIs this person follows or mutes (one query): KPI id -> "follow" or "mute"."""
    rows = Follow.objects.filter(user=user, kpi__isnull=False).values_list("kpi_id", "muted")
    return {kpi: "mute" if muted else "follow" for kpi, muted in rows}


def follow_mode(user: User, thing: Product | Portfolio | KPI) -> str:
    """ "follow", "mute" or "default" (no setting: the roles decide) for one product, portfolio or KPI."""
    target = follow_target(thing)
    muted = Follow.objects.filter(user=user, **target).values_list("muted", flat=True).first()
    return "default" if muted is None else "mute" if muted else "follow"


def alert_settings_of(user: User) -> AlertSettings:
    """A person's email settings: their row, or the catalogue's defaults (unsaved) when they never chose."""
    try:
        return user.alert_settings
    except AlertSettings.DoesNotExist:
        return AlertSettings(user=user)


def email_mode(alert_settings: AlertSettings, kind: str) -> str:
    """How this person hears about ``kind`` beyond the inbox (``EmailMode``): their choice, else the default."""
    if not alert_settings.email_enabled:
        return EmailMode.INBOX
    return (alert_settings.modes or {}).get(kind) or KINDS[kind].email


def email_modes(alert_settings: AlertSettings) -> dict[str, str]:
    """Every kind's mode as the settings page shows it (switched-off email leaves the choices as they were)."""
    chosen = alert_settings.modes or {}
    return {kind: chosen.get(kind) or KINDS[kind].email for kind in KINDS}


def kinds_heard(user: User) -> dict[str, str]:
    """Each kind of event this person can ever hear about (money only for leadership), with its label."""
    return {
        kind: EventKind(kind).label for kind, spec in KINDS.items() if not spec.money or is_leadership(user)
    }


def unsubscribed_person(token: str) -> tuple[User, bool] | None:
    """The person an unsubscribe token is for, and whether their email is off already; None when the token
    is not ours, or is for an address that has changed since."""
    reader = unsubscribe_reader(token)
    if reader is None:
        return None
    user = User.objects.filter(pk=reader[0]).select_related("alert_settings").first()
    if user is None or user.email.lower() != reader[1]:
        return None
    return user, not alert_settings_of(user).email_enabled


def product_forecast_misses(*, kpi_ids: Iterable[int] = (), product_ids: Iterable[int] = ()) -> QuerySet:
    """Each product's KPI whose current-quarter forecast is more likely than not to miss its target (one query,
    with the names a sentence needs), some KPIs' or products' only when given."""
    rows = ProductForecast.objects.filter(
        grain=Grain.QUARTER,
        horizon=Horizon.CURRENT,
        value__isnull=False,
        target__isnull=False,
        p_on_target__lt=FORECAST_MISS_CHANCE,
    )
    if kpi_ids:
        rows = rows.filter(kpi_id__in=list(kpi_ids))
    if product_ids:
        rows = rows.filter(product_id__in=list(product_ids))
    return rows.order_by("product_id", "kpi_id").values_list(
        "product_id",
        "product__name",
        "product__slug",
        "kpi_id",
        "kpi__name",
        "kpi__unit",
        "period",
        "value",
        "target",
        "p_on_target",
    )


def keys_reported(keys: Iterable[str]) -> set[str]:
    """Which of these event keys a recurring check reported already."""
    keys, seen = list(keys), set()
    for start in range(0, len(keys), KEYS_PER_QUERY):
        chunk = keys[start : start + KEYS_PER_QUERY]
        seen.update(ReportedEvent.objects.filter(key__in=chunk).values_list("key", flat=True))
    return seen


KEYS_PER_QUERY = 2000


def roadmap_late(*, today: dt.date, since: dt.date):
    """Roadmap items, releases and milestones not finished whose planned date passed between ``since`` and
    ``today`` (three queries): (kind, id, title, planned date, product id, name, portfolio slug) each. Finished as the
    roadmap page counts it (``portfolio.strategy.selectors.roadmap``): a missed milestone is still late."""
    sources = (
        ("roadmap item", RoadmapItem, "title", "target_date", (RoadmapStatus.DONE, RoadmapStatus.DROPPED)),
        ("release", Release, "name", "planned_date", (ReleaseStatus.SHIPPED, ReleaseStatus.CANCELLED)),
        ("milestone", Milestone, "title", "planned_date", (MilestoneStatus.DONE,)),
    )
    for label, model, title, date, finished in sources:
        rows = model.objects.filter(**{f"{date}__lt": today, f"{date}__gte": since}).exclude(
            status__in=finished
        )
        if model is not RoadmapItem:
            rows = rows.filter(actual_date__isnull=True)
        for pk, name, planned, product_id, product_name, portfolio in rows.order_by(date, "pk").values_list(
            "pk", title, date, "product_id", "product__name", "product__portfolio__slug"
        ):
            yield label, pk, name, planned, product_id, product_name, portfolio


#: How bad a rollup status is (a cell "gets worse" when this grows); no data and no target are not statuses.
STATUS_SEVERITY = {"on_target": 1, "at_risk": 2, "off_target": 3}


@dataclass(frozen=True)
class CellWorse:
    kpi_id: int
    kpi_name: str
    unit: str
    frequency: str
    scope: str
    scope_key: str
    since: dt.date  # the first period of the worse status
    period: dt.date  # the latest period
    value: float
    target: float | None
    status: str
    before: str


def kpi_cells_worse(*, kpi_ids: Iterable[int] = (), hold: int = 1) -> list[CellWorse]:
    """The organisation's and each portfolio's KPI cells (native grain) whose status is worse than it was,
    and has been for the latest ``hold`` periods (hysteresis: a one-period dip does not alert when ``hold`` is 2).
    One query: the latest ``hold + 1`` rollups of each cell, by a window."""
    rank = Window(
        RowNumber(), partition_by=[F("kpi_id"), F("scope"), F("scope_key")], order_by=F("period").desc()
    )
    rows = Rollup.objects.filter(grain=Grain.NATIVE, scope__in=[Scope.ORGANISATION, Scope.PORTFOLIO])
    if kpi_ids:
        rows = rows.filter(kpi_id__in=list(kpi_ids))
    rows = (
        rows.annotate(rank=rank)
        .filter(rank__lte=hold + 1)
        .order_by("kpi_id", "scope", "scope_key", "-period")
        .values_list(
            "kpi_id",
            "kpi__name",
            "kpi__unit",
            "kpi__frequency",
            "scope",
            "scope_key",
            "period",
            "value",
            "target",
            "status",
        )
    )
    cells: dict[tuple, list] = defaultdict(list)
    for row in rows:
        cells[row[0], row[4], row[5]].append(row)
    worse = []
    for history in cells.values():
        if len(history) < hold + 1:
            continue
        latest, before = history[:hold], history[hold]
        severities = [STATUS_SEVERITY.get(row[9], 0) for row in latest]
        was = STATUS_SEVERITY.get(before[9], 0)
        if not was or min(severities) <= was:
            continue
        kpi_id, name, unit, frequency, scope, key, period, value, target, status = latest[0]
        worse.append(
            CellWorse(
                kpi_id,
                name,
                unit,
                frequency,
                scope,
                key,
                latest[-1][6],
                period,
                value,
                target,
                status,
                before[9],
            )
        )
    return worse
