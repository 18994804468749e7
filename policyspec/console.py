"""What every command shares: the consoles, exit codes, output formats and input errors."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import orjson
import typer
from rich.console import Console

import spec_lang
from core import settings as core_settings
from core.codes import Severity
from core.diagnostics import Diagnostic, InputError, render
from core.settings import Settings

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Format(StrEnum):
    text = "text"
    json = "json"


SpecPath = Annotated[
    Path,
    typer.Argument(
        help="The spec folder, or any .policy file of the spec (its root is found above)."
    ),
]
FormatOption = Annotated[
    Format, typer.Option("--format", help="text for people, json for machines.")
]


def fail_input(error: str | InputError) -> NoReturn:
    """One clear line on stderr (with --format json, one diagnostic on stdout) and exit 2:
    the input could not be used at all. A plain message is a usage error (US001)."""
    diagnostic = error.diagnostic() if isinstance(error, InputError) else Diagnostic("US001", error)
    if _run.json:
        emit_json({"diagnostics": [diagnostic.to_json()], "errors": 1, "warnings": 0})
    else:
        err.print(f"error: {diagnostic.message}", markup=False)
    raise typer.Exit(EXIT_USAGE)


@dataclass
class _Run:
    """What one command run reports errors as: set by `report_as` when a command starts."""

    json: bool = False


_run = _Run()


def report_as(output_format: str) -> None:
    """Report this run's input errors as JSON when the command's output is JSON."""
    _run.json = output_format == "json"


def load_checked(
    path: Path, *, freeze: bool = True
) -> tuple[spec_lang.Spec, list[Diagnostic], Settings]:
    """A spec with no errors, its other findings and its lint settings. Errors are printed
    (as JSON when the command writes JSON) and exit 1; bad input exits 2. `freeze`: see
    `diagnose`."""
    checked = diagnose(path, freeze=freeze)
    errors = [d for d in checked.findings if d.severity is Severity.ERROR]
    if checked.spec is None or errors:
        if _run.json:
            emit_json(checked.to_json(errors))
        else:
            print_findings(errors, checked.sources)
            err.print(f"error: {path}: the spec has errors; fix them first (policyspec check)")
        raise typer.Exit(EXIT_FINDINGS)
    return checked.spec, checked.findings, checked.settings


def load_spec(path: Path) -> spec_lang.Spec:
    return load_checked(path)[0]


def emit_json(payload: dict) -> None:
    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")


def print_findings(findings: list[Diagnostic], sources: dict[str, str]) -> None:
    for finding in findings:
        out.print(render(finding, sources), markup=False)
        out.print()


def count_levels(findings: list[Diagnostic]) -> tuple[int, int]:
    errors = sum(d.severity is Severity.ERROR for d in findings)
    return errors, sum(d.severity is Severity.WARNING for d in findings)


@dataclass
class Checked:
    """A spec as `check` sees it: the spec (None when its root does not parse), its findings
    after the lint settings, the settings, and the sources the findings point into."""

    spec: spec_lang.Spec | None
    findings: list[Diagnostic]
    settings: Settings
    sources: dict[str, str]

    @property
    def failed(self) -> bool:
        return self.spec is None or any(self.settings.fails(d) for d in self.findings)

    def to_json(self, findings: list[Diagnostic] | None = None) -> dict:
        shown = self.findings if findings is None else findings
        errors, warnings = count_levels(shown)
        return {
            "spec": self.spec.name if self.spec else None,
            "diagnostics": [d.to_json() for d in shown],
            "errors": errors,
            "warnings": warnings,
        }


def diagnose(path: Path, *, freeze: bool = True) -> Checked:
    """Load and check under the lint settings found beside the spec. A root file that does
    not parse gives its syntax errors as the findings, and so does a file that belongs to
    no spec (with a note). Given one file of a spec, the whole spec is checked and that
    file's findings come first. `freeze` (spec_lang.load) is for a spec that lives until
    the command exits; a command that loads the spec again and again leaves it off."""
    try:
        settings = core_settings.discover(path)
        spec = spec_lang.load(path, freeze=freeze)
    except InputError as error:
        fail_input(error)
    except spec_lang.SpecError as error:
        return Checked(None, settings.apply(error.diagnostics), settings, error.sources)
    findings = settings.apply(_first_in(path, spec_lang.check(spec)))
    return Checked(spec, findings, settings, spec.sources)


def _first_in(path: Path, findings: list[Diagnostic]) -> list[Diagnostic]:
    """The findings in file `path` first, each group in its own order."""
    if not path.is_file():
        return findings
    target = path.resolve()
    files = {d.span.file for d in findings if d.span}
    mine = {file for file in files if Path(file).resolve() == target}
    return sorted(findings, key=lambda d: not (d.span and d.span.file in mine))
