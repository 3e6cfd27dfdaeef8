"""The Import page: upload a CSV file, see its problems or what it would change, apply it, follow its progress.

Thin: the reading, checks and writes are ``portfolio.imports.importer`` and its kinds; runs, storage and
background work are ``portfolio.imports.runs``; who may do what is ``products.permissions``.
"""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from portfolio.imports.forms import ImportUploadForm, too_big_message
from portfolio.imports.outcome import MAX_CHANGES_KEPT
from portfolio.imports.runs import import_run_create, import_run_start, import_runs_recent
from products import permissions
from products.models import ImportKind, ImportRun, ImportSource, ImportStatus, ImportStep
from spm.csvfiles.reader import size_label
from spm.web.regions import is_htmx, render_region

IMPORTS = "portfolio/imports.html"
IMPORT_RUN = "portfolio/import_run.html"
RUN_REGION = "import-run-status"
# What a multipart body may add to the file itself (boundaries, the other fields).
FORM_OVERHEAD = 64 * 1024
EXPORTS = {
    ImportKind.MEASUREMENTS: ("portfolio:measurements", "product, kpi, period, value, target"),
    ImportKind.PRODUCTS: (
        "products:list",
        "slug, name, portfolio, stage, market, focus, owner, health, planned_budget, actual_spend",
    ),
    ImportKind.KPIS: (
        "portfolio:kpis",
        "kpi, unit, direction, aggregation, time_aggregation, target, tolerance, frequency",
    ),
}


def _require_import(request: HttpRequest) -> list[str]:
    kinds = permissions.import_kinds_allowed(request.user)
    if not kinds:
        raise PermissionDenied("Importing files is for PMs, directors and VPs.")
    return kinds


@csrf_exempt  # checked below, once the size is known to be acceptable
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    """The upload form and the recent imports (GET); an upload is stored and checked (POST), then its page.

    A body larger than the limit is refused from its Content-Length, before it is read (the CSRF check would
    read it): such a request writes nothing, so it needs no token."""
    kinds = _require_import(request)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if request.method == "POST" and length > settings.IMPORT_MAX_BYTES + FORM_OVERHEAD:
        form = ImportUploadForm(kinds=kinds, initial={"kind": request.GET.get("kind")})
        return _imports_page(request, form, kinds, refused=too_big_message(length), status=413)
    return _imports_checked(request, kinds)


@csrf_protect
def _imports_checked(request: HttpRequest, kinds: list[str]) -> HttpResponse:
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, kinds=kinds)
        if form.is_valid():
            run = import_run_create(
                kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], by=request.user
            )
            import_run_start(run=run, step=ImportStep.CHECK)
            return redirect(run)
        return _imports_page(request, form, kinds, status=400)
    kind = request.GET.get("kind")
    form = ImportUploadForm(kinds=kinds, initial={"kind": kind if kind in kinds else kinds[0]})
    return _imports_page(request, form, kinds)


def _imports_page(
    request: HttpRequest, form: ImportUploadForm, kinds: list[str], *, refused: str = "", status: int = 200
) -> HttpResponse:
    context = {
        "form": form,
        "refused": refused,
        "runs": import_runs_recent(user=request.user),
        "formats": [(ImportKind(kind), *EXPORTS[kind]) for kind in kinds],
        "max_size": size_label(settings.IMPORT_MAX_BYTES),
        "max_rows": settings.IMPORT_MAX_ROWS,
    }
    return render(request, IMPORTS, context, status=status)


def _run_or_404(request: HttpRequest, pk: int) -> ImportRun:
    run = get_object_or_404(ImportRun.objects.select_related("uploaded_by"), pk=pk)
    if not permissions.can_see_import_run(request.user, run):
        raise PermissionDenied("This import is someone else's.")
    return run


@require_GET
@vary_on_headers("HX-Request")
def import_run(request: HttpRequest, pk: int) -> HttpResponse:
    """One import: its progress while it runs (the status region polls itself every second), then its problems
    or its counts, with the Apply button for a checked file."""
    run = _run_or_404(request, pk)
    context = {
        "run": run,
        "can_apply": run.status == ImportStatus.READY
        and run.source == ImportSource.UPLOAD
        and run.uploaded_by_id == request.user.pk,
        "export": EXPORTS[run.kind],
        "more_errors": max(run.error_count - len(run.errors), 0),
        "changes_cut": len(run.changes) >= MAX_CHANGES_KEPT,  # only the first changes were kept
    }
    # The status region polls itself: any htmx request but a history restore wants the region alone.
    return render_region(request, IMPORT_RUN, RUN_REGION if is_htmx(request) else None, context)


@require_POST
def import_apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply a checked file: it is read and checked again, and written in one transaction if still valid."""
    run = _run_or_404(request, pk)
    if run.uploaded_by_id != request.user.pk:
        raise PermissionDenied("Only the person who uploaded a file applies it.")
    if run.status != ImportStatus.READY or run.source != ImportSource.UPLOAD:
        messages.error(request, f"This import cannot be applied: it is {run.get_status_display().lower()}.")
        return redirect(run)
    import_run_start(run=run, step=ImportStep.APPLY)
    return redirect(run)
