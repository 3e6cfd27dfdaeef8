"""The demo seeder's contract: ``manage.py seed_demo --products N --months M --seed S``."""

import dataclasses
import datetime as dt
import io
import itertools
import random
from decimal import Decimal

import pytest
from django.core.management import call_command, get_commands
from django.core.management.base import CommandError
from django.db.models import Count
from django.http import HttpRequest

from lifecycle.models import StageTransition
from portfolio.choices import Frequency
from portfolio.demo.kpi_history import AT_RISK, OFF_TARGET, ON_TARGET, demo_periods, kpi_history, season_shape
from portfolio.demo.kpi_specs import KPIS
from portfolio.kpis.rules import rollup_status
from portfolio.models import KPI, KeyResult, KPITarget, Measurement, Objective, Portfolio, Rollup
from products.choices import Focus, Market, Role, Stage
from products.models import Membership, Product, User
from tests.factories import ProductFactory, UserFactory

TODAY = "2026-03-18"  # a Wednesday
PASSWORD = "demo-password-for-tests"
OWNER_ROLES = {Role.PM, Role.SENIOR_PM, Role.PRODUCT_OWNER}


def seed(*extra: str, products: int = 12, months: int = 2, seed: int = 1, today: str = TODAY) -> str:
    stdout = io.StringIO()
    call_command(
        "seed_demo",
        "--products", str(products),
        "--months", str(months),
        "--seed", str(seed),
        "--today", today,
        "--no-rollups",
        *extra,
        stdout=stdout,
        stderr=io.StringIO(),
    )  # fmt: skip
    return stdout.getvalue()


def snapshot() -> dict[str, list[tuple]]:
    """Everything the seeder writes, by natural keys (ids, updated_at and password salts vary)."""
    return {
        "users": list(
            User.objects.order_by("username").values_list(
                "username", "first_name", "last_name", "email", "role", "title", "is_superuser", "date_joined"
            )
        ),
        "portfolios": list(
            Portfolio.objects.order_by("slug").values_list(
                "slug", "name", "description", "director__username", "budget"
            )
        ),
        "objectives": list(
            Objective.objects.order_by("portfolio__slug", "order").values_list(
                "portfolio__slug", "title", "order", "target_date"
            )
        ),
        "kpis": list(
            KPI.objects.order_by("name").values_list(
                "name",
                "unit",
                "direction",
                "aggregation",
                "time_aggregation",
                "default_target",
                "tolerance",
                "frequency",
                "is_key",
            )
        ),
        "products": list(
            Product.objects.order_by("slug").values_list(
                "slug",
                "name",
                "description",
                "portfolio__slug",
                "owner__username",
                "market",
                "focus",
                "stage",
                "stage_entered_at",
                "planned_budget",
                "actual_spend",
                "created_at",
            )
        ),
        "transitions": list(
            StageTransition.objects.order_by("product__slug", "at").values_list(
                "product__slug", "from_stage", "to_stage", "at", "by__username", "note"
            )
        ),
        "memberships": list(
            Membership.objects.order_by("product__slug", "user__username").values_list(
                "product__slug", "user__username", "role", "joined_at"
            )
        ),
        "targets": list(
            KPITarget.objects.order_by("product__slug", "kpi__name").values_list(
                "product__slug", "kpi__name", "target"
            )
        ),
        "key_results": list(
            KeyResult.objects.order_by("objective__portfolio__slug", "objective__order", "order").values_list(
                "objective__title", "kpi__name", "target", "title"
            )
        ),
        "measurements": list(
            Measurement.objects.order_by("product__slug", "kpi__name", "period").values_list(
                "product__slug", "kpi__name", "period", "value", "recorded_at", "recorded_by__username"
            )
        ),
    }


@pytest.fixture
def demo_password(settings):
    settings.SPM_DEMO_PASSWORD = PASSWORD
    return PASSWORD


@pytest.fixture
def seeded(db, demo_password):
    return seed()


# --------------------------------------------------------------------------------------------------
# Determinism and replacement
# --------------------------------------------------------------------------------------------------


def test_same_seed_and_today_give_identical_data(db, demo_password):
    seed()
    first = snapshot()
    seed()
    second = snapshot()

    assert first["measurements"], "the seeder wrote no measurements"
    for table, rows in first.items():
        assert second[table] == rows, f"{table} differ between two runs with the same seed"


