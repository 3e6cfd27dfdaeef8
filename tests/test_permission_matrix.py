"""Every URL in the URL conf x every role x GET/POST answers what docs/permissions.md says.

The URL patterns come from the URL conf itself: a new URL without an entry in ``EXPECTED`` fails
``test_every_url_has_an_entry``. The Django admin is Django's (its own model permissions); only its index is in
the matrix, and ``tests/products/test_staff.py`` checks the role groups. A refused POST changes nothing.
"""

from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from lifecycle.models import StageTransition
from portfolio.models import KPITarget, Measurement, Objective
from products.choices import Role, Stage
from products.models import Membership, Product
from products.staff import role_groups_assign
from tests.factories import (
    KPIFactory,
    MeasurementFactory,
    MembershipFactory,
    PortfolioFactory,
    ProductFactory,
    RollupFactory,
    UserFactory,
)
from tests.lifecycle import lifecycle_matrix
from tests.lifecycle.factories import fill_gates
from tests.portfolio import alerts_matrix, import_matrix, strategy_matrix

# The people of the matrix. "Member" and "owner" are about the one product every product URL names.
ANONYMOUS = "anonymous"
INTERN = "intern"  # on the ladder, not on the product
ASSOCIATE = "associate_pm"  # on the ladder, not on the product
JUNIOR = "junior_pm (member)"
PM_OWNER = "pm (owner)"
PM_OTHER = "pm (not on the product)"
SENIOR = "senior_pm (member)"
PRODUCT_OWNER = "product_owner (member)"
DIRECTOR = "director (directs the portfolio)"
DIRECTOR_OTHER = "director (another portfolio)"
VP = "vp"
SUPERUSER = "superuser"
ROLES = [
    ANONYMOUS,
    INTERN,
    ASSOCIATE,
    JUNIOR,
    PM_OWNER,
    PM_OTHER,
    SENIOR,
    PRODUCT_OWNER,
    DIRECTOR,
    DIRECTOR_OTHER,
    VP,
    SUPERUSER,
]
SIGNED_IN = [role for role in ROLES if role != ANONYMOUS]
#: Who edits the product, moves it between stages and sets its targets.
EDITORS = {PM_OWNER, SENIOR, PRODUCT_OWNER, DIRECTOR, VP, SUPERUSER}
#: Who records its measurements (and work products): its editors and its junior members.
RECORDERS = EDITORS | {JUNIOR}
#: Staff (as the demo seed makes them): superusers, VPs and directors.
STAFF = {DIRECTOR, DIRECTOR_OTHER, VP, SUPERUSER}

LOGIN = "login"  # a redirect to the sign-in page
ADMIN_LOGIN = "admin-login"  # a redirect to the admin's sign-in page
REDIRECT = "redirect"  # a redirect elsewhere (a saved form, an export's canonical URL)


def everyone(status, anonymous=LOGIN) -> dict[str, object]:
    return {ANONYMOUS: anonymous, **dict.fromkeys(SIGNED_IN, status)}


def only(allowed: set[str], status, denied=403) -> dict[str, object]:
    return {ANONYMOUS: LOGIN, **{role: status if role in allowed else denied for role in SIGNED_IN}}


@dataclass
class Request:
    """One concrete request of a URL pattern: a query string, htmx headers, POST data."""

    query: str = ""
    htmx_target: str | None = None
    data: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        parts = [f"?{self.query}" if self.query else "", f"#{self.htmx_target}" if self.htmx_target else ""]
        return "".join(parts) or "page"


@dataclass
class Entry:
    """What a URL pattern answers each role: ``get`` / ``post`` map role -> status for every request listed."""

    get: dict[str, object]
    post: dict[str, object]
    gets: list[Request] = field(default_factory=lambda: [Request()])
    posts: list[Request] = field(default_factory=lambda: [Request()])
    changes_on_post: bool = False  # an allowed POST writes (and must have written)


PAGE_PARTIAL_CSV = [Request(), Request(htmx_target="product-table"), Request(query="format=csv")]
KPI = "Active users"
PERIOD = dt.date(2026, 1, 5)

