"""Appending whole lines to one file from several processes at once, each synced to disk.

A JSONL output that several writers share (`policyspec generate --data-parallel N`:
one engine process per shard of the prompts, all writing the one file) must never hold
two lines run together or a line cut off in the middle. Each line is appended under an
exclusive lock on the file (`fcntl.flock`), written whole, and synced before the lock
is let go, so a line on disk is a finished one and a reader sees every line a writer
has handed back. A writer killed part way through a line leaves it unfinished at the
end of the file; the next writer to take the lock finds no newline at the end and cuts
that part off before it appends, so the cut-off line never ends up between two whole
ones. (Its request is then missing from the file, and a rerun generates it again.)
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

_CHUNK = 1 << 16


class LineAppender:
    """Appends lines to `path` (created when missing), each whole and synced."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._reader = os.open(self.path, os.O_RDONLY)

    def append(self, line: bytes) -> None:
        """Append `line` (it must end with a newline and hold no other) as one whole line."""
        if not line.endswith(b"\n") or b"\n" in line[:-1]:
            raise ValueError("append takes one line, ending with a newline")
        descriptor = self._descriptor
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            _cut_unfinished_line(self._reader, descriptor)
            view = memoryview(line)
            while view:  # a write may take less than all of it
                view = view[os.write(descriptor, view) :]
            os.fsync(descriptor)
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)

    def close(self) -> None:
        os.close(self._descriptor)
        os.close(self._reader)

    def __enter__(self) -> LineAppender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _cut_unfinished_line(reader: int, writer: int) -> None:
    """Truncate the file after its last newline: what follows it is a line a killed
    writer did not finish (only a writer holding the lock writes)."""
    size = os.fstat(writer).st_size
    if size == 0 or os.pread(reader, 1, size - 1) == b"\n":
        return
    end = size
    while end > 0:
        start = max(0, end - _CHUNK)
        newline = os.pread(reader, end - start, start).rfind(b"\n")
        if newline >= 0:
            end = start + newline + 1
            break
        end = start
    os.ftruncate(writer, end)
