"""CSV import of products (portfolio/imports/products.py through the services) and the three import commands."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import given
from hypothesis import strategies as st

from lifecycle.models import StageTransition
from portfolio.imports.importer import import_csv
from portfolio.imports.outcome import ImportRequest
from portfolio.models import Measurement, StaleRollup
from products.choices import Role, Stage
from products.models import ImportKind, ImportRun, ImportSource, ImportStatus, Product
from spm.csvfiles.reader import unescape_cell
from spm.csvfiles.writer import csv_cell
from tests.factories import KPIFactory, MeasurementFactory, PortfolioFactory, ProductFactory, UserFactory

HEADER = "slug,name,portfolio,stage,market,focus,owner,health,planned_budget,actual_spend\n"


@pytest.fixture
def world(db):
    director = UserFactory(username="dir", role=Role.DIRECTOR)
    payments = PortfolioFactory(slug="payments", name="Payments", director=director)
    retail = PortfolioFactory(slug="retail", name="Retail")
    owner = UserFactory(username="owner", role=Role.PM)
    UserFactory(username="newowner", role=Role.PM)
    alpha = ProductFactory(
        slug="alpha",
        name="Alpha",
        portfolio=payments,
        owner=owner,
        stage=Stage.MVP,
        planned_budget=Decimal("1000.00"),
        actual_spend=Decimal("500.00"),
    )
    ProductFactory(slug="delta", name="Delta", portfolio=payments, owner=owner)
    MeasurementFactory(product=alpha, kpi=KPIFactory(name="Revenue"), period=dt.date(2026, 3, 2))
    return {"director": director, "owner": owner, "alpha": alpha, "payments": payments, "retail": retail}


ALPHA = "alpha,Alpha,payments,mvp,b2b,customer,owner,no_data,1000.00,500.00"
DELTA = "delta,Delta,payments,problem,b2b,customer,owner,no_data,100000.00,50000.00"


def run(text: str, user, *, apply: bool = True):
    return import_csv(ImportRequest(kind=ImportKind.PRODUCTS, chunks=[text.encode()], user=user, apply=apply))


def state():
    return (
        list(
            Product.objects.order_by("pk").values_list(
                "slug",
                "name",
                "portfolio__slug",
                "stage",
                "market",
                "focus",
                "owner__username",
                "planned_budget",
                "actual_spend",
                "version",
            )
        ),
        StageTransition.objects.count(),
        StaleRollup.objects.count(),
    )


def errors(outcome):
    return [(e.line, e.column, e.message) for e in outcome.errors]


def test_an_unchanged_row_changes_nothing(world):
    before = state()
    outcome = run(HEADER + ALPHA + "\n", world["owner"])
    assert errors(outcome) == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, 1)
    assert state() == before


def test_an_owner_updates_name_and_market_through_the_service_and_money_stays_the_budget_lines(world):
    # The money columns as exported (1000) pass; a different figure is refused: money is the budget lines' sum.
    refused = run(HEADER + "alpha,Alpha Pay,payments,mvp,b2c,customer,owner,,1500.5,\n", world["owner"])
    assert errors(refused) == [
        (
            2,
            "planned_budget",
            "The planned budget is the sum of alpha's budget lines (1,000.00): change the lines on the product's "
            "budget page, and leave this column blank or as exported.",
        )
    ]
    text = HEADER + "alpha,Alpha Pay,payments,mvp,b2c,customer,owner,,1000,\n"
    outcome = run(text, world["owner"])
    assert errors(outcome) == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 1, 0)
    alpha = Product.objects.get(slug="alpha")
    assert (alpha.name, alpha.market, alpha.planned_budget) == ("Alpha Pay", "b2c", Decimal("1000.00"))
    assert alpha.actual_spend == Decimal("500.00")  # blank money: no change
    assert alpha.version == 2
    assert alpha.history.first().history_user == world["owner"]
    assert [change.as_list() for change in outcome.changes] == [
        [2, "alpha", "name", "Alpha", "Alpha Pay"],
        [2, "alpha", "market", "b2b", "b2c"],
    ]
    # The market is a rollup scope: its old and new keys are stale.
    assert set(StaleRollup.objects.values_list("scope", "scope_key")) == {
        ("market", "b2b"),
        ("market", "b2c"),
    }


def test_a_director_creates_a_product_in_their_portfolio(world):
    text = (
        HEADER + "gamma,Gamma,payments,problem,b2c,design,newowner,,,\n"
    )  # a new product's money: its lines
    outcome = run(text, world["director"])
    assert errors(outcome) == []
    assert outcome.created == 1
    gamma = Product.objects.get(slug="gamma")
    assert (gamma.owner.username, gamma.stage, gamma.planned_budget, gamma.actual_spend) == (
        "newowner",
        "problem",
        Decimal("0.00"),
        Decimal("0.00"),
    )
    assert list(gamma.transitions.values_list("from_stage", "to_stage")) == [("", "problem")]


def test_a_stage_change_goes_through_the_lifecycle_rules(world):
    back = run(HEADER + ALPHA.replace(",mvp,", ",research,") + "\n", world["owner"])
    assert errors(back) == []
    assert back.extra == {"stage_moves": 1}
    transition = StageTransition.objects.get(product=world["alpha"])
    assert (transition.from_stage, transition.to_stage, transition.by) == ("mvp", "research", world["owner"])
    assert transition.note == "CSV import"


def test_a_refused_stage_move_is_a_row_error_and_the_whole_file_writes_nothing(world):
    before = state()
    text = HEADER + ALPHA.replace("Alpha,", "Alpha renamed,").replace(",mvp,", ",feedback,") + "\n"
    outcome = run(text, world["owner"])
    assert len(outcome.errors) == 1
    error = outcome.errors[0]
    assert (error.line, error.column) == (2, "stage")
    assert error.message.startswith("The move to Feedback is refused: ")
    assert state() == before  # the rename on the same row is undone too


def test_a_check_runs_the_same_rules_and_writes_nothing(world):
    before = state()
    outcome = run(HEADER + ALPHA.replace(",mvp,", ",research,") + "\n", world["owner"], apply=False)
    assert errors(outcome) == []
    assert (outcome.updated, outcome.extra) == (1, {"stage_moves": 1})
    assert not outcome.applied
    assert state() == before


BAD_ROWS = [
    (
        "alpha,Alpha,payment,mvp,b2b,customer,owner,,,",
        "portfolio",
        "Unknown portfolio “payment”. Did you mean “payments”?",
    ),
    (
        "alpha,Alpha,payments,build,b2b,customer,owner,,,",
        "stage",
        "“build” is not a lifecycle stage: use one of problem, opportunity, research, mvp, feedback, strategy, execution.",
    ),
    (
        "alpha,Alpha,payments,mvp,b2g,customer,owner,,,",
        "market",
        "“b2g” is not a market: use one of b2b, b2c.",
    ),
    (
        "alpha,Alpha,payments,mvp,b2b,sales,owner,,,",
        "focus",
        "“sales” is not a focus: use one of customer, business, engineering, design.",
    ),
    ("alpha,Alpha,payments,mvp,b2b,customer,nobody,,,", "owner", "Unknown owner (username) “nobody”."),
    (
        "alpha,Alpha,payments,mvp,b2b,customer,owner,great,,",
        "health",
        "“great” is not a health status: use one of on_target, at_risk, off_target, no_data.",
    ),
    (
        "alpha,Alpha,payments,mvp,b2b,customer,owner,,-5,",
        "planned_budget",
        "-5 is out of range: amounts cannot be negative.",
    ),
    (
        "alpha,Alpha,payments,mvp,b2b,customer,owner,,€5,",
        "planned_budget",
        "“€5” is not an amount: write it like 125000.50 or 125,000.50, without a currency sign.",
    ),
    (
        "alpha,Alpha,payments,mvp,b2b,customer,owner,,,1.234",
        "actual_spend",
        "1.234 has more than 2 decimals.",
    ),
    ("alpha,,payments,mvp,b2b,customer,owner,,,", "name", "The name is missing."),
    (
        "Alpha Two,Alpha,payments,mvp,b2b,customer,owner,,,",
        "slug",
        "“Alpha Two” is not a slug: use at most 80 letters, digits, hyphens and underscores (e.g. alpha-two).",
    ),
    (DELTA, "slug", "Duplicate row: line 2 has the same slug. Keep one of them."),
    (
        "alpha,Alpha,payments,mvp,b2b,customer,newowner,,,",
        "owner",
        "You may not change the owner of alpha: that is for its director or a VP.",
    ),
    (
        "alpha,Alpha,retail,mvp,b2b,customer,owner,,,",
        "portfolio",
        "You may not change the portfolio of alpha: that is for its director or a VP.",
    ),
    (
        "beta,Beta,payments,problem,b2b,customer,owner,,,",
        "slug",
        "There is no product “beta”, and you may not create products in Payments.",
    ),
]


@pytest.mark.parametrize(
    ("row", "column", "message"), BAD_ROWS, ids=[r[1] + ":" + r[2][:30] for r in BAD_ROWS]
)
def test_each_bad_product_row_is_reported_and_nothing_is_written(world, row, column, message):
    before = state()
    outcome = run(HEADER + DELTA + "\n" + row + "\n", world["owner"])
    assert errors(outcome) == [(3, column, message)]
    assert state() == before


def test_a_pm_may_not_edit_someone_elses_product(world):
    other = UserFactory(role=Role.PM)
    outcome = run(HEADER + ALPHA + "\n", other)
    assert errors(outcome) == [(2, "slug", "You may not edit alpha.")]


def test_the_product_export_imports_back_unchanged(world, client):
    ProductFactory(slug="evil", name="-minus name", portfolio=world["payments"], owner=world["owner"])
    vp = UserFactory(role=Role.VP)
    client.force_login(vp)
    content = b"".join(client.get("/products/?format=csv").streaming_content)
    assert b"'-minus name" in content  # escaped in the file
    before = state()
    outcome = import_csv(ImportRequest(kind=ImportKind.PRODUCTS, chunks=[content], user=vp, apply=True))
    assert errors(outcome) == []
    assert (outcome.created, outcome.updated, outcome.unchanged) == (0, 0, 3)
    assert state() == before


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_products_prints_the_counts_and_records_the_import(world, tmp_path):
    path = write(tmp_path, "products.csv", HEADER + ALPHA.replace("Alpha,", "Alpha Pay,") + "\n")
    out, err = StringIO(), StringIO()
    call_command("import_products", str(path), "--user", "owner", stdout=out, stderr=err)
    assert "Imported 1 rows from products.csv: 0 created, 1 updated, 0 unchanged" in out.getvalue()
    assert "Importing products" in err.getvalue()  # the progress bar
    assert Product.objects.get(slug="alpha").name == "Alpha Pay"
    run = ImportRun.objects.get()
    assert (run.kind, run.source, run.status, run.uploaded_by, run.updated) == (
        "products",
        ImportSource.COMMAND,
        ImportStatus.APPLIED,
        world["owner"],
        1,
    )


def test_import_measurements_exits_1_and_prints_every_problem(world, tmp_path):
    UserFactory(username="root", is_superuser=True)
    path = write(
        tmp_path,
        "kpis.csv",
        "product,kpi,period,value,target\nalpha,Revenue,2026-03-09,5,\nalpha,Revenue,2026-03-10,x,\n",
    )
    err = StringIO()
    with pytest.raises(CommandError) as failure:
        call_command("import_measurements", str(path), stdout=StringIO(), stderr=err)
    # From a shell, `manage.py import_measurements FILE` exits with this status (BaseCommand.run_from_argv).
    assert failure.value.returncode == 1
    err.write(str(failure.value))
    text = err.getvalue()
    assert "kpis.csv: line 3, column value: “x” is not a number." in text
    assert "column period" not in text  # a Tuesday counts for its week, as on the product page
    assert "1 problem in kpis.csv: nothing was written" in text
    assert Measurement.objects.count() == 1
    assert ImportRun.objects.get().status == ImportStatus.INVALID


def test_a_dry_run_writes_nothing_and_says_so(world, tmp_path):
    UserFactory(username="root", is_superuser=True)
    path = write(tmp_path, "kpis.csv", "product,kpi,period,value,target\nalpha,Revenue,2026-03-09,5,\n")
    out = StringIO()
    call_command("import_measurements", str(path), "--dry-run", stdout=out, stderr=StringIO())
    assert "Checked (dry run, nothing written) 1 rows from kpis.csv: 1 would be created" in out.getvalue()
    assert Measurement.objects.count() == 1


def test_a_dry_run_prints_each_replaced_value_old_to_new(world, tmp_path):
    UserFactory(username="root", is_superuser=True)
    path = write(tmp_path, "kpis.csv", "product,kpi,period,value,target\nalpha,Revenue,2026-03-02,5,\n")
    out = StringIO()
    call_command("import_measurements", str(path), "--dry-run", stdout=out, stderr=StringIO())
    assert "line 2: alpha · Revenue · the week of 2 Mar 2026: value 100 -> 5" in out.getvalue()
    assert Measurement.objects.get().value != 5


def test_import_kpis_needs_a_vp_or_superuser(world, tmp_path):
    path = write(
        tmp_path,
        "kpis.csv",
        "kpi,unit,direction,aggregation,time_aggregation,target,tolerance,frequency\nChurn,%,lower,avg,avg,,10,monthly\n",
    )
    with pytest.raises(CommandError, match=r"1 problem in kpis\.csv: nothing was written"):
        call_command("import_kpis", str(path), "--user", "owner", stdout=StringIO(), stderr=StringIO())
    out = StringIO()
    UserFactory(username="vp", role=Role.VP)
    call_command("import_kpis", str(path), "--user", "vp", stdout=out, stderr=StringIO())
    assert "1 created" in out.getvalue()


def test_a_missing_file_or_user_is_a_clear_error(world, tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_products", str(tmp_path / "nope.csv"))
    path = write(tmp_path, "p.csv", HEADER)
    with pytest.raises(CommandError, match=r"There is no superuser to import as: pass --user USERNAME\."):
        call_command("import_products", str(path))


# --------------------------------------------------------------------------------------------------
# Formula escaping: the export defuses, the import reverses, for any text
# --------------------------------------------------------------------------------------------------


@given(st.text())
def test_the_import_reverses_the_exports_formula_escaping_for_any_text(text):
    cell = csv_cell(text)
    assert not cell.startswith(("=", "+", "-", "@"))  # a spreadsheet never reads it as a formula
    assert unescape_cell(cell) == text


@given(st.one_of(st.integers(), st.floats(allow_nan=False), st.decimals(allow_nan=False)))
def test_numbers_negative_ones_included_stay_numbers(number):
    assert csv_cell(number) == number


def test_the_admin_lists_imports_read_only(admin_client, world):
    run = ImportRun.objects.create(
        kind=ImportKind.MEASUREMENTS,
        file_name="kpis.csv",
        uploaded_by=world["owner"],
        status=ImportStatus.INVALID,
        error_count=1,
        errors=[[3, "value", "“x” is not a number."]],
    )
    listing = admin_client.get("/admin/products/importrun/")
    assert listing.status_code == 200
    assert b"kpis.csv" in listing.content
    page = admin_client.get(f"/admin/products/importrun/{run.pk}/change/").content.decode()
    assert "line 3, value: “x” is not a number." in page
    assert 'type="submit"' not in page or "Save" not in page
    assert admin_client.get("/admin/products/importrun/add/").status_code == 403
