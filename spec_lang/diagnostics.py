"""The language's exceptions. Findings themselves are `core.diagnostics.Diagnostic`."""

from __future__ import annotations

from core.diagnostics import Diagnostic, SourceSpan


class SpecError(Exception):
    """A spec that cannot be used: it carries the diagnostics that say why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__("; ".join(f"{d.span}: {d.message}" for d in diagnostics))
        self.diagnostics = diagnostics


class SpecSyntaxError(SpecError):
    """A file that does not parse. Always exactly one diagnostic, with a span."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__([diagnostic])
        self.diagnostic = diagnostic


class InputError(Exception):
    """Input that cannot be read at all (missing path, not UTF-8, include outside the root).

    The CLI shows it as one line (or, with --format json, as one diagnostic) and exits 2.
    `code` is the registry code that names the problem.
    """

    def __init__(self, message: str, code: str = "PS002", span: SourceSpan | None = None):
        super().__init__(message)
        self.code = code
        self.span = span

    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.code, str(self), self.span)
