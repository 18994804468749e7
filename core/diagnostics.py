"""The one diagnostic type: a code from the registry, a message, and where: a span in a
source file, or a JSON path into a transcript. One JSON shape and one text form for
every command (`check`, `test`, `compile`, `verify`)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from core.codes import CODES, Severity


class SourceSpan(NamedTuple):
    """A region of one source file; lines and columns count from 1, end exclusive.

    A tuple rather than a frozen dataclass: a 10,000-rule spec has ~150,000 spans,
    and a tuple is built in a third of the time.
    """

    file: str
    line: int
    column: int
    end_line: int
    end_column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    def to_json(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
        }


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding. `severity` defaults to the code's; lint settings may give another."""

    code: str
    message: str
    span: SourceSpan | None = None  # where in a source file
    path: str | None = None  # or where in a transcript: a JSON path, $.output.reasoning[2].rule
    hint: str | None = None  # what to do here, when more specific than the code's help
    rule: str | None = None  # the rule it is about, if any
    severity: Severity = None  # type: ignore[assignment]  # set from the registry

    def __post_init__(self) -> None:
        if self.severity is None:
            object.__setattr__(self, "severity", CODES[self.code].severity)

    def to_json(self) -> dict:
        span = self.span
        return {
            "code": self.code,
            "severity": str(self.severity),  # a StrEnum's str() is its value, and cheaper
            "message": self.message,
            "span": span.to_json() if span is not None else None,
            "path": self.path,
            "rule": self.rule,
            "hint": self.hint,
        }


class InputError(Exception):
    """Input that cannot be used at all: a missing path, a file that is not UTF-8, an include
    outside the spec folder, an output that would overwrite an input.

    The CLI shows it as one line (with --format json, as one diagnostic) and exits 2.
    `code` is the registry code that names the problem.
    """

    def __init__(self, message: str, code: str = "US002", span: SourceSpan | None = None):
        super().__init__(message)
        self.code = code
        self.span = span

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.code, str(self), self.span)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest candidate, or None when nothing is close.

    A word that is one part of hyphenated candidates (`unsafe` of `unsafe-low` and
    `unsafe-high`) names those: spelling alone would offer `safe`."""
    candidates = list(candidates)
    parts = [c for c in candidates if c != word and word in c.split("-")]
    if parts:
        return "did you mean " + " or ".join(f"'{c}'" for c in parts[:3]) + "?"
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else None


EXCERPT_CHARS = 80  # the most of a line of input that a message repeats


@lru_cache(maxsize=4)
def _lines(source: str) -> list[str]:
    """A source's lines, split once for all its findings (a str caches its hash): split
    per finding, 4,000 findings in a 2,000-line file took 0.4 s. Split at \n only, as
    the parser counts lines (not at U+2028)."""
    return source.split("\n")


def render(diagnostic: Diagnostic, sources: Mapping[str, str] | None = None) -> str:
    """`file:line:col: severity[code]: message`, the source line (a window of it around the
    caret when it is long) and a caret when the source is at hand, and the hint."""
    head = f"{diagnostic.severity}[{diagnostic.code}]: {diagnostic.message}"
    span = diagnostic.span
    where = str(span) if span is not None else diagnostic.path
    lines = [f"{where}: {head}" if where else head]
    source = sources.get(span.file) if span is not None and sources else None
    if source is not None:
        source_lines = _lines(source)
        if 0 < span.line <= len(source_lines):
            text = source_lines[span.line - 1].rstrip("\r").expandtabs(1)
            width = (span.end_column - span.column) if span.end_line == span.line else 1
            column, width = span.column, max(1, min(width, EXCERPT_CHARS))
            if len(text) > EXCERPT_CHARS:  # a window of the line around the caret, never all
                start = max(0, min(column - 1 - EXCERPT_CHARS // 4, len(text) - EXCERPT_CHARS))
                text = ("…" if start else "") + text[start : start + EXCERPT_CHARS] + "…"
                column -= start - (1 if start else 0)
                width = min(width, len(text) - column)
            gutter = f"{span.line} | "
            lines.append(f"  {gutter}{text}")
            lines.append("  " + " " * (len(gutter) + column - 1) + "^" * max(1, width))
    if diagnostic.hint:
        lines.append(f"  = help: {diagnostic.hint}")
    return "\n".join(lines)
