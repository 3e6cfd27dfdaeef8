"""The demo organisation planned in memory from a seed: people, products, owners, members, transitions."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.text import slugify

from portfolio.demo.kpi_specs import KPIS, PROFILES, TROUBLED_KPIS_PER_PORTFOLIO, round_significant
from portfolio.demo.specs import (
    AUDIENCES,
    BACKWARD_NOTE,
    FIRST_NAMES,
    FOCUS_WEIGHTS,
    LADDER,
    LADDER_WEIGHTS,
    LAST_NAMES,
    MARKET_WEIGHTS,
    MEMBER_COUNT_WEIGHTS,
    NAME_PREFIXES,
    OWNER_ROLES,
    PORTFOLIOS,
    STAGE_BUDGET_K,
    STAGE_DAYS,
    STAGE_NOTES,
    STAGE_VOLUME,
    STAGE_WEIGHTS,
    PortfolioSpec,
)
from products.choices import Focus, Market, Role, Stage

# --------------------------------------------------------------------------------------------------
# The plan: the whole organisation, decided in memory
# --------------------------------------------------------------------------------------------------


@dataclass
class PersonPlan:
    username: str
    first_name: str
    last_name: str
    role: str
    title: str
    date_joined: dt.datetime
    home: int | None = None  # index into PORTFOLIOS of the portfolio the person works in
    is_superuser: bool = False


@dataclass(frozen=True)
class TransitionPlan:
    from_stage: str
    to_stage: str
    at: dt.datetime
    by: str
    note: str


@dataclass(frozen=True)
class MemberPlan:
    username: str
    role: str
    joined_at: dt.datetime


@dataclass
class ProductPlan:
    slug: str
    name: str
    description: str
    portfolio: int
    market: str
    focus: str
    stage: str
    planned_budget: Decimal
    actual_spend: Decimal
    profile: str  # the health the product's latest KPI values add up to
    size: float  # scales volume KPIs
    owner: str = ""
    transitions: list[TransitionPlan] = field(default_factory=list)
    members: list[MemberPlan] = field(default_factory=list)
    targets: list[tuple[str, float]] = field(default_factory=list)  # (KPI name, target), in KPIS order


@dataclass
class OrganisationPlan:
    today: dt.date
    people: list[PersonPlan]
    directors: list[str]  # username per portfolio, in PORTFOLIOS order
    products: list[ProductPlan]
    # Per KPI (KPIS order): how far, in tolerances, the organisation improved over the window
    # (negative: it got worse). Gives the rollup history a story rather than a flat line.
    kpi_trends: list[float]
    troubled_kpis: list[tuple[int, ...]]  # per portfolio: indexes into KPIS


def demo_plan(*, products: int, seed: int, today: dt.date) -> OrganisationPlan:
    """Decide the whole organisation for ``products`` products, without touching the database.

    Who and what depend on ``seed`` alone; ``today`` only places the histories in time.
    """
    rng = random.Random(f"spm-demo:{seed}")
    people, directors = _plan_people(rng, product_count=products, today=today)
    product_plans = _plan_products(rng, count=products)
    _assign_owners_and_members(rng, products=product_plans, people=people, today=today)
    for product in product_plans:
        product.transitions = _plan_transitions(rng, product=product, directors=directors, today=today)
        _plan_targets(rng, product)
    kpi_trends = [rng.gauss(1.2, 0.6) if rng.random() < 0.75 else rng.gauss(-0.8, 0.4) for _ in KPIS]
    troubled = [tuple(sorted(rng.sample(range(len(KPIS)), TROUBLED_KPIS_PER_PORTFOLIO))) for _ in PORTFOLIOS]
    return OrganisationPlan(
        today=today,
        people=people,
        directors=directors,
        products=product_plans,
        kpi_trends=kpi_trends,
        troubled_kpis=troubled,
    )


def spread[T](rng: random.Random, values: Sequence[T], weights: Sequence[float], count: int) -> list[T]:
    """``count`` values in random order: each value at least once when ``count`` allows, the rest by weight."""
    chosen = list(values[:count])
    chosen += rng.choices(values, weights=weights, k=count - len(chosen))
    rng.shuffle(chosen)
    return chosen


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    """A working-hours moment (UTC) on ``day``."""
    return dt.datetime.combine(day, dt.time(rng.randint(8, 17), rng.randrange(0, 60, 5)), tzinfo=dt.UTC)


def _plan_people(
    rng: random.Random, *, product_count: int, today: dt.date
) -> tuple[list[PersonPlan], list[str]]:
    def joined(low: int, high: int) -> dt.datetime:
        return _at(today - dt.timedelta(days=rng.randint(low, high)), rng)

    portfolio_names = [spec.name for spec in PORTFOLIOS]
    # The demo logins: fixed names, fixed roles. ``director`` directs the first two portfolios.
    people = [
        PersonPlan(
            "admin", "Morgan", "Vance", Role.VP, "VP of product", joined(1500, 2000), is_superuser=True
        ),
        PersonPlan(
            "director",
            "Dana",
            "Okafor",
            Role.DIRECTOR,
            f"Director of product, {' & '.join(portfolio_names[:2])}",
            joined(900, 1500),
        ),
        PersonPlan("pm", "Priya", "Menon", Role.PM, f"PM, {portfolio_names[0]}", joined(300, 900), home=0),
        PersonPlan(
            "junior",
            "Jonas",
            "Weber",
            Role.JUNIOR_PM,
            f"Junior PM, {portfolio_names[0]}",
            joined(30, 200),
            home=0,
        ),
    ]
    taken = {(p.first_name, p.last_name) for p in people}

    def person(role: str, title: str, home: int | None, days: tuple[int, int]) -> PersonPlan:
        first, last = _unique_name(rng, taken)
        return PersonPlan(
            _unique_username(first, last, people), first, last, role, title, joined(*days), home=home
        )

    directors = ["director", "director"]
    for name in portfolio_names[2:]:
        director = person(Role.DIRECTOR, f"Director of product, {name}", None, (700, 1800))
        people.append(director)
        directors.append(director.username)
    people.append(person(Role.VP, "VP of product, Platform and Data", None, (1000, 2000)))

    ladder_count = max(product_count // 4 - len(people), len(LADDER))
    homes = spread(rng, range(len(PORTFOLIOS)), [spec.weight for spec in PORTFOLIOS], ladder_count)
    for role, home in zip(spread(rng, LADDER, LADDER_WEIGHTS, ladder_count), homes, strict=True):
        title = f"{Role(role).label}, {portfolio_names[home]}"
        people.append(person(role, title, home, (20, 1500)))
    return people, directors


def _unique_name(rng: random.Random, taken: set[tuple[str, str]]) -> tuple[str, str]:
    for _ in range(50):
        name = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
        if name not in taken:
            taken.add(name)
            return name
    # Thousands of people: the combinations run out, so names repeat and usernames get a number.
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _unique_username(first: str, last: str, people: Sequence[PersonPlan]) -> str:
    base = f"{first}.{last}".lower()
    existing = {p.username for p in people}
    username, number = base, 2
    while username in existing:
        username, number = f"{base}{number}", number + 1
    return username


def _plan_products(rng: random.Random, *, count: int) -> list[ProductPlan]:
    portfolios = spread(rng, range(len(PORTFOLIOS)), [spec.weight for spec in PORTFOLIOS], count)
    stages = spread(rng, list(Stage), STAGE_WEIGHTS, count)
    markets = spread(rng, list(Market), MARKET_WEIGHTS, count)
    focuses = spread(rng, list(Focus), FOCUS_WEIGHTS, count)
    names = {index: _name_pool(rng, spec) for index, spec in enumerate(PORTFOLIOS)}
    used_slugs: set[str] = set()
    plans = []
    for portfolio, stage, market, focus in zip(portfolios, stages, markets, focuses, strict=True):
        name, what = _next_name(names[portfolio], used_slugs)
        low, high = STAGE_BUDGET_K[stage]
        planned = Decimal(rng.randint(low // 5, high // 5) * 5_000)
        # Most products are under budget so far; some have overspent.
        ratio = rng.uniform(1.0, 1.3) if rng.random() < 0.12 else rng.uniform(0.25, 0.95)
        plans.append(
            ProductPlan(
                slug=slugify(name),
                name=name,
                description=f"{what}, built for {rng.choice(AUDIENCES[market])}.",
                portfolio=portfolio,
                market=market.value,
                focus=focus.value,
                stage=stage.value,
                planned_budget=planned.quantize(Decimal("0.01")),
                actual_spend=(planned * Decimal(f"{ratio:.6f}")).quantize(Decimal("0.01")),
                profile=rng.choices(PROFILES, weights=PORTFOLIOS[portfolio].health)[0],
                size=math.exp(rng.gauss(0, 0.6)) * STAGE_VOLUME[stage],
            )
        )
    return plans


def _name_pool(rng: random.Random, spec: PortfolioSpec) -> Iterator[tuple[str, str]]:
    """Endless product names for one portfolio: every prefix/noun pair once, then numbered ones."""
    pairs = [(prefix, noun, what) for prefix in NAME_PREFIXES for noun, what in spec.products]
    rng.shuffle(pairs)
    round_number = 1
    while True:
        for prefix, noun, what in pairs:
            suffix = "" if round_number == 1 else f" {round_number}"
            yield f"{prefix} {noun}{suffix}", what
        round_number += 1


def _next_name(pool: Iterator[tuple[str, str]], used_slugs: set[str]) -> tuple[str, str]:
    for name, what in pool:
        slug = slugify(name)
        if slug not in used_slugs:
            used_slugs.add(slug)
            return name, what
    raise AssertionError("name pools are endless")  # pragma: no cover


def _assign_owners_and_members(
    rng: random.Random, *, products: list[ProductPlan], people: list[PersonPlan], today: dt.date
) -> None:
    """Owners are PM-level people of the product's portfolio; members come from the same team.

    ``pm`` owns several products in the first portfolio and is a member of others; ``junior`` is a
    member of a few and owns none. Neither is picked at random, so their numbers are as planned.
    """
    count = len(products)
    pm_owns = min(max(count // 20, 4), 8, max(count // 2, 1))
    first_portfolio_first = sorted(range(count), key=lambda index: products[index].portfolio != 0)
    pm_owned = set(first_portfolio_first[:pm_owns])

    ladder = [p for p in people if p.home is not None and p.username not in {"pm", "junior"}]
    owners_by_home = {
        home: [p.username for p in ladder if p.home == home and p.role in OWNER_ROLES]
        for home in range(len(PORTFOLIOS))
    }
    all_owners = [p.username for p in ladder if p.role in OWNER_ROLES]
    team_by_home = {home: [p for p in ladder if p.home == home] for home in range(len(PORTFOLIOS))}
    next_owner = dict.fromkeys(owners_by_home, 0)
    for home in owners_by_home:
        rng.shuffle(owners_by_home[home])

    for index, product in enumerate(products):
        if index in pm_owned:
            product.owner = "pm"
        else:
            # Round-robin within the portfolio keeps every owner's load even.
            candidates = owners_by_home[product.portfolio] or all_owners
            product.owner = candidates[next_owner[product.portfolio] % len(candidates)]
            next_owner[product.portfolio] += 1
        team = [p for p in team_by_home[product.portfolio] if p.username != product.owner]
        if len(team) < 4:
            team += [p for p in ladder if p.home != product.portfolio and p.username != product.owner]
        size = rng.choices(list(MEMBER_COUNT_WEIGHTS), weights=list(MEMBER_COUNT_WEIGHTS.values()))[0]
        product.members = [
            MemberPlan(p.username, p.role, joined_at=_at(_joined_day(rng, today), rng))
            for p in rng.sample(team, min(size, len(team)))
        ]

    others = [index for index in first_portfolio_first if index not in pm_owned]
    pm_member_of = others[: min(3, len(others))]
    junior_member_of = sorted(pm_owned)[:2] + pm_member_of[:1]
    if len(junior_member_of) < 3:
        junior_member_of += [i for i in others if i not in junior_member_of][: 3 - len(junior_member_of)]
    for username, role, indexes in (
        ("pm", Role.PM, pm_member_of),
        ("junior", Role.JUNIOR_PM, junior_member_of),
    ):
        for index in indexes:
            product = products[index]
            if len(product.members) >= 4:
                product.members.pop(rng.randrange(len(product.members)))
            joined_at = _at(_joined_day(rng, today), rng)
            product.members.append(MemberPlan(username, role, joined_at=joined_at))


def _joined_day(rng: random.Random, today: dt.date) -> dt.date:
    # Within the last year, never today; _plan_transitions moves it to the product's creation if earlier.
    return today - dt.timedelta(days=rng.randint(1, 365))


def _plan_transitions(
    rng: random.Random, *, product: ProductPlan, directors: list[str], today: dt.date
) -> list[TransitionPlan]:
    """The stage history: "" -> problem -> ... -> the current stage, sometimes with one step back."""
    stages = list(Stage)
    current = Stage(product.stage)
    path = stages[: current.position + 1]
    if current.position >= 3 and rng.random() < 0.12:
        # One step back and forward again, e.g. feedback -> mvp -> feedback.
        back = rng.randint(3, current.position)
        path = [*path[: back + 1], stages[back - 1], *path[back:]]

    low, high = STAGE_DAYS[current]
    days_in_current = rng.randint(max(1, low // 3), int(high * 1.5))
    durations = [rng.randint(*STAGE_DAYS[stage]) for stage in path[:-1]]
    days_ago = days_in_current + sum(durations)
    transitions = []
    previous = ""
    for step, stage in enumerate(path):
        forward = not previous or Stage(previous).position < stage.position
        approver = directors[product.portfolio]
        by = approver if stage in (Stage.STRATEGY, Stage.EXECUTION) and rng.random() < 0.3 else product.owner
        transitions.append(
            TransitionPlan(
                from_stage=previous,
                to_stage=stage.value,
                at=_at(today - dt.timedelta(days=days_ago), rng),
                by=by,
                note=rng.choice(STAGE_NOTES[stage]) if forward else BACKWARD_NOTE,
            )
        )
        previous = stage.value
        if step < len(durations):
            days_ago -= durations[step]
    # Members cannot join before the product existed.
    created = transitions[0].at
    product.members = [
        member if member.joined_at >= created else MemberPlan(member.username, member.role, created)
        for member in product.members
    ]
    return transitions


def _plan_targets(rng: random.Random, product: ProductPlan) -> None:
    """Own targets for about half the products: volume KPIs sized to the product, a few rates tuned."""
    if rng.random() >= 0.55:
        return
    tuned = set(rng.sample([spec.name for spec in KPIS if not spec.volume], rng.randint(0, 2)))
    for spec in KPIS:
        if spec.volume:
            product.targets.append((spec.name, round_significant(spec.default_target * product.size, 2)))
        elif spec.name in tuned:
            # Within one tolerance of the default: a team's stretch goal or a known handicap.
            nudged = spec.default_target * (1 + rng.uniform(-1, 1) * spec.tolerance_fraction)
            product.targets.append((spec.name, round(min(nudged, spec.cap or nudged), spec.decimals)))
