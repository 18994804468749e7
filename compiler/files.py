"""Writing a compile's files: each atomically, all of them flushed to disk in one pass.

A reader sees each file's old content or its new, never a part, as with
policyspec.atomic: every file is written to a temporary file beside it,
flushed to disk, then renamed over its path. The difference is the order: every
temporary file is written before any is flushed, and every one flushed before
any is renamed. Flushing each file before writing the next made the disk commit
its journal once per file (5,000 files for a 1,000-category spec), which took
more CPU time than writing the files. If any file cannot be written, no file
is replaced and no temporary file is left.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path


def write_all(files: Mapping[Path, bytes | bytearray]) -> None:
    """Write every file atomically; an existing file keeps its permissions."""
    staged: list[tuple[Path, Path]] = []
    try:
        for folder in sorted({path.parent for path in files}):
            folder.mkdir(parents=True, exist_ok=True)
        for path, data in files.items():
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            staged.append((Path(name), path))
            _fill(handle, data, like=path)
        for temporary, _ in staged:
            _flush_to_disk(temporary)
        for temporary, path in staged:
            os.replace(temporary, path)
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise


def _fill(handle: int, data: bytes | bytearray, like: Path) -> None:
    """Write `data` to the open file `handle` and close it; it gets the permissions of
    `like` where that exists."""
    with os.fdopen(handle, "wb") as stream:
        with suppress(FileNotFoundError):
            os.fchmod(handle, like.stat().st_mode & 0o777)
        stream.write(data)


def _flush_to_disk(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
