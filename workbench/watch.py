"""Waiting for a spec folder to change, by polling: portable, no package, and a spec is a
few dozen files. `policyspec test --watch` reruns the tests after each change."""

from __future__ import annotations

import time
from pathlib import Path

POLL_SECONDS = 0.3
WATCHED = ("*.policy", "policyspec.toml", "pyproject.toml")

Snapshot = dict[str, tuple[int, int]]


def snapshot(folder: Path) -> Snapshot:
    """Each watched file under `folder` with its modification time and size."""
    found: Snapshot = {}
    for pattern in WATCHED:
        for path in folder.rglob(pattern):
            try:
                status = path.stat()
            except OSError:
                continue  # removed while listed: the next snapshot sees it gone
            found[str(path)] = (status.st_mtime_ns, status.st_size)
    return found


def wait_for_change(folder: Path, before: Snapshot) -> Snapshot:
    """Poll until a watched file is added, removed or changed; the new snapshot."""
    while True:
        now = snapshot(folder)
        if now != before:
            return now
        time.sleep(POLL_SECONDS)
