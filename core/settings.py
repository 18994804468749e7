"""Lint settings, as ruff users expect them: which codes to report, at which severity.

Read from `policyspec.toml` (top level) or `pyproject.toml` (`[tool.policyspec]`): the
nearest such file in the spec's folder or a folder above it. Keys:

    select = ["PS", "VF05"]          # codes or code prefixes to report (default: all)
    ignore = ["PS402"]               # codes or prefixes never to report
    strict = true                    # warnings fail, as `check --strict`
    [severity]                       # ([tool.policyspec.severity] in pyproject.toml)
    PS501 = "error"
    [per-file-ignores]               # globs relative to the settings file's folder
    "legacy/*.policy" = ["PS401", "PS402"]

A key, code or severity the registry does not know is an error, never ignored.
"""

from __future__ import annotations

import fnmatch
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.codes import CODES, Severity
from core.diagnostics import Diagnostic, InputError

SETTINGS_FILES = ("policyspec.toml", "pyproject.toml")
_KEYS = {"select", "ignore", "strict", "severity", "per-file-ignores"}


@dataclass(frozen=True)
class Settings:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    strict: bool = False
    severity: dict[str, Severity] = field(default_factory=dict)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    folder: Path | None = None  # where per-file globs are relative to
    source: Path | None = None  # the file they were read from

    @property
    def changes_findings(self) -> bool:
        """Whether `apply` can drop or re-grade a diagnostic."""
        return bool(self.select or self.ignore or self.severity or self.per_file_ignores)

    def apply(self, diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
        """The diagnostics these settings report, at the severity they give."""
        kept = []
        for diagnostic in diagnostics:
            code = diagnostic.code
            if self.select and not code.startswith(self.select):
                continue
            if self.ignore and code.startswith(self.ignore):
                continue
            if self.per_file_ignores and self._ignored_in_file(diagnostic):
                continue
            severity = self.severity.get(code)
            if severity is not None and severity is not diagnostic.severity:
                diagnostic = replace(diagnostic, severity=severity)
            kept.append(diagnostic)
        return kept

    def fails(self, diagnostic: Diagnostic) -> bool:
        """Whether a diagnostic fails the run: an error, or a warning when strict."""
        return diagnostic.severity is Severity.ERROR or (
            self.strict and diagnostic.severity is Severity.WARNING
        )

    def _ignored_in_file(self, diagnostic: Diagnostic) -> bool:
        if diagnostic.span is None:
            return False
        where = os.path.abspath(diagnostic.span.file)
        relative = os.path.relpath(where, self.folder) if self.folder else where
        return any(
            diagnostic.code.startswith(codes) and fnmatch.fnmatch(relative, glob)
            for glob, codes in self.per_file_ignores
        )


def discover(start: Path) -> Settings:
    """The settings of the nearest settings file at or above `start` (a folder or a file)."""
    folder = start.resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        for name in SETTINGS_FILES:
            path = candidate / name
            if path.is_file():
                table = _table(path)
                if table is not None:
                    return parse(table, path)
    return Settings()


def _table(path: Path) -> dict | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise InputError(f"{path}: not readable TOML ({error})", "US004") from None
    if path.name == "pyproject.toml":
        return data.get("tool", {}).get("policyspec")
    return data


def parse(table: dict, source: Path | None = None) -> Settings:
    """Settings from a TOML table; `source` names the file in errors and anchors the globs."""
    where = f"{source}: " if source else ""

    def fail(message: str) -> InputError:
        return InputError(f"{where}{message}; see docs/settings.md", "US004")

    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise fail(f"unknown setting {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")

    def codes(value: object, key: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(f"{key} is a list of codes")
        for prefix in value:
            if not any(code.startswith(prefix) for code in CODES) or not prefix:
                raise fail(f"{key}: no code starts with {prefix!r}")
        return tuple(value)

    severities = table.get("severity", {})
    if not isinstance(severities, dict):
        raise fail('severity is a table of CODE = "error" | "warning" | "info"')
    severity = {}
    for code, value in severities.items():
        if code not in CODES:
            raise fail(f"severity: unknown code {code!r}")
        if value not in Severity.__members__.values():
            raise fail(f"severity of {code}: {value!r} is not error, warning or info")
        severity[code] = Severity(value)
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise fail('per-file-ignores is a table of "GLOB" = [CODES]')
    strict = table.get("strict", False)
    if not isinstance(strict, bool):
        raise fail("strict is true or false")
    return Settings(
        select=codes(table.get("select", []), "select"),
        ignore=codes(table.get("ignore", []), "ignore"),
        strict=strict,
        severity=severity,
        per_file_ignores=tuple(
            (glob, codes(value, f"per-file-ignores {glob!r}")) for glob, value in per_file.items()
        ),
        folder=source.parent.resolve() if source else None,
        source=source,
    )
