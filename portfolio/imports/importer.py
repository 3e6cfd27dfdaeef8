"""One entry point for every kind of CSV import."""

from __future__ import annotations

from portfolio.imports.kpis import import_kpis
from portfolio.imports.measurements import import_measurements
from portfolio.imports.outcome import ImportOutcome, ImportRequest
from portfolio.imports.products import import_products
from products.models import ImportKind
from products.permissions import (
    import_kinds_allowed,
)
from spm.csvfiles.reader import FileRejected


def import_csv(request: ImportRequest) -> ImportOutcome:
    """Check (and, when ``request.apply``, write) a CSV file of ``request.kind``. Never raises for a bad file:
    its problems are in the outcome, and then nothing was written."""
    outcome = ImportOutcome()
    if request.kind not in import_kinds_allowed(request.user):
        outcome.add(1, "", "You may not import this kind of file.")
        return outcome
    importer = {
        ImportKind.MEASUREMENTS: import_measurements,
        ImportKind.PRODUCTS: import_products,
        ImportKind.KPIS: import_kpis,
    }[request.kind]
    try:
        importer(request, outcome)
    except FileRejected as rejected:
        outcome.add_error(rejected.error)
        outcome.applied = False
    outcome.errors.sort()
    if not outcome.ok:
        outcome.applied = False
    return outcome
