from itertools import groupby

from django.core.management.base import BaseCommand
from tqdm import tqdm

from portfolio.kpis.forecast.accuracy import check_series, kpi_accuracy
from portfolio.models import KPI, Measurement


class Command(BaseCommand):
    help = (
        "How accurate KPI forecasts are on this database's history: hide each product and KPI's last periods, "
        "forecast them, compare. Prints per KPI the mean absolute percentage error (and the naive forecast's), "
        "the share of series at least as good as naive, and the measured coverage of the 80 % and 95 % "
        "intervals. Changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--hidden", type=int, default=8, help="periods hidden and forecast (default 8)")
        parser.add_argument("--products", type=int, default=0, help="only the first N products (default all)")

    def handle(self, *args, hidden: int, products: int, **options) -> None:
        if hidden < 1:
            self.stderr.write("--hidden must be 1 or more.")
            raise SystemExit(2)
        kpis = {kpi.pk: kpi for kpi in KPI.objects.all()}
        rows = Measurement.objects.order_by("kpi_id", "product_id", "period").values_list(
            "kpi_id", "product_id", "value"
        )
        if products:
            rows = rows.filter(
                product_id__in=list(
                    Measurement.objects.order_by("product_id")
                    .values_list("product_id", flat=True)
                    .distinct()[:products]
                )
            )
        checks: dict[int, list] = {pk: [] for pk in kpis}
        total = rows.count()
        with tqdm(total=total, desc="Backtesting forecasts", unit="value", file=self.stderr._out) as bar:
            for (kpi_id, _product), series in groupby(rows.iterator(chunk_size=20_000), key=lambda r: r[:2]):
                values = [value for _, _, value in series]
                bar.update(len(values))
                kpi = kpis[kpi_id]
                if len(values) <= hidden:
                    checks[kpi_id].append(None)
                    continue
                checks[kpi_id].append(
                    check_series(
                        values, hidden=hidden, time_aggregation=kpi.time_aggregation, frequency=kpi.frequency
                    )
                )
        results = [kpi_accuracy(kpis[pk].name, found) for pk, found in checks.items()]
        results = sorted((r for r in results if r is not None), key=lambda r: r.name)
        if not results:
            self.stdout.write("No series long enough to backtest.")
            return
        self.stdout.write(
            f"Forecast of the last {hidden} periods of each series, from the ones before.\n"
            f"{'KPI':<34} {'series':>7} {'MAPE %':>8} {'naive %':>8} {'≥ naive':>8} {'80 % in':>8} {'95 % in':>8}"
        )
        for r in results:
            self.stdout.write(
                f"{r.name[:34]:<34} {r.series:>7,} {r.mape:>8.1f} {r.naive_mape:>8.1f} {r.at_least_naive:>8.0%}"
                f" {r.coverage_80:>8.0%} {r.coverage_95:>8.0%}"
            )
        series = sum(r.series for r in results)
        weighted = lambda field: sum(getattr(r, field) * r.series for r in results) / series  # noqa: E731
        self.stdout.write(
            f"{'All':<34} {series:>7,} {weighted('mape'):>8.1f} {weighted('naive_mape'):>8.1f}"
            f" {weighted('at_least_naive'):>8.0%} {weighted('coverage_80'):>8.0%} {weighted('coverage_95'):>8.0%}"
        )
