from portfolio.imports.command import ImportCommand
from products.models import ImportKind


class Command(ImportCommand):
    help = "Import KPI measurements (product, kpi, period, value, target) from a CSV file; --dry-run only checks it. Exit 1 on any invalid row."
    kind = ImportKind.MEASUREMENTS