EXPECTED: dict[str, Entry] = {
    # Portfolio-wide pages: every signed-in person sees the whole portfolio (money only where allowed).
    "portfolio:dashboard": Entry(
        get={**everyone(200)},
        post=everyone(405),
        gets=[
            Request(),
            Request(htmx_target="product-table"),
            Request(htmx_target="dashboard-results"),
        ],
    ),
    "portfolio:rollups": Entry(
        get=everyone(200),
        post=everyone(405),
        gets=[Request(), Request(htmx_target="rollups-results"), Request(query="format=csv")],
    ),
    "portfolio:rollup-cell": Entry(
        get=everyone(200),
        post=everyone(405),
        gets=[
            Request(query=f"kpi={KPI}&scope=organisation&key=all&grain=native&period={PERIOD}"),
            Request(
                query=f"kpi={KPI}&scope=organisation&key=all&grain=native&period={PERIOD}",
                htmx_target="rollup-cell",
            ),
        ],
    ),
    "portfolio:kpis": Entry(
        get=everyone(200),
        post=everyone(405),
        gets=[Request(), Request(htmx_target="kpi-table"), Request(query="format=csv")],
    ),
    "portfolio:measurements": Entry(
        get=everyone(200),
        post=everyone(405),
        gets=[Request(), Request(htmx_target="measurement-table"), Request(query="format=csv")],
    ),
    "products:list": Entry(get=everyone(200), post=everyone(405), gets=PAGE_PARTIAL_CSV),
    "lifecycle:board": Entry(
        get=everyone(200), post=everyone(405), gets=[Request(), Request(htmx_target="board-region")]
    ),
    # One product: everyone sees it; its editors edit and move it; its editors and members record KPI values.
    "products:detail": Entry(get=everyone(200), post=everyone(405)),
    "products:history": Entry(
        get=everyone(200), post=everyone(405), gets=[Request(), Request(htmx_target="product-history")]
    ),
    "products:edit": Entry(
        get=only(EDITORS, 200),
        post=only(EDITORS, REDIRECT),
        gets=[Request(), Request(htmx_target="product-edit")],
        posts=[
            Request(
                data={
                    "name": "Renamed",
                    "description": "",
                    "market": "b2c",
                    "focus": "design",
                    "planned_budget": "1",
                    "actual_spend": "2",
                    "version": "1",
                }
            )
        ],
        changes_on_post=True,
    ),
    "products:measurement-create": Entry(
        get=everyone(405),
        post=only(RECORDERS, REDIRECT),
        # A period without a value yet: replacing one asks for a confirmation first (a 200, no change).
        posts=[Request(data={"kpi": "<kpi>", "period": str(PERIOD + dt.timedelta(days=7)), "value": "42"})],
        changes_on_post=True,
    ),
    "lifecycle:move": Entry(
        get=everyone(405),
        post=only(EDITORS, REDIRECT),
        posts=[Request(data={"to": Stage.OPPORTUNITY, "note": ""})],
        changes_on_post=True,
    ),
    # Accounts and operations.
    "login": Entry(get=everyone(REDIRECT, anonymous=200), post=everyone(REDIRECT, anonymous=200)),
    # Signing out is a POST; it (and the sign-in page an anonymous visitor is sent to) lands on the login page.
    "logout": Entry(get=everyone(405), post=everyone(LOGIN)),
    "healthz": Entry(get=everyone(200, anonymous=200), post=everyone(405, anonymous=405)),
    # The admin: staff only; each admin page then checks Django's model permissions (the role groups).
    "admin:index": Entry(
        get={ANONYMOUS: ADMIN_LOGIN, **{r: 200 if r in STAFF else ADMIN_LOGIN for r in SIGNED_IN}},
        post={ANONYMOUS: ADMIN_LOGIN, **{r: 200 if r in STAFF else ADMIN_LOGIN for r in SIGNED_IN}},
    ),
}

# Objectives, investment, priorities and scenarios (issue 7).
EXPECTED.update(strategy_matrix.entries(sys.modules[__name__]))
# CSV imports (issue 8).
EXPECTED.update(import_matrix.entries(sys.modules[__name__]))
# Lifecycle work products, the stage move from the product page, lifecycle analytics (issue 6).
EXPECTED.update(lifecycle_matrix.entries(sys.modules[__name__]))
# The inbox, the bell and following (issue 17).
EXPECTED.update(alerts_matrix.entries(sys.modules[__name__]))


def url_patterns() -> dict[str, str]:
    """Qualified URL name (or route) -> route, for every pattern outside the admin, plus the admin index."""
    found: dict[str, str] = {}

    def walk(patterns, namespace: str, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                if pattern.namespace == "admin":
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner, route)
            elif isinstance(pattern, URLPattern):
                found[f"{namespace}{pattern.name}" if pattern.name else route] = route

    walk(get_resolver().url_patterns, "", "/")
    found["admin:index"] = "/admin/"
    return found


def test_every_url_has_an_entry():
    patterns = url_patterns()
    missing = sorted(set(patterns) - set(EXPECTED))
    assert not missing, (
        f"URL patterns without an entry in tests/test_permission_matrix.py EXPECTED: {missing} "
        f"(routes: {[patterns[name] for name in missing]}). Add who may GET and POST them, and the row to "
        "docs/permissions.md."
    )
    stale = sorted(set(EXPECTED) - set(patterns))
    assert not stale, f"EXPECTED names URLs that the URL conf no longer has: {stale}"
    for name, entry in EXPECTED.items():
        for method, table in (("GET", entry.get), ("POST", entry.post)):
            assert set(table) == set(ROLES), f"{name} {method}: every role needs a status"


@dataclass
class World:
    product: Product
    kpi: object
    people: dict


