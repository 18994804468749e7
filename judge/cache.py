"""Verdicts kept on disk, so that a rerun of the same judgement costs nothing.

The key is a hash of everything a verdict depends on: the spec's content hash, the
transcript's content (canonical JSON), who judges, the prompt templates' text and the
prompts rendered from them, the schema, and the sampling settings. One JSON file per
key under the cache folder (default `.policyspec-cache/judge/`), written atomically; a
file that cannot be read is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import orjson

from core.atomic import write_bytes

DEFAULT_CACHE = Path(".policyspec-cache") / "judge"
_VERSION = 1  # bump when what a cache file holds changes


def key(fields: dict) -> str:
    data = orjson.dumps({"version": _VERSION, **fields}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(data).hexdigest()


def content_hash(value: object) -> str:
    return "sha256:" + hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()


class Cache:
    """The cache folder, and its hits and misses so far (counted under a lock: an
    endpoint judge reads the cache from several threads)."""

    def __init__(self, folder: Path | str = DEFAULT_CACHE):
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0
        self._count = threading.Lock()

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.json"

    def get(self, digest: str) -> dict | None:
        try:
            value = orjson.loads(self._path(digest).read_bytes())
        except (OSError, orjson.JSONDecodeError):
            value = None
        found = isinstance(value, dict) and value.get("key") == digest
        with self._count:
            if found:
                self.hits += 1
            else:
                self.misses += 1
        return value if found else None

    def put(self, digest: str, value: dict) -> None:
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(path, orjson.dumps({"key": digest, **value}, option=orjson.OPT_SORT_KEYS))
