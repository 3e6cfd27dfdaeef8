"""CSV import of measurements and KPI definitions (portfolio/imports/): every error kind names its line and
column and writes nothing; a valid file writes everything in one go; the same file again changes nothing."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from portfolio.imports.importer import import_csv
from portfolio.imports.outcome import ImportRequest
from portfolio.models import KPI, KPITarget, Measurement, StaleRollup
from portfolio.periods import period_start
from products.choices import Role
from products.models import ImportKind, Product
from tests.factories import (
    KPIFactory,
    KPITargetFactory,
    MeasurementFactory,
    MembershipFactory,
    PortfolioFactory,
    ProductFactory,
    UserFactory,
)

MONDAY = dt.date(2026, 3, 2)
CURRENT_WEEK = period_start(timezone.localdate(), "weekly")
HEADER = "product,kpi,period,value,target\n"


@pytest.fixture
def world(db):
    director = UserFactory(username="dir", role=Role.DIRECTOR)
    portfolio = PortfolioFactory(slug="payments", director=director)
    owner = UserFactory(username="owner", role=Role.PM)
    alpha = ProductFactory(slug="alpha", name="Alpha", portfolio=portfolio, owner=owner)
    beta = ProductFactory(slug="beta", name="Beta", portfolio=portfolio, owner=owner)
    other = ProductFactory(slug="other", name="Other")  # another portfolio, another owner
    # Net revenue can go below zero (refunds): this KPI says so; money is otherwise never negative.
    revenue = KPIFactory(name="Revenue", frequency="weekly", default_target=100.0, min_value=-1_000_000)
    nps = KPIFactory(
        name="NPS", unit="NPS", frequency="monthly", default_target=None, min_value=-100, max_value=100
    )
    KPIFactory(name="Retention", unit="%", frequency="weekly", default_target=45.0)
    MeasurementFactory(product=alpha, kpi=revenue, period=MONDAY, value=90.0)
    KPITargetFactory(product=beta, kpi=revenue, target=150.0)
    return {
        "owner": owner,
        "director": director,
        "alpha": alpha,
        "beta": beta,
        "other": other,
        "revenue": revenue,
        "nps": nps,
    }


def run(text: str, user, *, apply: bool = True, kind: str = ImportKind.MEASUREMENTS):
    data = text.encode("utf-8") if isinstance(text, str) else text
    return import_csv(ImportRequest(kind=kind, chunks=[data], user=user, apply=apply))


def state():
    return (
        list(Measurement.objects.order_by("pk").values_list("product_id", "kpi_id", "period", "value")),
        list(KPITarget.objects.order_by("pk").values_list("product_id", "kpi_id", "target")),
        list(
            KPI.objects.order_by("pk").values_list("name", "unit", "default_target", "tolerance", "frequency")
        ),
        StaleRollup.objects.count(),
    )


def errors(outcome):
    return [(e.line, e.column, e.message) for e in outcome.errors]


def test_a_valid_file_creates_updates_and_counts(world):
    text = HEADER + (
        "alpha,Revenue,2026-03-02,95.5,\n"  # updated (was 90)
        "alpha,Revenue,2026-03-09,-3,\n"  # created, a negative value is a number
        "beta,Revenue,2026-03-02,120,150\n"  # created; target equals beta's own: no change
        "beta,NPS,2026-03-01,42,50\n"  # created; sets beta's own NPS target
    )
    outcome = run(text, world["owner"])
    assert errors(outcome) == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (3, 1, 0)
    assert outcome.extra == {"targets": 1}
    assert outcome.applied
    alpha = world["alpha"]
    assert Measurement.objects.get(product=alpha, kpi=world["revenue"], period=MONDAY).value == 95.5
    assert Measurement.objects.get(product=alpha, period=dt.date(2026, 3, 9)).value == -3.0
    assert Measurement.objects.get(product=alpha, period=MONDAY).recorded_by == world["owner"]
    assert KPITarget.objects.get(product=world["beta"], kpi=world["nps"]).target == 50.0
    # History: one row per created or changed value, naming the importer.
    history = Measurement.history.filter(product_id=alpha.pk, history_change_reason="CSV import").order_by(
        "history_id"
    )
    assert {(h.history_type, h.value, h.history_user_id) for h in history} == {
        ("~", 95.5, world["owner"].pk),
        ("+", -3.0, world["owner"].pk),
    }
    # Rollups: one set of stale marks for the changed KPIs (and the NPS target), nothing per row.
    marked = set(StaleRollup.objects.values_list("kpi_id", flat=True))
    assert marked == {world["revenue"].pk, world["nps"].pk}

    again = run(text, world["owner"])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    assert again.extra == {}


def test_a_check_counts_what_would_change_and_writes_nothing(world):
    before = state()
    outcome = run(
        HEADER + "alpha,Revenue,2026-03-02,90,\nbeta,Revenue,2026-03-02,1,\n", world["owner"], apply=False
    )
    assert outcome.ok
    assert not outcome.applied
    assert (outcome.created, outcome.updated, outcome.unchanged) == (1, 0, 1)
    assert state() == before


BAD_ROWS = [
    ("ghost,Revenue,2026-03-02,1,", "product", "Unknown product slug “ghost”."),
    ("alpah,Revenue,2026-03-02,1,", "product", "Unknown product slug “alpah”. Did you mean “alpha”?"),
    (
        "other,Revenue,2026-03-02,1,",
        "product",
        "You may not edit other, so you may not import its measurements.",
    ),
    ("alpha,Profit,2026-03-02,1,", "kpi", "Unknown KPI “Profit”."),
    (
        "alpha,Revenue,02/03/2026,1,",
        "period",
        "“02/03/2026” is not a date: write it as YYYY-MM-DD, e.g. 2026-03-02.",
    ),
    (
        "alpha,Revenue,2026-02-30,1,",
        "period",
        "“2026-02-30” is not a date: write it as YYYY-MM-DD, e.g. 2026-03-02.",
    ),
    (
        "alpha,Revenue,2036-03-03,1,",
        "period",
        "The week of 3 Mar 2036 has not begun: the latest that can be recorded is the current week, which starts "
        f"on {CURRENT_WEEK:%-d %b %Y}.",
    ),
    # Values that cannot be true: the KPI's range (a percentage 0 to 100, its own bounds for a net score).
    (
        "alpha,Retention,2026-03-02,150,",
        "value",
        "150 is not a possible value of Retention: it must be 0% to 100%.",
    ),
    (
        "alpha,Retention,2026-03-02,40,250",
        "target",
        "250 is not a possible target of Retention: it must be 0% to 100%.",
    ),
    (
        "alpha,Retention,2026-03-02,-5,",
        "value",
        "-5 is not a possible value of Retention: it must be 0% to 100%.",
    ),
    (
        "alpha,NPS,2026-03-01,-130,",
        "value",
        "-130 is not a possible value of NPS: it must be -100 NPS to 100 NPS.",
    ),
    ("alpha,Revenue,2026-03-02,abc,", "value", "“abc” is not a number."),
    (
        'alpha,Revenue,2026-03-02,"1,5",',
        "value",
        "“1,5” is not a number. Write numbers without thousands separators and with a dot for decimals (1234.5).",
    ),
    ("alpha,Revenue,2026-03-02,,", "value", "A number is required here."),
    ("alpha,Revenue,2026-03-02,nan,", "value", "“nan” is not a finite number."),
    (
        "alpha,Revenue,2026-03-02,1e20,",
        "value",
        "1e20 is out of range: values are at most ±10^15 (a date or an id in this column?).",
    ),
    ("alpha,Revenue,2026-03-02,1,high", "target", "“high” is not a number."),
    (
        "alpha,Revenue,2026-03-02,1,2,3",
        "",
        "This line has 6 cells but the header has 5 columns: a stray comma, or a cell with a comma that needs quotes?",
    ),
]


@pytest.mark.parametrize(("row", "column", "message"), BAD_ROWS, ids=[r[2][:40] for r in BAD_ROWS])
def test_each_bad_row_is_reported_with_its_line_and_column_and_nothing_is_written(
    world, row, column, message
):
    before = state()
    # A valid row first: it is not written either, because the file has a problem.
    outcome = run(HEADER + "beta,Revenue,2026-03-09,5,\n" + row + "\n", world["owner"])
    assert errors(outcome) == [(3, column, message)]
    assert not outcome.applied
    assert state() == before


def test_duplicate_rows_in_the_file_name_the_first_line(world):
    before = state()
    outcome = run(
        HEADER + "alpha,Revenue,2026-03-09,5,\nbeta,Revenue,2026-03-09,1,\nalpha,Revenue,2026-03-09,6,\n",
        world["owner"],
    )
    assert errors(outcome) == [
        (4, "", "Duplicate row: line 2 has the same product, KPI and period. Keep one of them.")
    ]
    assert state() == before


def test_two_targets_for_one_product_and_kpi_are_a_problem(world):
    before = state()
    text = HEADER + "alpha,Revenue,2026-03-09,5,100\nalpha,Revenue,2026-03-16,5,120\n"
    outcome = run(text, world["owner"])
    assert errors(outcome) == [
        (
            3,
            "target",
            "Target 120 differs from 100 on line 2 for the same product and KPI: a product has one target per KPI.",
        )
    ]
    assert state() == before


def test_every_problem_of_a_file_is_listed_in_line_order(world):
    text = HEADER + "ghost,Revenue,2026-03-02,1,\nalpha,Profit,someday,x,\n"
    outcome = run(text, world["owner"])
    assert errors(outcome) == [
        (2, "product", "Unknown product slug “ghost”."),
        (3, "kpi", "Unknown KPI “Profit”."),
        (3, "period", "“someday” is not a date: write it as YYYY-MM-DD, e.g. 2026-03-02."),
        (3, "value", "“x” is not a number."),
    ]
    assert outcome.error_count == 4


FILE_PROBLEMS = [
    (b"", 1, "", "The file is empty: it needs a header line and at least one row."),
    (
        b"product;kpi;period;value;target\nalpha;Revenue;2026-03-02;1;\n",
        1,
        "",
        "The file separates its columns with semicolons (;); expected commas (,).",
    ),
    (
        b"product,kpi,period,value\nalpha,Revenue,2026-03-02,1\n",
        1,
        "target",
        "The header has missing column: target. Expected exactly: product, kpi, period, value, target.",
    ),
    (
        b"product,kpi,periode,value,target\n",
        1,
        "period",
        "The header has missing column: period; unknown column “periode” (did you mean “period”?).",
    ),
    (
        b"product,kpi,period,value,target,notes\n",
        1,
        "notes",
        "The header has unknown column “notes”. Expected exactly: product, kpi, period, value, target.",
    ),
    (
        "product,kpi,period,value,target\nalpha,Revenue,2026-03-02,1,\ncafé,Revenue,2026-03-02,1,\n".encode(
            "latin-1"
        ),
        3,
        "",
        "The file is not UTF-8 text: this line has the byte 0xE9",
    ),
    (
        b"PK\x03\x04\x14\x00\x06\x00",
        1,
        "",
        "This is an Excel workbook (.xlsx) or another zip file, not a CSV file.",
    ),
    ("product,kpi\n".encode("utf-16"), 1, "", "The file is UTF-16 or binary, not UTF-8 text."),
    (
        b'product,kpi,period,value,target\nalpha,"Revenue,2026-03-02,1,\n' + b"x" * 140_000 + b"\n",
        2,
        "",
        "A quoted cell on this line never ends",
    ),
]


@pytest.mark.parametrize(
    ("content", "line", "column", "start"), FILE_PROBLEMS, ids=[p[3][:40] for p in FILE_PROBLEMS]
)
def test_a_file_that_cannot_be_read_says_why_and_writes_nothing(world, content, line, column, start):
    before = state()
    outcome = run(content, world["owner"])
    assert len(outcome.errors) == 1
    error = outcome.errors[0]
    assert (error.line, error.column) == (line, column)
    assert error.message.startswith(start), error.message
    assert state() == before


def test_utf8_with_a_byte_order_mark_blank_lines_and_loose_header_case_are_accepted(world):
    text = "\ufeffProduct, KPI ,Period,Value,Target\r\n\r\nbeta,Revenue,2026-03-09,7,\r\n\r\n"
    outcome = run(text, world["owner"])
    assert errors(outcome) == []
    assert outcome.created == 1


def test_too_many_rows_is_refused_with_the_limit(world, settings):
    settings.IMPORT_MAX_ROWS = 2
    before = state()
    rows = "".join(f"beta,Revenue,2026-0{m}-02,1,\n" for m in (3,))
    text = HEADER + rows + "beta,Revenue,2026-03-09,1,\nbeta,Revenue,2026-03-16,1,\n"
    outcome = run(text, world["owner"])
    assert errors(outcome) == [
        (4, "", "The file has more than 2 rows, the most one import takes: split it into smaller files.")
    ]
    assert state() == before


def test_a_junior_member_may_not_import_at_all(world):
    junior = MembershipFactory(
        product=world["alpha"], user=UserFactory(role=Role.JUNIOR_PM), role=Role.JUNIOR_PM
    ).user
    outcome = run(HEADER + "alpha,Revenue,2026-03-09,5,\n", junior)
    assert errors(outcome) == [(1, "", "You may not import this kind of file.")]


def test_the_director_imports_for_every_product_of_their_portfolio(world):
    outcome = run(HEADER + "alpha,Revenue,2026-03-09,5,\nbeta,Revenue,2026-03-09,5,\n", world["director"])
    assert outcome.applied
    assert outcome.created == 2


def test_a_day_inside_a_period_counts_for_that_period_as_on_the_form(world):
    outcome = run(
        HEADER + "beta,Revenue,2026-03-04,5,\nbeta,NPS,2026-03-17,20,\n", world["owner"]
    )  # a Wednesday; the 17th
    assert errors(outcome) == []
    assert outcome.extra == {"moved_to_period_start": 2}
    assert "days inside a period, counted for the period that holds them: 2" in outcome.summary()
    periods = Measurement.objects.filter(product=world["beta"]).values_list("kpi__name", "period")
    assert sorted(periods) == [("NPS", dt.date(2026, 3, 1)), ("Revenue", MONDAY)]


def test_the_current_period_to_date_is_accepted_and_the_next_refused(world):
    current, following = CURRENT_WEEK.isoformat(), (CURRENT_WEEK + dt.timedelta(days=7)).isoformat()
    outcome = run(HEADER + f"beta,Revenue,{current},5,\nbeta,Revenue,{following},5,\n", world["owner"])
    assert [(line, column) for line, column, _message in errors(outcome)] == [(3, "period")]
    assert not Measurement.objects.filter(product=world["beta"]).exists()


def test_an_escaped_negative_number_is_unescaped(world):
    outcome = run(HEADER + "beta,Revenue,2026-03-09,'-5,\n", world["owner"])
    assert errors(outcome) == []
    assert Measurement.objects.get(product=world["beta"], period=dt.date(2026, 3, 9)).value == -5.0


# --------------------------------------------------------------------------------------------------
# Round trip: the export's bytes import back unchanged
# --------------------------------------------------------------------------------------------------


def exported(client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.fixture
def seeded(db, settings):
    settings.SPM_DEMO_PASSWORD = "demo-password-for-tests"
    call_command("seed_demo", products=8, months=2, seed=3, today=dt.date(2026, 11, 23), verbosity=0)
    from products.models import User

    return User.objects.get(username="admin")


def test_the_measurement_export_imports_back_unchanged(seeded, client):
    client.force_login(seeded)
    content = exported(client, "/portfolio/measurements/?format=csv")
    before = state()
    outcome = import_csv(
        ImportRequest(kind=ImportKind.MEASUREMENTS, chunks=[content], user=seeded, apply=True)
    )
    assert errors(outcome) == []
    assert outcome.rows == Measurement.objects.count() > 100
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, outcome.rows)
    assert outcome.extra == {}
    assert state() == before


def test_the_product_export_imports_back_unchanged(seeded, client):
    client.force_login(seeded)
    content = exported(client, "/products/?format=csv")
    before = (
        state(),
        list(Product.objects.order_by("pk").values_list("name", "stage", "version", "planned_budget")),
    )
    outcome = import_csv(ImportRequest(kind=ImportKind.PRODUCTS, chunks=[content], user=seeded, apply=True))
    assert errors(outcome) == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, Product.objects.count())
    after = (
        state(),
        list(Product.objects.order_by("pk").values_list("name", "stage", "version", "planned_budget")),
    )
    assert after == before


def test_the_kpi_export_imports_back_unchanged(seeded, client):
    client.force_login(seeded)
    content = exported(client, "/portfolio/kpis/?format=csv")
    before = state()
    outcome = import_csv(ImportRequest(kind=ImportKind.KPIS, chunks=[content], user=seeded, apply=True))
    assert errors(outcome) == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, KPI.objects.count())
    assert state() == before


# --------------------------------------------------------------------------------------------------
# KPI definitions
# --------------------------------------------------------------------------------------------------

KPI_HEADER = "kpi,unit,direction,aggregation,time_aggregation,target,tolerance,frequency\n"


@pytest.fixture
def vp(db):
    return UserFactory(username="vp", role=Role.VP)


def test_kpi_definitions_are_created_and_updated(world, vp):
    text = KPI_HEADER + "Revenue,€,higher,sum,sum,120,5,weekly\nChurn,%,lower,avg,avg,,10,monthly\n"
    outcome = run(text, vp, kind=ImportKind.KPIS)
    assert errors(outcome) == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (1, 1, 0)
    revenue = KPI.objects.get(name="Revenue")
    assert (revenue.default_target, float(revenue.tolerance)) == (120.0, 5.0)
    churn = KPI.objects.get(name="Churn")
    assert (churn.direction, churn.aggregation, churn.default_target) == ("lower", "avg", None)
    assert KPI.history.filter(name="Churn", history_user=vp).exists()
    # The rollups of the KPI whose target changed are marked stale, as a whole.
    assert set(StaleRollup.objects.values_list("kpi_id", "period")) == {(revenue.pk, None)}


KPI_BAD_ROWS = [
    ("Revenue,€,up,sum,sum,100,10,weekly", "direction", "“up” is not a direction: use one of higher, lower."),
    (
        "Revenue,€,higher,sum,sum,100,150,weekly",
        "tolerance",
        "150 is out of range: the tolerance is a percentage from 0 to 100.",
    ),
    ("Revenue,€,higher,sum,sum,lots,10,weekly", "target", "“lots” is not a number."),
    (
        "Revenue,€,higher,sum,sum,100,10,monthly",
        "frequency",
        "Revenue has measurements recorded weekly: its frequency cannot change in an import (its periods would no longer start where they do).",
    ),
    (",€,higher,sum,sum,100,10,weekly", "kpi", "The KPI name is missing."),
    # A default target that cannot be true: a percentage past 100, a negative amount.
    (
        "Retention,%,higher,avg,avg,8000,10,weekly",
        "target",
        "8000 is not a possible target of Retention: it must be 0% to 100%.",
    ),
    (
        "Costs,€,lower,sum,sum,-3,10,weekly",
        "target",
        "-3 is not a possible target of Costs: it must be at least €0.",
    ),
]


@pytest.mark.parametrize(("row", "column", "message"), KPI_BAD_ROWS, ids=[r[2][:40] for r in KPI_BAD_ROWS])
def test_bad_kpi_rows_are_reported_and_nothing_is_written(world, vp, row, column, message):
    before = state()
    outcome = run(KPI_HEADER + "Churn,%,lower,avg,avg,,10,monthly\n" + row + "\n", vp, kind=ImportKind.KPIS)
    assert errors(outcome) == [(3, column, message)]
    assert state() == before


def test_a_pm_may_not_import_kpi_definitions(world):
    outcome = run(KPI_HEADER + "Churn,%,lower,avg,avg,,10,monthly\n", world["owner"], kind=ImportKind.KPIS)
    assert errors(outcome) == [(1, "", "You may not import this kind of file.")]


def test_a_file_of_many_problems_keeps_the_first_and_counts_them_all(world, monkeypatch):
    monkeypatch.setattr("portfolio.imports.outcome.MAX_ERRORS_KEPT", 3)
    rows = "".join(f"beta,Revenue,2026-03-09,{n},\n" for n in range(6))  # five repeats of line 2
    outcome = run(HEADER + "ghost,Revenue,2026-03-02,1,\n" + rows, world["owner"])
    assert outcome.error_count == 6
    assert [(e.line, e.column) for e in outcome.errors] == [(2, "product"), (4, ""), (5, "")]


def test_a_file_of_many_rows_marks_rollups_stale_once_and_requests_one_refresh(
    world, django_capture_on_commit_callbacks
):
    weeks = [MONDAY + dt.timedelta(weeks=n) for n in range(30)]
    rows = "".join(
        f"{slug},Revenue,{week},{n},\n" for n, week in enumerate(weeks) for slug in ("alpha", "beta")
    )
    with django_capture_on_commit_callbacks() as callbacks:
        outcome = run(HEADER + rows, world["owner"])
    assert outcome.created + outcome.updated == 60
    assert len(callbacks) == 1  # one refresh request for the whole file, after commit
    # One mark per changed (KPI, period), none per row.
    assert StaleRollup.objects.count() == 30


def test_a_check_lists_each_replaced_value_and_target_old_to_new_by_line(world):
    text = HEADER + (
        "beta,Revenue,2026-03-02,120,175\n"  # created; beta's own target 150 -> 175
        "alpha,Revenue,2026-03-04,95.5,\n"  # a Wednesday: the week of 2 Mar, which holds 90
        "alpha,Revenue,2026-03-09,7,\n"  # created: nothing replaced
    )
    outcome = run(text, world["owner"], apply=False)

    assert [change.as_list() for change in outcome.changes] == [
        [3, "alpha · Revenue · the week of 2 Mar 2026", "value", "90", "95.5"],
        [2, "beta · Revenue", "target", "150", "175"],
    ]
    applied = run(text, world["owner"])
    assert [change.as_list() for change in applied.changes] == [
        change.as_list() for change in outcome.changes
    ]
    assert run(text, world["owner"], apply=False).changes == []  # the same file again replaces nothing


def test_a_first_own_target_lists_the_default_it_replaces(world):
    outcome = run(HEADER + "alpha,Revenue,2026-03-02,90,120\n", world["owner"], apply=False)
    assert [change.as_list() for change in outcome.changes] == [
        [2, "alpha · Revenue", "target", "100", "120"]
    ]


def test_a_kpi_import_check_lists_each_changed_cell(world, vp):
    text = KPI_HEADER + "Revenue,€,higher,sum,sum,120,5,weekly\n"
    outcome = run(text, vp, kind=ImportKind.KPIS, apply=False)
    assert [change.as_list()[:3] for change in outcome.changes] == [
        [2, "Revenue", "default_target"],
        [2, "Revenue", "tolerance"],
    ]
    target = next(change for change in outcome.changes if change.column == "default_target")
    assert (target.old, target.new) == ("100", "120")
    assert outcome.updated == 1