def test_a_different_seed_gives_a_different_organisation(db, demo_password):
    seed(seed=1)
    first = snapshot()
    seed(seed=2)
    second = snapshot()

    assert [p[1] for p in second["products"]] != [p[1] for p in first["products"]]
    assert [m[3] for m in second["measurements"]] != [m[3] for m in first["measurements"]]


def test_reseeding_replaces_everything_instead_of_adding(db, demo_password):
    stranger = UserFactory(username="someone-else", role=Role.INTERN)
    stray = ProductFactory(slug="not-a-demo-product")
    seed()
    counts = {model: model.objects.count() for model in (User, Portfolio, Product, Measurement)}
    seed()

    assert {model: model.objects.count() for model in counts} == counts
    assert not User.objects.filter(pk=stranger.pk).exists()
    assert not Product.objects.filter(pk=stray.pk).exists()
    assert Portfolio.objects.filter(slug__startswith="portfolio-").count() == 0  # the factory's portfolio


def test_if_empty_leaves_an_existing_database_alone(db, demo_password):
    UserFactory(username="someone-else")
    output = seed("--if-empty")

    assert "nothing seeded" in output
    assert "--if-empty" not in output  # a person who ran `make run` never typed it
    assert "logins are admin, director, pm and junior" in output
    assert list(User.objects.values_list("username", flat=True)) == ["someone-else"]
    assert not Product.objects.exists()


def test_if_empty_seeds_an_empty_database(db, demo_password):
    seed("--if-empty")

    assert Product.objects.count() == 12


# --------------------------------------------------------------------------------------------------
# The organisation
# --------------------------------------------------------------------------------------------------


def test_every_stage_market_focus_and_role_is_present(seeded):
    assert set(Product.objects.values_list("stage", flat=True)) == set(Stage.values)
    assert set(Product.objects.values_list("market", flat=True)) == set(Market.values)
    assert set(Product.objects.values_list("focus", flat=True)) == set(Focus.values)
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)


def test_portfolios_have_directors_and_objectives(seeded):
    portfolios = Portfolio.objects.annotate(n_objectives=Count("objectives"))

    assert 4 <= len(portfolios) <= 6
    for portfolio in portfolios:
        assert portfolio.director.role == Role.DIRECTOR
        assert 3 <= portfolio.n_objectives <= 5
        assert portfolio.budget > 0
    assert Objective.objects.filter(portfolio=None).count() == 2


def test_products_have_a_pm_level_owner_and_one_to_four_members(seeded):
    for product in Product.objects.select_related("owner").prefetch_related("memberships__user"):
        assert product.owner.role in OWNER_ROLES
        members = list(product.memberships.all())
        assert 1 <= len(members) <= 4, product
        assert product.owner not in [m.user for m in members]
        assert all(m.role in Role.values for m in members)
        assert all(m.joined_at >= product.created_at for m in members)


def test_money_is_decimal_with_two_places_and_never_negative(seeded):
    for planned, actual in Product.objects.values_list("planned_budget", "actual_spend"):
        assert isinstance(planned, Decimal)
        assert planned.as_tuple().exponent == -2
        assert actual.as_tuple().exponent == -2
        assert planned > 0
        assert actual >= 0


def test_stage_histories_walk_from_problem_to_the_current_stage(seeded):
    midnight = dt.datetime(2026, 3, 18, tzinfo=dt.UTC)
    for product in Product.objects.prefetch_related("transitions"):
        transitions = sorted(product.transitions.all(), key=lambda t: t.at)
        assert transitions[0].from_stage == ""
        assert transitions[0].to_stage == Stage.PROBLEM
        for previous, current in itertools.pairwise(transitions):
            assert current.from_stage == previous.to_stage
            assert current.at > previous.at
        assert transitions[-1].to_stage == product.stage
        assert product.stage_entered_at == transitions[-1].at
        assert product.created_at == transitions[0].at
        assert transitions[-1].at < midnight
        assert all(t.by_id is not None for t in transitions)


# --------------------------------------------------------------------------------------------------
# The demo logins
# --------------------------------------------------------------------------------------------------


