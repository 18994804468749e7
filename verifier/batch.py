"""Verifying files of transcripts: every input line gets exactly one result, in order.

JSONL is read as bytes, a line at a time (memory is flat in the number of
lines, and a line over the size limit is skipped through without being held).
A line that is blank, not JSON, cut off, not UTF-8 or too long still gets its
result line, with the finding that says so; nothing stops a batch but a file
that cannot be opened. A file named *.json holds one transcript or an array of
them; an empty file gets one result saying it is empty. The report goes to a
temporary file beside its destination and is renamed over it when complete.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from policyspec import atomic
from spec_lang import InputError
from verifier.checks import Verifier
from verifier.findings import Finding, Result, Scores
from verifier.report import Totals, record
from verifier.transcript import load_json

MAX_LINE_BYTES = 16 << 20
STDIN = Path("-")
Progress = Callable[[int], None]  # called with the number of bytes read since the last call
OnResult = Callable[[str, int, Result], None]


def unreadable(code: str, message: str) -> Result:
    """The result for input that holds no transcript to verify."""
    return Result(None, (Finding(code, message, "$"),), Scores(0.0, 0.0, None))


def read_lines(stream: BinaryIO, max_bytes: int) -> Iterator[bytes | int]:
    """Each line without its line break, or, for a line over `max_bytes`, its size."""
    while line := stream.readline(max_bytes + 1):
        if len(line) > max_bytes and not line.endswith(b"\n"):
            size = len(line)
            while line and not line.endswith(b"\n"):
                line = stream.readline(1 << 20)
                size += len(line)
            yield size - line.endswith(b"\n")
        else:
            yield line.rstrip(b"\r\n")


def iter_results(
    verifier: Verifier,
    path: Path,
    max_line_bytes: int = MAX_LINE_BYTES,
    on_progress: Progress | None = None,
) -> Iterator[tuple[int, Result]]:
    """(line number, result) for every line of a JSONL file, or every item of a .json file."""
    if path.suffix == ".json":
        yield from _json_document(verifier, path, on_progress)
        return
    with _open(path) as stream:
        number, pending = 0, 0
        for number, line in enumerate(read_lines(stream, max_line_bytes), 1):
            if isinstance(line, int):
                pending += line + 1
                message = f"the line is {line} bytes, over the limit of {max_line_bytes}"
                yield number, unreadable("VF005", message)
                continue
            pending += len(line) + 1
            if line.strip():
                yield number, _verify(verifier, line)
            else:
                yield number, unreadable("VF001", "empty line: no transcript")
            if on_progress and number % 1024 == 0:
                on_progress(pending)
                pending = 0
        if number == 0:
            yield 1, unreadable("VF001", "empty file: no transcripts")
        if on_progress:
            on_progress(pending)


def _json_document(verifier: Verifier, path: Path, on_progress: Progress | None):
    with _open(path) as stream:
        data = stream.read()
    if on_progress:
        on_progress(len(data))
    if not data.strip():
        yield 1, unreadable("VF001", "empty file: no transcripts")
        return
    document, finding = load_json(data, "$")
    if finding is not None:
        yield 1, Result(None, (finding,), Scores(0.0, 0.0, None))
    elif isinstance(document, list):
        if not document:
            yield 1, unreadable("VF001", "empty array: no transcripts")
        for number, item in enumerate(document, 1):
            yield number, _verify(verifier, item)
    else:
        yield 1, _verify(verifier, document)


def _verify(verifier: Verifier, item) -> Result:
    """Verify one item; should a check ever raise, that item fails closed and the batch goes on."""
    try:
        return verifier.verify(item)
    except Exception as error:
        return unreadable("VF090", f"verification failed: {type(error).__name__}: {error}")


@contextmanager
def _open(path: Path) -> Iterator[BinaryIO]:
    if path == STDIN:
        yield sys.stdin.buffer
        return
    try:
        stream = path.open("rb")
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    with stream:
        yield stream


@contextmanager
def atomic_lines(path: Path | None) -> Iterator[Callable[[bytes], object]]:
    """A writer of report lines that lands at `path` only when the block completes."""
    if path is None:
        yield lambda _: None
        return
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    atomic.sweep(path.parent)
    handle, temporary = atomic.mkstemp(path)
    try:
        with os.fdopen(handle, "wb", buffering=1 << 20) as stream:
            yield stream.write
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run(
    verifier: Verifier,
    paths: list[Path],
    report: Path | None = None,
    *,
    max_line_bytes: int = MAX_LINE_BYTES,
    on_file: Callable[[str], None] | None = None,
    on_result: OnResult | None = None,
    on_progress: Progress | None = None,
) -> Totals:
    """Verify every transcript in `paths`, in order; write the report; return the totals."""
    totals = Totals()
    with atomic_lines(report) as write:
        for path in paths:
            source = str(path)
            if on_file:
                on_file(source)
            for line, result in iter_results(verifier, path, max_line_bytes, on_progress):
                totals.add(result)
                write(record(source, line, result))
                if on_result:
                    on_result(source, line, result)
    return totals
