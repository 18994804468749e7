"""What every command shares: the consoles, exit codes, output formats and input errors."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import orjson
import typer
from rich.console import Console

import spec_lang
from spec_lang.diagnostics import render

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class Format(StrEnum):
    text = "text"
    json = "json"


SpecPath = Annotated[Path, typer.Argument(help="The spec folder, or its root .policy file.")]
FormatOption = Annotated[
    Format, typer.Option("--format", help="text for people, json for machines.")
]


def fail_input(message: str) -> NoReturn:
    """One clear line on stderr and exit 2: the input could not be used at all."""
    err.print(f"error: {message}", markup=False)
    raise typer.Exit(EXIT_USAGE)


def load_checked(path: Path) -> tuple[spec_lang.Spec, list[spec_lang.Diagnostic]]:
    """A spec with no errors, and its warnings. Errors are printed and exit 1; bad input exits 2."""
    spec, findings, sources = diagnose(path)
    errors = [d for d in findings if d.level is spec_lang.Level.ERROR]
    if spec is None or errors:
        print_findings(errors, sources)
        err.print(f"error: {path}: the spec has errors; fix them first (policyspec check)")
        raise typer.Exit(EXIT_FINDINGS)
    return spec, findings


def load_spec(path: Path) -> spec_lang.Spec:
    return load_checked(path)[0]


def emit_json(payload: dict) -> None:
    sys.stdout.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode() + "\n")


def print_findings(findings, sources) -> None:
    for finding in findings:
        out.print(render(finding, sources), markup=False)
        out.print()


def count_levels(findings) -> tuple[int, int]:
    errors = sum(d.level is spec_lang.Level.ERROR for d in findings)
    return errors, sum(d.level is spec_lang.Level.WARNING for d in findings)


def diagnose(path: Path) -> tuple[spec_lang.Spec | None, list, dict]:
    """Load and check; a root file that does not parse gives its syntax error as the finding."""
    try:
        spec = spec_lang.load(path, freeze=True)  # it lives until the command exits
    except spec_lang.InputError as error:
        fail_input(str(error))
    except spec_lang.SpecError as error:
        root = spec_lang.loader.find_root(path)
        return None, error.diagnostics, {str(root): spec_lang.loader.read_policy(root)}
    return spec, spec_lang.check(spec), spec.sources
