import argparse
import datetime as dt
import sys
import time

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from portfolio.demo.seed import DemoPasswordMissing, database_is_empty, demo_password, demo_seed


def positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def iso_date(raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a date like 2026-03-18") from None


class Command(BaseCommand):
    help = (
        "Replace ALL data with a deterministic demo organisation: portfolios with directors and "
        "objectives, products in every stage with owners, members and stage histories, KPIs and a "
        "history of measurements. It first deletes every portfolio, product, KPI, measurement and "
        "rollup AND EVERY USER ACCOUNT (superusers too). The demo logins admin, director, pm and junior "
        "get the password SPM_DEMO_PASSWORD (with DEBUG on and no password set: 'demo')."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--products", type=positive_int, default=120, help="Number of products (120).")
        parser.add_argument("--months", type=positive_int, default=12, help="Months of KPI history (12).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed: same seed, same data (1).")
        parser.add_argument(
            "--today",
            type=iso_date,
            default=None,
            help="Anchor date YYYY-MM-DD: the history ends in this week (default: today, UTC).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing unless the database has no users, portfolios, products or KPIs.",
        )
        parser.add_argument(
            "--no-rollups", action="store_true", help="Skip recomputing rollups after seeding."
        )

    def handle(self, *args, **options) -> None:
        if options["if_empty"] and not database_is_empty():
            self.stdout.write(
                "The database already has data: nothing seeded. If it is the demo, its logins are admin, "
                "director, pm and junior (password SPM_DEMO_PASSWORD, demo in DEBUG); manage.py seed_demo "
                "replaces it with a new demo."
            )
            return
        try:
            password, password_source = demo_password()
        except DemoPasswordMissing as error:
            raise CommandError(str(error)) from error

        today = options["today"] or timezone.localdate()
        quiet = options["verbosity"] == 0
        # tqdm redraws with carriage returns; the raw stream, not Django's line-ending OutputWrapper.
        stderr = options.get("stderr") or sys.stderr
        started = time.perf_counter()
        summary = demo_seed(
            products=options["products"],
            months=options["months"],
            seed=options["seed"],
            today=today,
            password=password,
            progress=None if quiet else stderr,
        )
        seconds = time.perf_counter() - started
        if connection.vendor == "postgresql":
            # A million fresh rows: give the planner statistics now rather than when autovacuum gets to it.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {summary.products:,} products in {summary.portfolios} portfolios, "
                f"{summary.people:,} people, {summary.kpis} KPIs, {summary.measurements:,} measurements "
                f"(seed {options['seed']}, history to {summary.today:%Y-%m-%d}) in {seconds:.1f} s."
            )
        )

        if options["no_rollups"]:
            self.stdout.write("Rollups not recomputed (--no-rollups).")
        elif "recompute_rollups" in get_commands():
            call_command(
                "recompute_rollups",
                verbosity=options["verbosity"],
                stdout=options.get("stdout") or sys.stdout,
                stderr=stderr,
            )
        else:
            self.stdout.write("Rollups not recomputed: there is no recompute_rollups command yet.")

        self.stdout.write(f"\nDemo logins, password {password_source}:")
        for login in summary.logins:
            self.stdout.write(f"  {login.username:<9} {login.description}")
