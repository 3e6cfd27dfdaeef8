"""What ``manage.py import_products``, ``import_measurements`` and ``import_kpis`` share: read a CSV file, check
it, write it (unless ``--dry-run``) with a progress bar, print every problem and exit 1 if there is any, else
print the counts. Each import is recorded like an upload (docs/imports.md)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from portfolio.imports.importer import import_csv
from portfolio.imports.outcome import MAX_CHANGES_KEPT, ImportRequest
from portfolio.imports.runs import import_run_for_command
from products.models import ImportKind, User
from spm.csvfiles.reader import file_chunks, line_count, size_label


class ImportCommand(BaseCommand):
    kind: str = ""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV file (the columns of the matching ?format=csv download)")
        parser.add_argument("--dry-run", action="store_true", help="check the file and write nothing")
        parser.add_argument(
            "--user",
            help="import as this person, with their permissions and in their name (default: the first superuser)",
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        size = path.stat().st_size
        if size > settings.IMPORT_MAX_BYTES:
            raise CommandError(
                f"{path} is {size_label(size)}; one import takes at most {size_label(settings.IMPORT_MAX_BYTES)}: "
                "split it into smaller files."
            )
        user = self._user(options["user"])
        dry_run = options["dry_run"]
        kind = ImportKind(self.kind)
        total = max(line_count(file_chunks(path)) - 1, 0)
        verb = "Checking" if dry_run else "Importing"
        with tqdm(
            total=total,
            desc=f"{verb} {kind.label.lower()}",
            unit="row",
            file=self.stderr._out,
            disable=options["verbosity"] == 0,
        ) as bar:

            def progress(rows: int) -> None:
                bar.update(min(rows, total) - bar.n)

            outcome = import_csv(
                ImportRequest(
                    kind=kind,
                    chunks=file_chunks(path),
                    user=user,
                    apply=not dry_run,
                    reason=f"CSV import ({path.name})"[:100],
                    progress=progress,
                )
            )
            bar.update(total - bar.n)
        run = import_run_for_command(kind=kind, file_name=path.name, size=size, by=user, outcome=outcome)
        if not outcome.ok:
            for error in outcome.errors:
                column = f", column {error.column}" if error.column else ""
                self.stderr.write(f"{path.name}: line {error.line}{column}: {error.message}")
            more = outcome.error_count - len(outcome.errors)
            if more:
                self.stderr.write(f"… and {more:,} more problems.")
            raise CommandError(
                f"{outcome.error_count:,} problem{'s' if outcome.error_count != 1 else ''} in {path.name}: "
                f"nothing was written (import #{run.pk})."
            )
        for change in outcome.changes:
            self.stdout.write(
                f"line {change.line}: {change.row}: {change.column} {change.old} -> {change.new}"
            )
        if len(outcome.changes) >= MAX_CHANGES_KEPT:
            self.stdout.write(
                f"… the first {len(outcome.changes):,} changes; {outcome.updated:,} rows updated in all."
            )
        lead = "Checked (dry run, nothing written)" if dry_run else "Imported"
        self.stdout.write(
            f"{lead} {outcome.rows:,} rows from {path.name}: {outcome.summary()} (import #{run.pk})."
        )

    def _user(self, username: str | None) -> User:
        if username:
            try:
                return User.objects.get(username=username, is_active=True)
            except User.DoesNotExist:
                raise CommandError(f"There is no active user “{username}”.") from None
        user = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("There is no superuser to import as: pass --user USERNAME.")
        return user