@pytest.fixture
def world(db) -> World:
    directed = PortfolioFactory(director=UserFactory(username="director-a", role=Role.DIRECTOR))
    PortfolioFactory(director=UserFactory(username="director-b", role=Role.DIRECTOR))
    owner = UserFactory(username="pm-owner", role=Role.PM)
    product = ProductFactory(
        slug="target", name="Target", portfolio=directed, owner=owner, stage=Stage.PROBLEM
    )
    fill_gates(product)  # its gates are met: a forward move is about who may make it
    kpi = KPIFactory(name=KPI)
    MeasurementFactory(product=product, kpi=kpi, period=PERIOD, value=10)
    RollupFactory(kpi=kpi, period=PERIOD)
    people = {
        INTERN: UserFactory(username="intern", role=Role.INTERN),
        ASSOCIATE: UserFactory(username="associate", role=Role.ASSOCIATE_PM),
        JUNIOR: MembershipFactory(
            product=product, user=UserFactory(username="junior", role=Role.JUNIOR_PM), role=Role.JUNIOR_PM
        ).user,
        PM_OWNER: owner,
        PM_OTHER: UserFactory(username="pm-other", role=Role.PM),
        SENIOR: MembershipFactory(
            product=product, user=UserFactory(username="senior", role=Role.SENIOR_PM), role=Role.SENIOR_PM
        ).user,
        PRODUCT_OWNER: MembershipFactory(
            product=product,
            user=UserFactory(username="po", role=Role.PRODUCT_OWNER),
            role=Role.PRODUCT_OWNER,
        ).user,
        DIRECTOR: UserFactory(username="director-a"),
        DIRECTOR_OTHER: UserFactory(username="director-b"),
        VP: UserFactory(username="vp", role=Role.VP, is_staff=True),
        SUPERUSER: UserFactory(username="root", role=Role.PM, is_staff=True, is_superuser=True),
    }
    for director in (people[DIRECTOR], people[DIRECTOR_OTHER]):
        director.is_staff = True
        director.save(update_fields=["is_staff"])
    role_groups_assign(users=people.values())
    return World(product=product, kpi=kpi, people=people)


def state() -> tuple:
    """Everything a POST of the matrix could change."""
    return (
        list(
            Product.objects.order_by("pk").values_list("name", "stage", "planned_budget", "market", "version")
        ),
        Measurement.objects.count(),
        list(Measurement.objects.order_by("pk").values_list("value", flat=True)),
        StageTransition.objects.count(),
        Membership.objects.count(),
        KPITarget.objects.count(),
        Objective.objects.count(),
        strategy_matrix.state(),
        import_matrix.state(),
        lifecycle_matrix.state(),
        alerts_matrix.state(),
    )


def url_for(name: str, world: World) -> str:
    route = url_patterns()[name]
    route = alerts_matrix.fill(lifecycle_matrix.fill(import_matrix.fill(route, world), world), world)
    return strategy_matrix.fill(route.replace("<slug:slug>", world.product.slug), world)


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def check_status(response, expected, *, where: str) -> None:
    if expected == LOGIN:
        assert response.status_code == 302, where
        assert response["Location"].startswith("/accounts/login/"), where
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302, where
        assert response["Location"].startswith("/admin/login/"), where
    elif expected == REDIRECT:
        assert response.status_code == 302, f"{where}: {response.status_code}"
        assert not response["Location"].startswith(("/accounts/login/", "/admin/login/")), where
    else:
        assert response.status_code == expected, f"{where}: answered {response.status_code}"


CASES = [(name, role, method) for name in EXPECTED for role in ROLES for method in ("GET", "POST")]


@pytest.mark.parametrize(("name", "role", "method"), CASES, ids=[" ".join(case) for case in CASES])
def test_matrix(client, world, name, role, method):
    entry = EXPECTED[name]
    if role != ANONYMOUS:
        client.force_login(world.people[role])
    url = url_for(name, world)
    expected = (entry.get if method == "GET" else entry.post)[role]
    for request in entry.gets if method == "GET" else entry.posts:
        headers = {"HX-Request": "true", "HX-Target": request.htmx_target} if request.htmx_target else {}
        query = strategy_matrix.placeholder(request.query, world)
        target = f"{url}?{query}" if query else url
        where = f"{method} {target} {request.label} as {role}"
        before = state()
        if method == "GET":
            response = client.get(target, headers=headers)
        else:
            data = {
                k: (str(world.kpi.pk) if v == "<kpi>" else strategy_matrix.placeholder(v, world))
                for k, v in request.data.items()
            }
            response = client.post(target, data, headers=headers)
        check_status(response, expected, where=where)
        if method == "GET" and response.status_code == 200:
            assert body(response), f"{where}: an empty answer"
        if method == "POST":
            wrote = entry.changes_on_post and expected == REDIRECT
            assert (state() != before) == wrote, f"{where}: {'nothing was written' if wrote else 'it wrote'}"
