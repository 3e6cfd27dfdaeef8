"""Reading CSV imports: the file-level checks and a streaming row reader, shared by every kind of import.

This module knows CSV, not products or KPIs: ``portfolio.imports`` validates the cells and writes. A file is
read as a stream of byte chunks (a file on disk, an upload, the chunks stored for a background run), so memory
stays bounded whatever the file's size.

Problems are ``RowError(line, column, message)``: ``line`` is the line number in the file (the header is
line 1), ``column`` the column's name or "" for the whole line or file. A problem that makes the rest of the file
unreadable (not UTF-8, not comma-separated, the header wrong, too many rows) raises ``FileRejected``.
See docs/imports.md for every message.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from spm.csvfiles.writer import FORMULA_PREFIXES

# Bytes read and stored at a time: an upload is kept as chunks of this size.
CHUNK_BYTES = 1024 * 1024
# A cell longer than this means a quote that never closed swallowed the rest of the file.
MAX_CELL_CHARS = 100_000
OTHER_DELIMITERS = {";": "semicolons (;)", "\t": "tabs", "|": "vertical bars (|)"}
SIGNATURES = {
    b"PK\x03\x04": "an Excel workbook (.xlsx) or another zip file",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)",
    b"%PDF": "a PDF document",
}
UNCLOSED_QUOTE = "A quoted cell on this line never ends (a stray double quote?), so the rest of the file reads as one cell."
SAVE_AS_CSV = "In your spreadsheet choose Save as → “CSV UTF-8 (comma delimited)” and upload that file."


@dataclass(frozen=True, order=True)
class RowError:
    """One problem: the file's line (header = 1), the column ("" for the whole line) and what is wrong."""

    line: int
    column: str
    message: str

    def as_list(self) -> list:
        return [self.line, self.column, self.message]


class FileRejected(Exception):
    """The file cannot be read any further; ``error`` says where and why."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.error = error


def import_limits() -> tuple[int, int]:
    """(largest file in bytes, most data rows): settings ``IMPORT_MAX_BYTES`` and ``IMPORT_MAX_ROWS``."""
    return settings.IMPORT_MAX_BYTES, settings.IMPORT_MAX_ROWS


def size_label(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def unescape_cell(cell: str) -> str:
    """Undo ``spm.csvfiles.writer.csv_cell``'s formula escaping: a leading apostrophe before a formula character
    (or before another apostrophe) was added by our export and is dropped; any other apostrophe is data."""
    if len(cell) > 1 and cell[0] == "'" and cell[1] in FORMULA_CHARS:
        return cell[1:]
    return cell


FORMULA_CHARS = frozenset("".join(FORMULA_PREFIXES) + "'")


# --------------------------------------------------------------------------------------------------
# Byte sources
# --------------------------------------------------------------------------------------------------


def file_chunks(path: str | Path) -> Iterator[bytes]:
    """A file on disk, a chunk at a time."""
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


class _ChunkStream(io.RawIOBase):
    """A read-only binary stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            try:
                self._pending = next(self._chunks)
            except StopIteration:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def line_count(chunks: Iterable[bytes]) -> int:
    """Line breaks in the file (its rows, less the header, give the progress bar's total)."""
    count = 0
    last = b""
    for chunk in chunks:
        count += chunk.count(b"\n")
        last = chunk or last
    return count + (1 if last and not last.endswith(b"\n") else 0)


# --------------------------------------------------------------------------------------------------
# Reading rows
# --------------------------------------------------------------------------------------------------


def _sniff(first: bytes) -> None:
    """Refuse what is plainly not UTF-8 CSV text, from the file's first bytes."""
    if not first.strip():
        raise FileRejected(RowError(1, "", "The file is empty: it needs a header line and at least one row."))
    for signature, what in SIGNATURES.items():
        if first.startswith(signature):
            raise FileRejected(RowError(1, "", f"This is {what}, not a CSV file. {SAVE_AS_CSV}"))
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in first[:4096]:
        raise FileRejected(
            RowError(1, "", f"The file is UTF-16 or binary, not UTF-8 text. {SAVE_AS_CSV}"),
        )


