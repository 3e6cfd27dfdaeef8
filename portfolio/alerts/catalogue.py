"""The event catalogue: every kind of event a person can be notified about, who hears about it by default, and
how a batch of many events of one kind reads as one summary. Pure: no models, no database.

An event is made where it happens (a service, a domain signal's receiver, a periodic scan) as an ``Event``:
its sentence and link as a person should read them, and a ``key`` naming the event itself, so one event
notifies each person once however often it is reported (a retried task, a repeated scan).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from portfolio.choices import EmailMode, EventKind


class Audience(StrEnum):
    """Who hears about an event by default (``portfolio.alerts.selectors.recipients``)."""

    # The product's owner and members, its portfolio's director, the VPs, and whoever follows the product or
    # its portfolio; minus whoever mutes it.
    PRODUCT = "product"
    # The portfolio's director (every director for an organisation-wide event), the VPs, and the leaders who
    # follow the portfolio; minus whoever mutes it.
    LEADERSHIP = "leadership"
    # The people the event names (the person who uploaded an import), and nobody else.
    NAMED = "named"


@dataclass(frozen=True)
class Kind:
    audience: Audience
    #: Only to people who may see money (scenarios are about budgets): leadership, as ``can_view_scenarios``.
    money: bool = False
    #: About one product's money: only to those who may see its budget (``can_see_budget``: leadership, its
    #: director, owner and members; not someone who merely follows it).
    product_money: bool = False
    #: A batch's summary: "{count} {summary}", then the first names, and where the list of them is.
    summary: str = ""
    summary_url: str = ""
    #: What leadership hears about, in "why you got this" ("VPs hear about every portfolio's scenarios.").
    about: str = "scenarios"
    #: How a person hears of it beyond the inbox until they choose (``AlertSettings.modes``): what needs a
    #: decision soon is mailed at once, the rest waits for the digest.
    email: str = EmailMode.DIGEST


KINDS: dict[str, Kind] = {
    EventKind.HEALTH_WORSE: Kind(
        Audience.PRODUCT, summary="products' health got worse", summary_url="products:list"
    ),
    EventKind.PRODUCT_STUCK: Kind(
        Audience.PRODUCT, summary="products are stuck in their stage", summary_url="lifecycle:analytics"
    ),
    EventKind.FORECAST_MISS: Kind(
        Audience.PRODUCT,
        summary="KPIs are forecast to miss their quarter's target",
        summary_url="portfolio:rollups",
    ),
    EventKind.KPI_WORSE: Kind(
        Audience.LEADERSHIP,
        summary="portfolio KPIs got worse",
        summary_url="portfolio:rollups",
        about="KPIs",
    ),
    EventKind.BUDGET_BURN: Kind(
        Audience.PRODUCT,
        product_money=True,
        summary="products' spend is off plan",
        summary_url="portfolio:investment",
    ),
    EventKind.ROADMAP_LATE: Kind(
        Audience.PRODUCT,
        summary="roadmap items, releases or milestones are late",
        summary_url="portfolio:roadmap",
    ),
    EventKind.KEY_RESULT_OFF: Kind(
        Audience.LEADERSHIP,
        summary="key results are off target",
        summary_url="portfolio:objectives",
        about="key results",
    ),
    EventKind.STAGE_MOVED: Kind(
        Audience.PRODUCT, summary="products moved stage", summary_url="lifecycle:board"
    ),
    EventKind.GATE_OVERRIDDEN: Kind(
        Audience.PRODUCT,
        summary="stage gates were overridden",
        summary_url="lifecycle:analytics",
        email=EmailMode.IMMEDIATE,
    ),
    EventKind.SCENARIO_CREATED: Kind(
        Audience.LEADERSHIP,
        money=True,
        summary="scenarios await approval",
        summary_url="portfolio:scenarios",
        email=EmailMode.IMMEDIATE,
    ),
    EventKind.SCENARIO_APPROVED: Kind(
        Audience.LEADERSHIP, money=True, summary="scenarios were approved", summary_url="portfolio:scenarios"
    ),
    EventKind.SCENARIO_DISCARDED: Kind(
        Audience.LEADERSHIP, money=True, summary="scenarios were discarded", summary_url="portfolio:scenarios"
    ),
    EventKind.IMPORT_FINISHED: Kind(
        Audience.NAMED, summary="imports finished", summary_url="portfolio:imports"
    ),
    EventKind.IMPORT_FAILED: Kind(
        Audience.NAMED, summary="imports failed", summary_url="portfolio:imports", email=EmailMode.IMMEDIATE
    ),
}

#: A KPI is forecast to miss its period when its forecast is more likely than not to end off target (the
#: dashboard's tile counts the same).
FORECAST_MISS_CHANCE = 0.5

#: Budget burn alerts beyond this share off the plan to date, either way (actual / plan to date outside
#: 85 % to 115 %).
BURN_ALERT = 15

#: More events of one kind than this, in one batch for one person, make one summary notification instead.
SUMMARY_AFTER = 3
#: A summary names this many of its events.
SUMMARY_NAMES = 3


@dataclass(frozen=True)
class Event:
    kind: str
    sentence: str
    url: str
    key: str
    #: What it is about: a product (and so its portfolio), or a portfolio (None with a product: the
    #: organisation, for an organisation-wide scenario).
    product_id: int | None = None
    portfolio_id: int | None = None
    #: The KPI it is about (a forecast miss, a cell got worse): its followers hear it, its muters do not.
    kpi_id: int | None = None
    #: Who made it happen: never told about it themselves.
    actor_id: int | None = None
    #: ``Audience.NAMED``: who hears.
    named: tuple[int, ...] = ()
    #: The name a summary lists it by (a product's name).
    name: str = ""


def summary_sentence(kind: str, events: list[Event]) -> str:
    """ "5 products' health got worse: Atlas, Beacon, Comet and 2 more." """
    names = [event.name for event in events if event.name][:SUMMARY_NAMES]
    more = len(events) - len(names)
    listed = ", ".join(names)
    if more and names:
        listed += f" and {more} more"
    return f"{len(events)} {KINDS[kind].summary}" + (f": {listed}." if names else ".")


def truncate(sentence: str, limit: int = 400) -> str:
    return sentence if len(sentence) <= limit else sentence[: limit - 1] + "…"