def test_demo_users_have_their_roles_and_relationships(seeded):
    admin = User.objects.get(username="admin")
    director = User.objects.get(username="director")
    pm = User.objects.get(username="pm")
    junior = User.objects.get(username="junior")

    assert admin.is_superuser
    assert admin.is_staff
    assert admin.role == Role.VP
    assert director.role == Role.DIRECTOR
    assert director.directed_portfolios.exists()
    assert pm.role == Role.PM
    assert 4 <= pm.owned_products.count() <= 8
    assert pm.member_of.exclude(owner=pm).count() >= 1
    assert junior.role == Role.JUNIOR_PM
    assert not junior.owned_products.exists()
    assert 2 <= junior.member_of.count() <= 5
    assert not any(u.is_superuser for u in (director, pm, junior))


def test_demo_password_from_settings_logs_in(seeded, client):
    # django-axes checks every authentication against its request: the test client's login needs one.
    for username in ("admin", "director", "pm", "junior"):
        assert client.login(request=HttpRequest(), username=username, password=PASSWORD), username
    assert not client.login(request=HttpRequest(), username="pm", password="demo")


def test_debug_without_a_password_defaults_to_demo(db, settings, client):
    settings.DEBUG = True
    settings.SPM_DEMO_PASSWORD = ""
    output = seed()

    assert client.login(request=HttpRequest(), username="junior", password="demo")
    assert '"demo"' in output


def test_outside_debug_without_a_password_refuses_and_keeps_data(db, settings):
    settings.DEBUG = False
    settings.SPM_DEMO_PASSWORD = ""
    existing = UserFactory(username="keep-me")

    with pytest.raises(CommandError, match="SPM_DEMO_PASSWORD"):
        seed()
    assert User.objects.filter(pk=existing.pk).exists()
    assert not Product.objects.exists()


def test_output_lists_the_logins_and_stderr_shows_progress(db, demo_password):
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "seed_demo", "--products", "8", "--months", "1", "--today", TODAY, "--no-rollups",
        stdout=stdout, stderr=stderr,
    )  # fmt: skip

    for username in ("admin", "director", "pm", "junior"):
        assert f"  {username} " in stdout.getvalue()
    assert "password SPM_DEMO_PASSWORD" in stdout.getvalue()
    assert PASSWORD not in stdout.getvalue()
    assert "KPI history" in stderr.getvalue()
    assert "8/8" in stderr.getvalue()


# --------------------------------------------------------------------------------------------------
# KPIs and measurements
# --------------------------------------------------------------------------------------------------


def test_kpi_definitions_cover_every_kind(seeded):
    kpis = list(KPI.objects.all())

    assert 15 <= len(kpis) <= 25
    assert 1 <= sum(k.is_key for k in kpis) <= 2
    assert {k.direction for k in kpis} == {"higher", "lower"}
    assert {k.aggregation for k in kpis} == {"sum", "avg", "min", "max"}
    assert {k.time_aggregation for k in kpis} == {"sum", "avg", "last"}
    assert {k.frequency for k in kpis} == {Frequency.WEEKLY, Frequency.MONTHLY}
    assert all(k.default_target is not None and k.tolerance > 0 for k in kpis)
    assert 0 < KPITarget.objects.values("product").distinct().count() < Product.objects.count()


def test_every_product_has_every_kpi_in_every_period(seeded):
    weekly = demo_periods(today=dt.date(2026, 3, 18), months=2, frequency=Frequency.WEEKLY)
    monthly = demo_periods(today=dt.date(2026, 3, 18), months=2, frequency=Frequency.MONTHLY)
    n_weekly = KPI.objects.filter(frequency=Frequency.WEEKLY).count()
    n_monthly = KPI.objects.filter(frequency=Frequency.MONTHLY).count()

    assert weekly[-1] == dt.date(2026, 3, 16)  # the Monday of the anchor's week
    assert all(day.weekday() == 0 for day in weekly)
    assert len(weekly) == 9
    assert monthly == [dt.date(2026, 2, 1), dt.date(2026, 3, 1)]
    expected = 12 * (n_weekly * len(weekly) + n_monthly * len(monthly))
    assert Measurement.objects.count() == expected
    weekly_periods = set(Measurement.objects.filter(kpi__frequency="weekly").values_list("period", flat=True))
    assert weekly_periods == set(weekly)
    monthly_periods = set(
        Measurement.objects.filter(kpi__frequency="monthly").values_list("period", flat=True)
    )
    assert monthly_periods == set(monthly)


