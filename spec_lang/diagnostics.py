"""The language's exceptions. Findings themselves are `core.diagnostics.Diagnostic`."""

from __future__ import annotations

from collections.abc import Mapping

from core.diagnostics import Diagnostic, InputError

__all__ = ["InputError", "SpecError", "SpecSyntaxError"]  # InputError is core's, for every layer


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
