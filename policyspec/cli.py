"""The `policyspec` command line. Each command is a thin layer over the Python API.

Exit codes, everywhere: 0 success; 1 findings at error level or failed checks;
2 usage errors or input that cannot be read.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer

import spec_lang
from policyspec import atomic
from policyspec.console import (
    EXIT_FINDINGS,
    EXIT_OK,
    Format,
    FormatOption,
    SpecPath,
    count_levels,
    diagnose,
    emit_json,
    err,
    fail_input,
    load_spec,
    out,
    print_findings,
)
from policyspec.explain import explain_json, explain_text

app = typer.Typer(
    help="Write safety policies in a small language; check, format, test and explain them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def check(path: SpecPath, output_format: FormatOption = Format.text) -> None:
    """Check a spec: syntax, references, overrides, patterns, examples, overlaps.

    Example: policyspec check policies/
    """
    spec, findings, sources = diagnose(path)
    errors, warnings = count_levels(findings)
    if output_format is Format.json:
        emit_json(
            {
                "spec": spec.name if spec else None,
                "diagnostics": [d.to_json() for d in findings],
                "errors": errors,
                "warnings": warnings,
            }
        )
    else:
        print_findings(findings, sources)
        if spec is not None:
            scope = f"{len(spec.rules)} rules in {len(spec.files)} files"
            out.print(f"{spec.name}: {errors} errors, {warnings} warnings ({scope})")
    raise typer.Exit(EXIT_FINDINGS if errors else EXIT_OK)


def _policy_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.exists():
        fail_input(f"{path}: no such file or folder")
    files = sorted(path.rglob("*.policy"))
    if not files:
        fail_input(f"{path}: no .policy files in this folder")
    return files


@app.command()
def fmt(
    path: Annotated[Path, typer.Argument(help="A .policy file, or a folder of them.")],
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file would change.")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Change nothing; print what would change.")
    ] = False,
) -> None:
    """Format .policy files in the one canonical layout, keeping comments.

    The result is parsed again and must give the same tree before a file is
    replaced (atomically). Example: policyspec fmt --check policies/
    """
    changed, broken = [], []
    for file in _policy_files(path):
        try:
            source = spec_lang.loader.read_text(file)
        except spec_lang.InputError as error:
            fail_input(str(error))
        try:
            formatted = spec_lang.formatter.format_source(source, str(file))
        except spec_lang.SpecError as error:
            print_findings(error.diagnostics, {str(file): source})
            broken.append(file)
            continue
        if formatted == source:
            continue
        changed.append(file)
        if diff:
            lines = difflib.unified_diff(
                source.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                f"{file} (before)",
                f"{file} (formatted)",
            )
            out.print("".join(lines), markup=False, end="")
        elif not check:
            atomic.write_text(file, formatted)
    verb = "would reformat" if (check or diff) else "reformatted"
    for file in changed:
        err.print(f"{verb} {file}", markup=False)
    if broken or ((check or diff) and changed):
        raise typer.Exit(EXIT_FINDINGS)


@app.command()
def explain(
    identifier: Annotated[str, typer.Argument(metavar="ID", help="A rule, category or style ID.")],
    spec_path: Annotated[
        Path | None, typer.Option("--spec", help="The spec (default: the embedded one).")
    ] = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Show a rule, category or style: where it is, what it overrides and what overrides it.

    Example: policyspec explain SH-2 --spec policies/
    """
    from policies import DEFAULT_SPEC

    spec = load_spec(spec_path or DEFAULT_SPEC)
    try:
        if output_format is Format.json:
            emit_json(explain_json(spec, identifier))
        else:
            out.print(explain_text(spec, identifier), markup=False)
    except LookupError as error:
        fail_input(str(error.args[0]))


@app.command()
def test(path: SpecPath, output_format: FormatOption = Format.text) -> None:
    """Run every example through the matchers and the decision semantics.

    Reports, per example, the expected decision, the rules that fired and what
    they decide, then per-rule coverage. Exit 1 on any mismatch.
    Example: policyspec test policies/
    """
    spec, findings, sources = diagnose(path)
    errors = [d for d in findings if d.level is spec_lang.Level.ERROR]
    if spec is None or errors:
        print_findings(errors, sources)
        err.print("the spec has errors; fix them first (policyspec check)")
        raise typer.Exit(EXIT_FINDINGS)
    results = spec_lang.evaluate_examples(spec, spec_lang.Matchers.for_spec(spec))
    coverage = [d for d in findings if d.code in ("PS401", "PS402")]
    failed = [r for r in results if not r.passed]
    if output_format is Format.json:
        emit_json(
            {
                "spec": spec.name,
                "examples": [_result_json(r) for r in results],
                "coverage": [d.to_json() for d in coverage],
                "passed": len(results) - len(failed),
                "failed": len(failed),
            }
        )
    else:
        _print_results(results)
        for finding in coverage:
            out.print(f"{finding.span}: {finding.message}", markup=False)
        near = sum(r.near_miss for r in results)
        flagged = sum(
            r.near_miss and bool(set(r.fired) - set(r.decided.overridden)) for r in results
        )
        out.print(
            f"{len(results) - len(failed)} passed, {len(failed)} failed "
            f"({len(results)} examples, {near} near misses, matchers fired on {flagged} of them)"
        )
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


def _result_json(result: spec_lang.ExampleResult) -> dict:
    span = result.example.span
    return {
        "rule": result.rule.id,
        "location": str(span),
        "text": result.example.text,
        "expected": result.expected,
        "near_miss": result.near_miss,
        "fired": list(result.fired),
        "applied": list(result.decided.applied),
        "decision": result.decided.decision,
        "winner": result.decided.winner,
        "passed": result.passed,
    }


def _print_results(results) -> None:
    for r in results:
        rule = r.rule.id + (" near miss" if r.near_miss else "")
        decided = r.decided.decision + (
            f" by {r.decided.winner}" if r.decided.winner else " (default)"
        )
        fired = ", ".join(r.fired) or "-"
        line = (
            f"{'ok' if r.passed else 'FAIL':<5}{rule:<22}expected {r.expected:<14}fired {fired:<12}"
        )
        out.print(f"{line}decided {decided}", markup=False)
        if not r.passed:
            out.print(f"     {r.example.span}: {r.example.text!r}", markup=False)


def main() -> None:
    app()
