"""Findings with stable codes and spans, and how they are shown to people and machines."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from spec_lang.ast import SourceSpan


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    level: Level
    message: str
    span: SourceSpan | None
    hint: str | None = None

    def to_json(self) -> dict:
        span = self.span
        return {
            "code": self.code,
            "level": self.level.value,
            "message": self.message,
            "file": span.file if span else None,
            "line": span.line if span else None,
            "column": span.column if span else None,
            "end_line": span.end_line if span else None,
            "end_column": span.end_column if span else None,
            "hint": self.hint,
        }


class SpecError(Exception):
    """A spec that cannot be used: it carries the diagnostics that say why."""

    def __init__(self, diagnostics: list[Diagnostic], sources: Mapping[str, str] | None = None):
        super().__init__("; ".join(f"{d.span}: {d.message}" for d in diagnostics))
        self.diagnostics = diagnostics
        self.sources = dict(sources or {})  # the text of each file the diagnostics name


class SpecSyntaxError(SpecError):
    """A file that does not parse. Always exactly one diagnostic, with a span."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__([diagnostic])
        self.diagnostic = diagnostic


class InputError(Exception):
    """Input that cannot be read at all (missing path, not UTF-8, include outside the root).

    The CLI shows its message as one line and exits 2.
    """


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


def render(diagnostic: Diagnostic, sources: Mapping[str, str]) -> str:
    """`file:line:col: level[code]: message`, the source line, a caret, and the hint."""
    head = f"{diagnostic.level.value}[{diagnostic.code}]: {diagnostic.message}"
    span = diagnostic.span
    if span is None:
        return head + (f"\n  = help: {diagnostic.hint}" if diagnostic.hint else "")
    lines = [f"{span}: {head}"]
    source = sources.get(span.file)
    if source is not None:
        source_lines = source.split("\n")  # as the parser counts lines: not at U+2028
        if 0 < span.line <= len(source_lines):
            text = source_lines[span.line - 1].expandtabs(1)
            width = (span.end_column - span.column) if span.end_line == span.line else 1
            gutter = f"{span.line} | "
            lines.append(f"  {gutter}{text}")
            lines.append("  " + " " * (len(gutter) + span.column - 1) + "^" * max(1, width))
    if diagnostic.hint:
        lines.append(f"  = help: {diagnostic.hint}")
    return "\n".join(lines)
