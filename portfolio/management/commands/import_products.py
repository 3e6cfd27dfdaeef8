from portfolio.imports.command import ImportCommand
from products.models import ImportKind


class Command(ImportCommand):
    help = "Import products (slug, name, portfolio, stage, market, focus, owner, health, planned_budget, actual_spend) from a CSV file; --dry-run only checks it. Exit 1 on any invalid row."
    kind = ImportKind.PRODUCTS