def _header_problem(cells: list[str], columns: tuple[str, ...]) -> RowError | None:
    names = [cell.strip().lower() for cell in cells]
    expected = ", ".join(columns)
    if len(names) == 1:
        for delimiter, label in OTHER_DELIMITERS.items():
            if delimiter in cells[0]:
                return RowError(
                    1,
                    "",
                    f"The file separates its columns with {label}; expected commas (,). {SAVE_AS_CSV}",
                )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return RowError(1, name, f"The column “{name}” appears twice in the header.")
        seen.add(name)
    missing = [column for column in columns if column not in seen]
    unknown = [name for name in names if name not in columns]
    if not missing and not unknown:
        return None
    parts = []
    if missing:
        parts.append(f"missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    for name in unknown:
        close = difflib.get_close_matches(name, missing or columns, n=1)
        hint = f" (did you mean “{close[0]}”?)" if close else ""
        parts.append(f"unknown column “{name or '(blank)'}”{hint}")
    column = missing[0] if missing else (unknown[0] or "")
    return RowError(1, column, f"The header has {'; '.join(parts)}. Expected exactly: {expected}.")


@dataclass
class CsvReader:
    """Reads the rows of a CSV file with the given columns (in any order, names case-insensitive).

    Iterating yields ``(line, cells)`` with ``cells`` in ``columns`` order, stripped and un-escaped; blank
    lines are skipped. Lines with the wrong number of cells go to ``on_problem`` and are skipped.
    ``rows`` counts the data rows read so far.
    """

    chunks: Iterable[bytes]
    columns: tuple[str, ...]
    max_rows: int
    on_problem: Callable[[RowError], None]
    rows: int = 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        chunks = iter(self.chunks)
        first = next(chunks, b"")
        _sniff(first)
        stream = io.TextIOWrapper(
            io.BufferedReader(_ChunkStream(_prepend(first, chunks)), CHUNK_BYTES),
            encoding="utf-8-sig",
            errors="surrogateescape",  # bad bytes reach the row that holds them: its line is reported
            newline="",
        )
        reader = csv.reader(stream, strict=False)
        ended = 0  # the physical line on which the previous record ended
        header = self._next(reader, 1)
        if header is None:
            raise FileRejected(
                RowError(1, "", "The file is empty: it needs a header line and at least one row.")
            )
        self._check_text(header, 1)
        problem = _header_problem(header, self.columns)
        if problem:
            raise FileRejected(problem)
        names = [cell.strip().lower() for cell in header]
        order = [names.index(column) for column in self.columns]
        in_order = order == list(range(len(names)))
        width = len(names)
        ended = reader.line_num
        max_rows = self.max_rows
        # The hot loop (a million rows): string work in C, Python only where a line needs it.
        while True:
            line = ended + 1
            cells = self._next(reader, line)
            if cells is None:
                break
            ended = reader.line_num
            text = "".join(cells)
            if not text.isascii():
                self._check_text(cells, line)
            if not text.strip():
                continue
            self.rows += 1
            if self.rows > max_rows:
                raise FileRejected(
                    RowError(
                        line,
                        "",
                        f"The file has more than {max_rows:,} rows, the most one import takes: "
                        "split it into smaller files.",
                    )
                )
            if len(cells) != width:
                self.on_problem(
                    RowError(
                        line,
                        "",
                        f"This line has {len(cells)} cell{'s' if len(cells) != 1 else ''} but the header has "
                        f"{width} columns: a stray comma, or a cell with a comma that needs quotes?",
                    )
                )
                continue
            cells = [cell.strip() for cell in cells] if in_order else [cells[i].strip() for i in order]
            if "'" in text:
                cells = [unescape_cell(cell) for cell in cells]
            yield line, cells

    def _next(self, reader, line: int) -> list[str] | None:
        try:
            return next(reader)
        except StopIteration:
            return None
        except csv.Error as error:
            if "field larger" in str(error):
                raise FileRejected(RowError(line, "", UNCLOSED_QUOTE)) from None
            raise FileRejected(RowError(line, "", f"This line cannot be read as CSV ({error}).")) from None

    @staticmethod
    def _check_text(cells: list[str], line: int) -> None:
        text = "".join(cells)
        if text.isascii():
            return
        if len(text) > MAX_CELL_CHARS:
            raise FileRejected(RowError(line, "", UNCLOSED_QUOTE))
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            byte = ord(text[error.start]) - 0xDC00
            raise FileRejected(
                RowError(
                    line,
                    "",
                    f"The file is not UTF-8 text: this line has the byte 0x{byte:02X}, which UTF-8 does not "
                    f"allow there (the file was probably saved as Latin-1 or Windows-1252). {SAVE_AS_CSV}",
                )
            ) from None


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest
