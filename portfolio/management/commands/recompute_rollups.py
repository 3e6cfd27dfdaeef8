from django.core.management.base import BaseCommand
from tqdm import tqdm

from portfolio.kpis.engine import RECOMPUTE_STEPS, rollups_recompute_all
from portfolio.models import Rollup


class Command(BaseCommand):
    help = (
        "Recompute every KPI rollup (every scope, grain and period) in one transaction, with a progress bar."
    )

    def handle(self, *args, **options) -> None:
        with tqdm(
            total=RECOMPUTE_STEPS, desc="Recomputing rollups", unit="step", file=self.stderr._out
        ) as bar:

            def advance(step: str) -> None:
                bar.set_postfix_str(step)
                bar.update(1)

            rollups_recompute_all(progress=advance)
        self.stdout.write(self.style.SUCCESS(f"{Rollup.objects.count():,} rollup rows recomputed."))
