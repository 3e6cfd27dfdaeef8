"""The daily scans beyond stuck products: roadmap items, releases and milestones newly late, and products whose
spend this year is more than 15 % off their plan to date. Each tells the product's people once, and money only
to those who may see the product's budget."""

import datetime as dt
from decimal import Decimal

import pytest

from lifecycle.models import Milestone, MilestoneStatus, Release, ReleaseStatus, RoadmapItem, RoadmapStatus
from portfolio.alerts.services import follow_set, roadmap_late_notify
from portfolio.choices import EventKind
from portfolio.models import Notification
from portfolio.strategy.services.budgets import budget_line_set, budgets_burn_notify
from products.choices import Role
from tests.factories import PortfolioFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 12, 8)


@pytest.fixture
def people():
    director = UserFactory(username="dora", role=Role.DIRECTOR)
    vp = UserFactory(username="vera", role=Role.VP)
    owner = UserFactory(username="olga", role=Role.PM)
    follower = UserFactory(username="finn", role=Role.PM)
    portfolio = PortfolioFactory(name="Payments", slug="payments", director=director)
    atlas = ProductFactory(name="Atlas", slug="atlas", portfolio=portfolio, owner=owner)
    return {"director": director, "vp": vp, "owner": owner, "follower": follower, "atlas": atlas}


def heard(kind) -> dict[str, list[str]]:
    rows = Notification.objects.filter(kind=kind).order_by("recipient__username", "pk")
    told: dict[str, list[str]] = {}
    for username, sentence in rows.values_list("recipient__username", "sentence"):
        told.setdefault(username, []).append(sentence)
    return told


def test_a_roadmap_item_release_or_milestone_newly_late_is_told_once(people):
    atlas = people["atlas"]
    RoadmapItem.objects.create(product=atlas, title="Refunds API", target_date=dt.date(2026, 12, 1))
    RoadmapItem.objects.create(
        product=atlas, title="Done already", target_date=dt.date(2026, 12, 1), status=RoadmapStatus.DONE
    )
    RoadmapItem.objects.create(product=atlas, title="Next year", target_date=dt.date(2027, 1, 15))
    RoadmapItem.objects.create(product=atlas, title="Ancient", target_date=dt.date(2026, 3, 1))  # long known
    Release.objects.create(product=atlas, name="2.0", planned_date=dt.date(2026, 12, 7))
    Release.objects.create(
        product=atlas, name="1.9", planned_date=dt.date(2026, 12, 2), status=ReleaseStatus.SHIPPED
    )
    Milestone.objects.create(
        product=atlas, title="Beta", planned_date=dt.date(2026, 11, 20), status=MilestoneStatus.MISSED
    )
    roadmap_late_notify(today=TODAY)
    roadmap_late_notify(today=TODAY + dt.timedelta(days=1))  # the next morning finds them again
    told = heard(EventKind.ROADMAP_LATE)
    assert sorted(told["olga"]) == [
        "Atlas's milestone “Beta” is late: it was planned for 20 Nov 2026.",  # missed still counts as late
        "Atlas's release “2.0” is late: it was planned for 7 Dec 2026.",
        "Atlas's roadmap item “Refunds API” is late: it was planned for 1 Dec 2026.",
    ]  # not what is done or shipped, not next year's, not March's (long known)
    assert set(told) == {"olga", "dora", "vera"}
    note = Notification.objects.filter(kind=EventKind.ROADMAP_LATE, recipient=people["owner"]).first()
    assert note.url == "/portfolio/roadmap/?late=on&portfolio=payments"


def test_a_release_moved_to_a_new_date_and_late_again_is_news_again(people):
    release = Release.objects.create(product=people["atlas"], name="2.0", planned_date=dt.date(2026, 12, 1))
    roadmap_late_notify(today=TODAY)
    release.planned_date = dt.date(2026, 12, 10)
    release.save()
    roadmap_late_notify(today=dt.date(2026, 12, 11))
    assert len(heard(EventKind.ROADMAP_LATE)["olga"]) == 2


def lines(product, actuals: list[int], planned: int = 1000):
    for quarter, actual in zip((1, 4, 7, 10), actuals, strict=True):
        budget_line_set(
            product=product,
            quarter=dt.date(2026, quarter, 1),
            kind="opex",
            planned=Decimal(planned),
            actual=Decimal(actual),
            by=None,
        )


def test_spend_more_than_fifteen_percent_off_plan_is_told_to_those_who_may_see_the_budget(people):
    atlas = people["atlas"]
    follow_set(user=people["follower"], thing=atlas, mode="follow")  # follows it, but may not see its money
    on_plan = ProductFactory(name="Beacon", slug="beacon", portfolio=atlas.portfolio, owner=people["owner"])
    under = ProductFactory(name="Comet", slug="comet", portfolio=atlas.portfolio, owner=people["owner"])
    lines(atlas, [1000, 1000, 1000, 2000])  # 5,000 spent against about 3,740 planned to date
    lines(on_plan, [1000, 1000, 1000, 740])
    lines(under, [500, 500, 500, 0])
    budgets_burn_notify(today=TODAY)
    budgets_burn_notify(today=TODAY + dt.timedelta(days=1))  # found again: not news
    told = heard(EventKind.BUDGET_BURN)
    assert set(told) == {"olga", "dora", "vera"}  # not finn, who follows Atlas but may not see its budget
    assert len(told["olga"]) == 2
    [atlas_sentence] = [s for s in told["olga"] if s.startswith("Atlas")]
    assert atlas_sentence.startswith(
        "Atlas has spent 134 % of its plan to date for 2026 (€5,000 against €3,7"
    )
    assert atlas_sentence.endswith("34 % over plan.")
    [comet_sentence] = [s for s in told["olga"] if s.startswith("Comet")]
    assert comet_sentence.endswith("% under plan.")
    assert not any(s.startswith("Beacon") for s in told["olga"])
    note = Notification.objects.filter(kind=EventKind.BUDGET_BURN, recipient=people["vp"]).first()
    assert note.url.startswith("/portfolio/investment/")


def test_a_key_result_off_target_is_told_to_leadership_once_a_quarter(people):
    from portfolio.models import KeyResult
    from portfolio.strategy.services.key_results import key_results_off_notify
    from tests.factories import KPIFactory, ObjectiveFactory, RollupFactory

    kpi = KPIFactory(name="Active users", unit="", default_target=1000, tolerance=10)
    portfolio = people["atlas"].portfolio
    objective = ObjectiveFactory(title="Win the mid-market", portfolio=portfolio)
    KeyResult.objects.create(objective=objective, title="Reach 1,000 active users", kpi=kpi, target=1000)
    KeyResult.objects.create(objective=objective, title="Hold 750 active users", kpi=kpi, target=750)
    RollupFactory(
        kpi=kpi, scope="portfolio", scope_key=portfolio.slug, period=dt.date(2026, 11, 30), value=700
    )
    key_results_off_notify(today=TODAY)
    key_results_off_notify(today=TODAY + dt.timedelta(days=1))
    told = heard(EventKind.KEY_RESULT_OFF)
    assert set(told) == {"dora", "vera"}  # the portfolio's director and the VPs; not the PMs
    assert told["dora"] == [
        "Key result “Reach 1,000 active users” of “Win the mid-market” (Payments) is off target: "
        "Active users is 700 against 1,000."
    ]  # 700 is within the 10 % tolerance of 750: at risk, not told
    note = Notification.objects.get(recipient=people["vp"], kind=EventKind.KEY_RESULT_OFF)
    assert note.why == "VPs hear about every portfolio's key results."
    assert note.url == "/portfolio/objectives/?portfolio=payments"
