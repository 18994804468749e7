"""Verifying files of transcripts: every input line gets exactly one result, in order.

JSONL is read as bytes, a chunk at a time (memory is flat in the number of
lines, and a line over the size limit is skipped through without being held).
Lines end at \n, \r\n or a lone \r; a UTF-8 byte order mark before a line
(the first, or the first of a file concatenated on) is dropped, as the spec
loader drops it. A regular file is read up to the
size it had when reading started: lines appended while it is read are left for
the next run, and a last line being written at that moment is one result (cut
off), never two. A line that is blank, not JSON, cut off, not UTF-8 or too long
still gets its result line, with the finding that says so; nothing stops a batch
but a file that cannot be opened, or a .json file over the size limit.

A file named *.json holds one transcript or an array of them, and is read
whole: one over the line size limit (--max-line-bytes) is refused with one line
rather than held (write such a batch as JSONL). An empty file gets one result
saying it is empty. The report goes to a temporary file beside its destination
and is renamed over it when complete.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from core import atomic
from core.diagnostics import Diagnostic
from spec_lang import InputError
from verifier.checks import Verifier
from verifier.findings import Result, Scores
from verifier.report import Judgements, Totals, record
from verifier.transcript import load_json

MAX_LINE_BYTES = 16 << 20
CHUNK_BYTES = 16 << 10
BOM = b"\xef\xbb\xbf"
STDIN = Path("-")
Progress = Callable[[int], None]  # called with the number of bytes read since the last call
OnResult = Callable[[str, int, Result], None]


def unreadable(code: str, message: str) -> Result:
    """The result for input that holds no transcript to verify."""
    return Result(None, (Diagnostic(code, message, path="$"),), Scores(0.0, 0.0, None))


def read_lines(
    stream: BinaryIO,
    max_bytes: int,
    size: int | None = None,
    on_progress: Progress | None = None,
) -> Iterator[bytes | int]:
    """Each line without its line break, or, for a line over `max_bytes`, its size.

    Lines end at \n, \r\n or a lone \r. At most `size` bytes are read (None: to the
    end); a last line with no break after it is a line. `on_progress` gets the bytes
    of each chunk read.
    """
    read = getattr(stream, "read1", None) or stream.read
    left = size
    parts: list[bytes] = []  # the start of a line whose end is not read yet, within max_bytes
    held, after_cr = 0, False  # its length (kept counting past max_bytes); a chunk ended in \r
    while left != 0:
        chunk = read(CHUNK_BYTES if left is None else min(CHUNK_BYTES, left))
        if not chunk:
            break
        if left is not None:
            left -= len(chunk)
        if on_progress:
            on_progress(len(chunk))
        if after_cr and chunk.startswith(b"\n"):  # the \n of a \r\n split between chunks
            chunk = chunk[1:]
        after_cr = chunk.endswith(b"\r")
        lines = chunk.splitlines()  # bytes split at \n, \r\n and \r only
        tail = b"" if chunk.endswith((b"\n", b"\r")) or not lines else lines.pop()
        if held and lines:  # the first line ends what the chunks before began
            first = lines[0]
            yield held + len(first) if held + len(first) > max_bytes else b"".join((*parts, first))
            parts, held, lines = [], 0, lines[1:]
        if lines and max(map(len, lines)) > max_bytes:
            yield from (len(line) if len(line) > max_bytes else line for line in lines)
        else:
            yield from lines
        if tail:
            held += len(tail)
            if held <= max_bytes:
                parts.append(tail)
            else:
                parts = []
    if held:
        yield held if held > max_bytes else b"".join(parts)


def iter_results(
    verifier: Verifier,
    path: Path,
    max_line_bytes: int = MAX_LINE_BYTES,
    on_progress: Progress | None = None,
) -> Iterator[tuple[int, Result]]:
    """(line number, result) for every line of a JSONL file, or every item of a .json file."""
    for number, item in iter_lines(path, max_line_bytes, on_progress):
        yield number, item if isinstance(item, Result) else verify_item(verifier, item)


def iter_lines(
    path: Path, max_line_bytes: int = MAX_LINE_BYTES, on_progress: Progress | None = None
) -> Iterator[tuple[int, Any]]:
    """(line number, item) for every line of a JSONL file, or every item of a .json file:
    what to verify (a line's bytes, a .json file's item), or, for a line that holds no
    transcript (blank, over the limit, not JSON), its Result already."""
    if path.suffix == ".json":
        yield from _json_document(path, max_line_bytes, on_progress)
        return
    with _open(path) as stream:
        number = 0
        lines = read_lines(stream, max_line_bytes, _snapshot_size(stream), on_progress)
        for number, line in enumerate(lines, 1):
            if isinstance(line, int):
                message = f"the line is {line} bytes, over the limit of {max_line_bytes}"
                yield number, unreadable("VF005", message)
            elif line.strip():
                yield number, line
            else:
                yield number, unreadable("VF001", "empty line: no transcript")
        if number == 0:
            yield 1, unreadable("VF001", "empty file: no transcripts")


def _snapshot_size(stream: BinaryIO) -> int | None:
    """A regular file's size now, to read no further; None for a pipe or a terminal."""
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # io.BytesIO and the like have no fileno
        return None
    return status.st_size if stat.S_ISREG(status.st_mode) else None


def _json_document(
    path: Path, max_bytes: int, on_progress: Progress | None
) -> Iterator[tuple[int, Any]]:
    """The transcripts of a .json file, read whole: so it must be within `max_bytes`."""
    with _open(path) as stream:
        size = _snapshot_size(stream)
        data = stream.read(max_bytes + 1 if size is None or size > max_bytes else size)
    if len(data) > max_bytes:
        shown = f"{size:,} bytes" if size is not None else "longer"
        raise InputError(
            f"{path}: a .json file is read whole, and this one is {shown}, over the limit of "
            f"{max_bytes:,}; write the transcripts as JSONL (one a line), or raise "
            "--max-line-bytes"
        )
    if on_progress:
        on_progress(len(data))
    data = data.removeprefix(BOM)
    if not data.strip():
        yield 1, unreadable("VF001", "empty file: no transcripts")
        return
    document, finding = load_json(data, "$")
    if finding is not None:
        yield 1, Result(None, (finding,), Scores(0.0, 0.0, None))
    elif isinstance(document, list):
        if not document:
            yield 1, unreadable("VF001", "empty array: no transcripts")
        yield from enumerate(document, 1)
    else:
        yield 1, document


def verify_item(verifier: Verifier, item: Any) -> Result:
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
    judgements: Judgements | None = None,
    results: Callable[[Path, Progress | None], Iterable[tuple[int, Result]]] | None = None,
) -> Totals:
    """Verify every transcript in `paths`, in order; write the report (with each line's
    judgement beside its findings, when `judgements` are given); return the totals.
    `results` gives a file's (line, result) pairs in place of verifying them here (as
    verifier.distributed.ray_results does on a Ray cluster, and pool_results in worker
    processes)."""
    totals = Totals()
    with atomic_lines(report) as write:
        for path in paths:
            source = str(path)
            if on_file:
                on_file(source)
            if results is None:
                found = iter_results(verifier, path, max_line_bytes, on_progress)
            else:
                found = results(path, on_progress)
            for line, result in found:
                totals.add(result)
                write(record(source, line, result, judgements))
                if on_result:
                    on_result(source, line, result)
    return totals
