"""Reading JSONL and CSV input files row by row, keeping each row's line number.

A row that cannot be used becomes a diagnostic (CP001 unreadable, CP002 unusable) that
names its file and line; the caller reports it and goes on, so no row is ever dropped
silently. A file that
cannot be read at all raises InputError.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

from core.diagnostics import Diagnostic, SourceSpan
from spec_lang import InputError
from spec_lang.loader import read_text

JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")


def skipped_row(path: Path | str, line: int, message: str, code: str = "CP002") -> Diagnostic:
    """A row that was skipped, and why."""
    return Diagnostic(code, message, SourceSpan(str(path), line, 1, line, 1))


def rows(path: Path, required: str | None = None) -> Iterator[tuple[int, dict | Diagnostic]]:
    """(line, row) per row of a .jsonl or .csv file; a row that cannot be read is a diagnostic.

    `required` names a CSV column without which the file is unusable.
    """
    text = read_text(path)
    if path.suffix.lower() == ".csv":
        yield from _csv_rows(path, text, required)
    elif path.suffix.lower() in JSONL_SUFFIXES:
        yield from _jsonl_rows(path, text)
    else:
        raise InputError(f"{path}: give a .jsonl or .csv file")


def _jsonl_rows(path: Path, text: str) -> Iterator[tuple[int, dict | Diagnostic]]:
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            yield number, skipped_row(path, number, f"not valid JSON ({error.msg})", "CP001")
            continue
        if not isinstance(row, dict):
            yield number, skipped_row(path, number, "not a JSON object", "CP001")
            continue
        yield number, row


def _csv_rows(
    path: Path, text: str, required: str | None
) -> Iterator[tuple[int, dict | Diagnostic]]:
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise InputError(f"{path}:1: not a CSV header ({error})") from None
    header = [name.strip() for name in header]
    if required and required not in header:
        raise InputError(f"{path}:1: no {required!r} column (columns: {', '.join(header)})")
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield (
                start,
                skipped_row(path, start, f"not valid CSV ({error}); the rest is unread", "CP001"),
            )
            return
        if not fields:
            continue
        if len(fields) != len(header):
            message = f"{len(fields)} fields where the header has {len(header)}"
            yield start, skipped_row(path, start, message, "CP001")
            continue
        yield start, dict(zip(header, fields, strict=True))
