"""A full recompute on PostgreSQL computes on two connections at once into a staging table, then copies the rows
in, in one transaction. It must give exactly what the one-connection recompute gives."""

import datetime as dt
import math

import pytest
from django.db import connection, transaction

from portfolio.kpis.engine import rollups_recompute, rollups_recompute_all, rollups_staged
from portfolio.kpis.services import rollups_reconcile
from portfolio.models import Rollup, StaleRollup
from tests.factories import KPIFactory, KPITargetFactory, MeasurementFactory, PortfolioFactory, ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the other connections see committed rows only

KEY = ("scope", "scope_key", "kpi_id", "grain", "period")


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the staged, two-connection recompute is PostgreSQL's; SQLite recomputes in one")


def portfolio_with_history():
    kpis = [
        KPIFactory(name="Revenue", aggregation="sum", time_aggregation="sum", default_target=100.0),
        KPIFactory(
            name="NPS", aggregation="avg", time_aggregation="avg", default_target=40.0, direction="higher"
        ),
        KPIFactory(
            name="Churn", aggregation="max", time_aggregation="last", default_target=None, direction="lower"
        ),
        KPIFactory(
            name="Latency", aggregation="min", time_aggregation="avg", default_target=200.0, direction="lower"
        ),
    ]
    portfolios = [PortfolioFactory(), PortfolioFactory()]
    products = [
        ProductFactory(
            portfolio=portfolios[i % 2],
            stage=("problem", "mvp", "execution")[i % 3],
            market=("b2b", "b2c")[i % 2],
            focus=("customer", "design")[i % 2],
        )
        for i in range(6)
    ]
    KPITargetFactory(product=products[0], kpi=kpis[0], target=150.0)
    for p_index, product in enumerate(products):
        for k_index, kpi in enumerate(kpis):
            for week in range(14):  # across a month and a quarter boundary
                period = dt.date(2026, 2, 2) + dt.timedelta(weeks=week)
                MeasurementFactory(
                    product=product, kpi=kpi, period=period, value=float(p_index * 7 + k_index * 3 + week)
                )


def rows() -> dict[tuple, tuple]:
    return {
        tuple(row[k] for k in KEY): (row["value"], row["target"], row["status"], row["products"])
        for row in Rollup.objects.values(*KEY, "value", "target", "status", "products")
    }


def same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for key in a:
        (va, ta, sa, pa), (vb, tb, sb, pb) = a[key], b[key]
        if not math.isclose(va, vb, rel_tol=1e-9, abs_tol=1e-9) or sa != sb or pa != pb:
            return False
        if (ta is None) != (tb is None) or (ta is not None and not math.isclose(ta, tb, rel_tol=1e-9)):
            return False
    return True


def test_the_staged_recompute_gives_exactly_the_rows_of_the_one_connection_recompute():
    portfolio_with_history()
    with transaction.atomic():  # inside a transaction: the one-connection path
        rollups_recompute()
    serial = rows()
    assert len(serial) > 100

    Rollup.objects.all().delete()
    with rollups_staged() as staged:
        assert staged is not None  # outside a transaction on PostgreSQL: two connections
        with transaction.atomic():
            rollups_recompute(staged=staged)

    assert same(rows(), serial)
    assert {row.computed_at for row in Rollup.objects.all()} == {staged.computed_at}
    with connection.cursor() as cursor:  # the staging rows are gone once copied
        cursor.execute("SELECT count(*) FROM spm_rollup_staging")
        assert cursor.fetchone()[0] == 0


def test_a_narrower_recompute_refuses_staged_rows():
    portfolio_with_history()
    with rollups_staged() as staged, pytest.raises(ValueError, match="narrower"):
        rollups_recompute(
            kpi_ids=[Rollup.objects.values_list("kpi_id", flat=True).first() or 1], staged=staged
        )


def test_the_reconcile_replaces_everything_and_drops_the_marks_it_covered():
    portfolio_with_history()
    rollups_recompute_all()
    before = rows()
    StaleRollup.objects.create(kpi=None, period=None)
    Rollup.objects.filter(scope="organisation").update(value=-1.0)  # drifted rows the reconcile repairs

    rollups_reconcile()

    assert same(rows(), before)
    assert not StaleRollup.objects.exists()
