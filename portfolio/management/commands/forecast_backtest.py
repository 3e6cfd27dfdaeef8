from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from portfolio.kpis.forecast.backtest import HIDDEN, forecast_accuracy_store, forecast_backtest


class Command(BaseCommand):
    help = (
        "How accurate KPI forecasts are on this database's history: hide each product and KPI's last periods, "
        "forecast them, compare. Prints per KPI the mean absolute percentage error (and the naive forecast's), "
        "the share of series at least as good as naive, and the measured coverage of the 80 % and 95 % "
        "intervals, and stores them for each forecast's explanation (unless --dry-run)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--hidden", type=int, default=HIDDEN, help=f"periods hidden and forecast ({HIDDEN})"
        )
        parser.add_argument("--products", type=int, default=0, help="only the first N products (default all)")
        parser.add_argument("--dry-run", action="store_true", help="print the figures, store nothing")

    def handle(self, *args, hidden: int, products: int, dry_run: bool, **options) -> None:
        if hidden < 1:
            raise CommandError("--hidden must be 1 or more.")
        if products < 0:
            raise CommandError("--products must be 0 (all) or more.")
        with tqdm(desc="Backtesting forecasts", unit="value", file=self.stderr._out) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            results = forecast_backtest(hidden=hidden, products=products, progress=progress)
        if not results:
            self.stdout.write("No series long enough to backtest.")
            return
        accuracies = [result for _, result in results]
        self.stdout.write(
            f"Forecast of the last {hidden} periods of each series, from the ones before.\n"
            f"{'KPI':<34} {'series':>7} {'MAPE %':>8} {'naive %':>8} {'≥ naive':>8} {'80 % in':>8} {'95 % in':>8}"
        )
        for r in accuracies:
            self.stdout.write(
                f"{r.name[:34]:<34} {r.series:>7,} {r.mape:>8.1f} {r.naive_mape:>8.1f} {r.at_least_naive:>8.0%}"
                f" {r.coverage_80:>8.0%} {r.coverage_95:>8.0%}"
            )
        series = sum(r.series for r in accuracies)
        weighted = lambda field: sum(getattr(r, field) * r.series for r in accuracies) / series  # noqa: E731
        self.stdout.write(
            f"{'All':<34} {series:>7,} {weighted('mape'):>8.1f} {weighted('naive_mape'):>8.1f}"
            f" {weighted('at_least_naive'):>8.0%} {weighted('coverage_80'):>8.0%} {weighted('coverage_95'):>8.0%}"
        )
        if dry_run:
            self.stdout.write("Dry run: nothing stored.")
        else:
            stored = forecast_accuracy_store(results, hidden=hidden)
            self.stdout.write(
                f"Stored for {stored} KPIs: each forecast's explanation quotes its KPI's figures."
            )