def test_measurements_are_unique_per_product_kpi_and_period(seeded):
    duplicates = (
        Measurement.objects.values("product", "kpi", "period").annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert not duplicates.exists()


def test_measurements_are_recorded_by_the_owner_never_in_the_future(seeded):
    anchor = dt.datetime(2026, 3, 18, tzinfo=dt.UTC)
    rows = Measurement.objects.values_list("recorded_by", "product__owner", "recorded_at", "period")

    assert all(recorded_by == owner for recorded_by, owner, _, _ in rows)
    assert all(recorded_at <= anchor for _, _, recorded_at, _ in rows)
    assert all(recorded_at.date() >= period for _, _, recorded_at, period in rows)


def test_products_end_on_target_at_risk_and_off_target(db, demo_password):
    seed(products=60)
    statuses = []
    for product in Product.objects.prefetch_related("kpi_targets"):
        own = {t.kpi_id: t.target for t in product.kpi_targets.all()}
        worst = ON_TARGET
        for kpi in KPI.objects.all():
            latest = Measurement.objects.filter(product=product, kpi=kpi).latest("period")
            status = rollup_status(
                value=latest.value,
                target=own.get(kpi.pk, kpi.default_target),
                direction=kpi.direction,
                tolerance=float(kpi.tolerance),
            )
            worst = max(worst, status, key=[ON_TARGET, AT_RISK, OFF_TARGET].index)
        statuses.append(worst)

    assert {ON_TARGET, AT_RISK, OFF_TARGET} <= set(statuses)


@pytest.mark.parametrize("spec", KPIS, ids=[spec.name for spec in KPIS])
@pytest.mark.parametrize("status", [ON_TARGET, AT_RISK, OFF_TARGET])
def test_kpi_history_ends_with_the_planned_status(spec, status):
    rng = random.Random(7)
    for _ in range(20):
        target = spec.default_target * rng.uniform(0.5, 2.0) if spec.volume else spec.default_target
        values = kpi_history(rng, spec, target=target, status=status, periods=53, trend=1.0)

        assert len(values) == 53
        assert all(spec.floor <= v <= (spec.cap or float("inf")) for v in values)
        outcome = rollup_status(
            value=values[-1], target=target, direction=spec.direction, tolerance=spec.tolerance
        )
        assert outcome == status, (values[-1], target)


@pytest.mark.parametrize("status", [ON_TARGET, OFF_TARGET])
def test_seasonal_kpis_swing_with_the_calendar_and_still_end_as_planned(status):
    """Revenue peaks in December and dips in June (on top of its trend); the last value keeps its status."""
    revenue = next(spec for spec in KPIS if spec.name == "Revenue")
    calm = dataclasses.replace(revenue, noise=0.0, drift=0.0)  # the trend and the season alone
    periods = demo_periods(today=dt.date(2026, 11, 23), months=12, frequency=Frequency.WEEKLY)
    values = kpi_history(
        random.Random(3),
        calm,
        target=25_000,
        status=status,
        periods=len(periods),
        season=season_shape(periods),
    )
    flat = kpi_history(random.Random(3), calm, target=25_000, status=status, periods=len(periods))
    ratios = {period: value / base for period, value, base in zip(periods, values, flat, strict=True)}
    december = [ratio for period, ratio in ratios.items() if period.month == 12]
    june = [ratio for period, ratio in ratios.items() if period.month == 6]
    assert min(december) > max(june) + 0.15  # a swing of ±12 % around the trend
    assert values[-1] == flat[-1]
    assert rollup_status(value=values[-1], target=25_000, direction="higher", tolerance=10) == status


def test_seeding_recomputes_rollups_when_the_command_exists(db, demo_password):
    if "recompute_rollups" not in get_commands():
        pytest.skip("portfolio.rollups has no recompute_rollups command yet")
    call_command(
        "seed_demo", "--products", "8", "--months", "1", "--today", TODAY,
        stdout=io.StringIO(), stderr=io.StringIO(),
    )  # fmt: skip

    assert Rollup.objects.filter(scope="organisation").exists()
    assert Product.objects.exclude(health="no_data").count() == 8


def test_demo_staff_get_their_roles_admin_group(seeded):
    director = User.objects.get(username="director")
    junior = User.objects.get(username="junior")
    assert director.is_staff
    assert list(director.groups.values_list("name", flat=True)) == ["Directors of product"]
    assert director.has_perm("portfolio.change_kpitarget")
    assert not director.has_perm("products.view_user")
    assert not junior.is_staff
    assert not junior.groups.exists()
