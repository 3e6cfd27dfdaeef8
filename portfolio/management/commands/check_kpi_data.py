from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from portfolio.kpis.selectors.data_checks import kpi_data_problems
from portfolio.models import KPI


class Command(BaseCommand):
    help = (
        "List stored KPI data that breaks the rules of valid values and periods (a value or target outside its "
        "KPI's range, a period that has not begun). Changes nothing. Exits 1 when there is any."
    )

    def handle(self, *args, **options) -> None:
        with tqdm(
            total=KPI.objects.count(), desc="Checking KPI data", unit="KPI", file=self.stderr._out
        ) as bar:
            found = list(kpi_data_problems(progress=lambda _kpi: bar.update(1)))
        if not found:
            self.stdout.write(self.style.SUCCESS("Every stored value, target and period is valid."))
            return
        for problems in found:
            kpi = problems.kpi
            self.stdout.write(
                f"{kpi.name} (valid: {kpi.valid_range.words(kpi.unit)}): {problems.values:,} values outside the "
                f"range, {problems.future:,} in periods that have not begun, {problems.targets:,} product targets "
                f"outside the range{', and its default target' if problems.default_target else ''}."
            )
            for example in problems.examples:
                self.stdout.write(f"  {example}")
        total = sum(problems.count for problems in found)
        # Exit status 1 (BaseCommand.run_from_argv), so that a script or CI step can stop on it.
        raise CommandError(
            f"{total:,} problem{'s' if total != 1 else ''} in {len(found)} KPI{'s' if len(found) != 1 else ''}: "
            "nothing was changed. Correct them in the admin or with a CSV import.",
            returncode=1,
        )
