"""Import runs: an uploaded CSV file is stored, checked, then applied, each step in the request (small files) or
by a Celery worker (larger ones) while the run's page shows its progress. See docs/imports.md.

The upload is kept in the database in chunks (``ImportChunk``), so a worker in another container reads exactly
what the web server received; the chunks are deleted once the run is applied, found invalid or expired.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator

from celery import current_app
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portfolio.alerts.services import import_run_notify
from portfolio.imports.importer import import_csv
from portfolio.imports.outcome import ImportOutcome, ImportRequest, throttled
from products.choices import Role
from products.models import ImportChunk, ImportRun, ImportSource, ImportStatus, ImportStep, User
from spm.csvfiles.reader import CHUNK_BYTES

logger = logging.getLogger(__name__)

# A checked file waits this long for its Apply; then its bytes are dropped.
READY_KEEP = dt.timedelta(days=1)
# A run still "running" after this long lost its worker (killed mid-run: its transaction never committed).
RUNNING_LOST_AFTER = dt.timedelta(minutes=30)


@transaction.atomic
def import_run_create(*, kind: str, upload: UploadedFile, by: User) -> ImportRun:
    """Record an upload and store its bytes, chunk by chunk; the run is queued for its check."""
    _expire_old_runs()
    run = ImportRun.objects.create(
        kind=kind,
        file_name=os.path.basename(upload.name or "upload.csv")[:255],
        file_size=upload.size or 0,
        uploaded_by=by,
        source=ImportSource.UPLOAD,
    )
    lines = 0
    last = b""
    for index, chunk in enumerate(upload.chunks(CHUNK_BYTES)):
        ImportChunk.objects.create(run=run, index=index, data=chunk)
        lines += chunk.count(b"\n")
        last = chunk
    if last and not last.endswith(b"\n"):
        lines += 1
    run.rows_total = max(lines - 1, 0)
    run.save(update_fields=["rows_total"])
    return run


def import_run_start(*, run: ImportRun, step: str) -> None:
    """Queue a step (check or apply) of the run. A file up to ``IMPORT_BACKGROUND_BYTES`` is processed right
    here; a larger one by a worker after commit (in process with eager Celery)."""
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.QUEUED, step=step, rows_processed=0, started_at=None, finished_at=None
    )
    if run.file_size <= settings.IMPORT_BACKGROUND_BYTES:
        import_run_execute(run_id=run.pk)
        return
    transaction.on_commit(lambda: _queue(run.pk), robust=True)


IMPORT_RUN_TASK = "portfolio.tasks.import_run"  # portfolio.imports.tasks.import_run
QUEUE_DOWN = (
    "The background worker could not be reached (the task queue is down), so this file was not processed and "
    "nothing was written. Upload it again in a few minutes."
)


def _queue(run_id: int) -> None:
    """Send the run to a worker. A broker that refuses fails the run with a message, rather than leaving it
    queued for ever or turning the saved upload into an error page."""
    try:
        # By name: the task module wraps this one, so this one does not import it.
        current_app.tasks[IMPORT_RUN_TASK].delay(run_id)
    except Exception:
        logger.exception("Import run %s could not be queued", run_id)
        run = ImportRun.objects.get(pk=run_id)
        if run.status == ImportStatus.QUEUED:
            _finish(run, status=ImportStatus.FAILED, message=QUEUE_DOWN)


def import_run_execute(*, run_id: int) -> None:
    """Do the queued step of a run (the Celery task's body): claim it, read its stored file, record the
    outcome. A run that is not queued (done, or taken by another worker) is left alone."""
    now = timezone.now()
    claimable = Q(status=ImportStatus.QUEUED) | Q(
        status=ImportStatus.RUNNING, started_at__lt=now - RUNNING_LOST_AFTER
    )
    if not ImportRun.objects.filter(claimable, pk=run_id).update(
        status=ImportStatus.RUNNING, started_at=now, rows_processed=0
    ):
        return
    run = ImportRun.objects.select_related("uploaded_by").get(pk=run_id)
    if run.uploaded_by is None or not run.chunks.exists():
        _finish(run, status=ImportStatus.FAILED, message="The file or the person who uploaded it is gone.")
        return

    def report(rows: int) -> None:
        ImportRun.objects.filter(pk=run_id).update(rows_processed=min(rows, max(run.rows_total, rows)))

    request = ImportRequest(
        kind=run.kind,
        chunks=stored_chunks(run),
        user=run.uploaded_by,
        apply=run.step == ImportStep.APPLY,
        reason=f"CSV import #{run.pk}",
        progress=throttled(report),
    )
    try:
        outcome = import_csv(request)
    except Exception:
        logger.exception("Import run %s failed", run_id)
        _finish(
            run,
            status=ImportStatus.FAILED,
            message="The import stopped on an unexpected error and wrote nothing. Try again, or tell an admin.",
        )
        return
    import_run_record(run, outcome)


def import_run_record(run: ImportRun, outcome: ImportOutcome) -> None:
    """Store a step's outcome on its run: counts, problems, status."""
    if not outcome.ok:
        status = ImportStatus.INVALID
    elif outcome.applied:
        status = ImportStatus.APPLIED
    else:
        status = ImportStatus.READY
    run.rows_processed = max(run.rows_processed, outcome.rows)
    run.rows_total = outcome.rows if outcome.ok or not run.rows_total else run.rows_total
    run.created, run.updated, run.unchanged = outcome.created, outcome.updated, outcome.unchanged
    run.extra = outcome.extra
    run.error_count = outcome.error_count
    run.errors = [error.as_list() for error in outcome.errors]
    run.changes = [] if not outcome.ok else [change.as_list() for change in outcome.changes]
    _finish(run, status=status)


def _finish(run: ImportRun, *, status: str, message: str = "") -> None:
    run.status = status
    run.message = message
    run.finished_at = timezone.now()
    if run.status == ImportStatus.APPLIED or run.status == ImportStatus.INVALID:
        run.rows_processed = max(run.rows_processed, run.rows_total)
    run.save()
    if status != ImportStatus.READY:
        ImportChunk.objects.filter(run=run).delete()
    if run.source == ImportSource.UPLOAD and run.file_size > settings.IMPORT_BACKGROUND_BYTES:
        import_run_notify(run=run)  # worked on in the background: its uploader may have left the page


def stored_chunks(run: ImportRun) -> Iterator[bytes]:
    """The run's file, one stored chunk (at most 1 MB) in memory at a time."""
    count = ImportChunk.objects.filter(run=run).count()
    for index in range(count):
        data = ImportChunk.objects.filter(run=run, index=index).values_list("data", flat=True).get()
        yield bytes(data)


def _expire_old_runs() -> None:
    stale = ImportRun.objects.filter(status=ImportStatus.READY, created_at__lt=timezone.now() - READY_KEEP)
    ImportChunk.objects.filter(run__in=stale).delete()
    stale.update(status=ImportStatus.EXPIRED)


def import_run_for_command(
    *, kind: str, file_name: str, size: int, by: User, outcome: ImportOutcome
) -> ImportRun:
    """The audit record of an import made with a management command (its file is not stored)."""
    run = ImportRun(
        kind=kind,
        file_name=os.path.basename(file_name)[:255],
        file_size=size,
        source=ImportSource.COMMAND,
        uploaded_by=by,
        step=ImportStep.APPLY if outcome.applied else ImportStep.CHECK,
        started_at=timezone.now(),
        rows_total=outcome.rows,
        rows_processed=outcome.rows,
    )
    run.save()
    import_run_record(run, outcome)
    return run


RECENT_RUNS = 20


def import_runs_recent(*, user: User) -> list[ImportRun]:
    """The latest imports the user may see (their own; everyone's for VPs and superusers), in one query."""
    runs = ImportRun.objects.select_related("uploaded_by").order_by("-created_at", "-pk")
    if not (user.is_superuser or user.role == Role.VP):
        runs = runs.filter(uploaded_by=user)
    return list(runs[:RECENT_RUNS])
