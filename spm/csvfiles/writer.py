"""Writing CSV: formula-safe cells, lines and a streaming download response, for every app."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils import timezone

# A spreadsheet reads a text cell starting with one of these as a formula (CSV injection, OWASP); tab and
# carriage return are included because some spreadsheets strip them and then read the next character.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_SIZE = 2000


def csv_cell(value: object) -> object:
    """A value as a safe CSV cell: None is empty, text that a spreadsheet would run as a formula gets a
    leading apostrophe, numbers stay numbers (a negative number is a number, not a formula)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return f"'{value}" if _needs_escape(value) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return csv_cell(str(value))


def _needs_escape(text: str) -> bool:
    """A formula character first; or an apostrophe before one (or before another apostrophe), so that the import,
    which drops one such apostrophe (``spm.csvfiles.reader.unescape_cell``), gives back exactly this text."""
    if text.startswith(FORMULA_PREFIXES):
        return True
    return text.startswith("'") and text[1:].startswith((*FORMULA_PREFIXES, "'"))


class _Line:
    """A file-like object whose ``write`` hands the line back, so ``csv.writer`` yields lines one at a time."""

    def write(self, line: str) -> str:
        return line


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header and every row as CSV lines (RFC 4180 quoting, CRLF), cells made formula-safe."""
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


# Lines sent per chunk: a chunk per line would mean a million small writes for the measurements.
LINES_PER_CHUNK = 500


def _chunks(lines: Iterable[str]) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) >= LINES_PER_CHUNK:
            yield "".join(batch)
            batch.clear()
    if batch:
        yield "".join(batch)


def csv_response(
    header: Iterable[str], rows: Iterable[Iterable[object]], *, filename: str
) -> StreamingHttpResponse:
    """A streaming CSV download: the database is read while the response is sent, a few hundred lines a chunk.
    Every CSV download of every app goes through here."""
    response = StreamingHttpResponse(_chunks(csv_lines(header, rows)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_filename(name: str) -> str:
    """``rollups-2026-11-23.csv``: what the file holds and the day it was taken."""
    return f"{name}-{timezone.localdate():%Y-%m-%d}.csv"
