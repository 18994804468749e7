"""The one check every command with `-o` makes before it writes anything.

An output is refused (one line, exit 2, the path left untouched) when it is one of
the command's inputs (the same file once symlinks are resolved, or the same inode:
a hard link), when an input lies inside an output folder, or when it exists and is
not what the command writes: a verify report, a transcripts file, an HTML report
(a page with report's generator tag), or a compile folder (a folder with the
manifest.json compile writes, or an empty one).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from enum import StrEnum
from pathlib import Path

import orjson

from policyspec.console import fail_input

_PEEK = 1 << 16  # how much of an existing file is read to tell what it is
_GENERATOR = b'<meta name="generator" content="policyspec report">'  # reports.html's page
_SITE_GENERATOR = b'<meta name="generator" content="policyspec doc">'  # workbench.site's pages


class Kind(StrEnum):
    report = "a verify report"
    transcripts = "a transcripts file"
    compile = "a compile folder"
    html = "a policyspec HTML report"
    site = "a policyspec documentation site"


def refuse_unsafe_output(output: Path, inputs: Iterable[Path | str | None], kind: Kind) -> None:
    """Exit 2 with one line unless writing `kind` to `output` is safe; see the module."""
    for source in inputs:
        if source is None or str(source) == "-":
            continue
        source = Path(source)
        if _same(output, source):
            fail_input(f"{output}: is also an input ({source}); write the output elsewhere")
        if kind in (Kind.compile, Kind.site) and _inside(source, output):
            fail_input(f"{output}: holds an input ({source}); write the output elsewhere")
    if not os.path.lexists(output):
        return
    if not output.exists():
        return  # a dangling link: written through, as a new file would be
    problem = _what_is_wrong(output, kind)
    if problem:
        fail_input(f"{output}: {problem}, not {kind.value}; give a new path, or remove it first")


def _same(first: Path, second: Path) -> bool:
    try:
        if first.resolve() == second.resolve():
            return True
        one, other = first.stat(), second.stat()
    except OSError:
        return False
    return (one.st_dev, one.st_ino) == (other.st_dev, other.st_ino)


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except OSError:
        return False


def _what_is_wrong(output: Path, kind: Kind) -> str | None:
    if kind is Kind.compile:
        if not output.is_dir():
            return "exists and is a file"
        if (output / "manifest.json").is_file():
            manifest = output / "manifest.json"
            return None if _looks_like_manifest(manifest) else "has a manifest.json of another tool"
        if any(os.scandir(output)):
            return "is a folder with files and no manifest.json"
        return None
    if kind is Kind.site:
        return _not_a_site(output)
    if output.is_dir():
        return "is a folder"
    if not output.is_file():
        return "is not a regular file"
    with output.open("rb") as stream:
        head = stream.read(_PEEK)
    if not head:
        return None
    if kind is Kind.report:
        return None if head.startswith(b'{"source":') else "exists and holds other data"
    if kind is Kind.html:
        return None if _GENERATOR in head else "exists and is not a page policyspec wrote"
    first, newline, _ = head.partition(b"\n")
    if not newline:  # no whole line: a transcript cut off by an interrupted run, or not ours
        return None if head.startswith(b'{"id":') else "exists and holds other data"
    return None if is_transcript(first) else "exists and holds lines that are not transcripts"


def _not_a_site(output: Path) -> str | None:
    """A documentation site is written over an empty folder or a site `doc` wrote."""
    if not output.is_dir():
        return "exists and is a file"
    index = output / "index.html"
    if index.is_file():
        with index.open("rb") as stream:
            if _SITE_GENERATOR in stream.read(_PEEK):
                return None
    if any(os.scandir(output)):
        return "is a folder with files and no site policyspec doc wrote"
    return None


def is_transcript(line: bytes) -> dict | None:
    """The transcript on a line as generate writes it, or None."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if isinstance(record, dict) and {"id", "messages", "output"} <= record.keys():
        return record
    return None


def _looks_like_manifest(path: Path) -> bool:
    try:
        manifest = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return isinstance(manifest, dict) and {"spec", "targets"} <= manifest.keys()
