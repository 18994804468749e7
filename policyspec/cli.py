"""The `policyspec` command line. Each command is a thin layer over the Python API.

Exit codes, everywhere: 0 success; 1 findings at error level or failed checks;
2 usage errors or input that cannot be read.
"""

from __future__ import annotations

import difflib
import importlib
import signal
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated

import click
import re2
import typer
from typer.core import TyperGroup

import spec_lang
from core import atomic
from core.codes import with_topic
from policyspec.console import (
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    Format,
    FormatOption,
    SpecPath,
    count_levels,
    diagnose,
    emit_json,
    err,
    fail_input,
    load_checked,
    load_spec,
    out,
    print_findings,
    report_as,
)
from spec_lang.examples import flagged_too_strictly
from workbench.coverage import coverage_text, measure
from workbench.explain import explain_json, explain_text
from workbench.watch import snapshot, wait_for_change


@dataclass(frozen=True)
class LazyCommand:
    """A command whose module is imported only when the command runs."""

    module: str
    function: str
    summary: str  # what `policyspec --help` shows; the function's first docstring paragraph

    def load(self, name: str) -> click.Command:
        function = getattr(importlib.import_module(self.module), self.function)
        single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
        single.command(name)(function)
        return typer.main.get_command(single)


# The commands with heavy imports (the compiler; torch and transformers; the verifier). The
# others are defined below: they need only spec_lang, which importing policyspec loads anyway.
LAZY_COMMANDS = {
    "compile": LazyCommand(
        "policyspec.compile_command",
        "compile_spec",
        "Compile a spec into schemas, training data, judge rubrics and guard prompts.",
    ),
    "generate": LazyCommand(
        "policyspec.generate_command",
        "generate",
        "Generate transcripts: the model can only emit reasoning that cites the spec's rule "
        "IDs, a decision, a style, an answer and a confession.",
    ),
    "verify": LazyCommand(
        "policyspec.verify_command",
        "verify",
        "Verify transcripts against a spec and against their own confessions.",
    ),
    "judge": LazyCommand(
        "policyspec.judge_command",
        "judge",
        "Grade transcripts with a judge model under the compiled judge schemas.",
    ),
    "eval": LazyCommand(
        "policyspec.verify_command",
        "evaluate",
        "Rates over labelled prompts: not_unsafe, not_overrefuse, style adherence, citation "
        "accuracy, P(confessed | violated), the false-negative rate of confessions and decision "
        "accuracy.",
    ),
    "report": LazyCommand(
        "policyspec.report_command",
        "report",
        "Write an HTML page of a verify report: totals, pass rates by rule and category, "
        "decision and confession matrices, judge agreement, a filterable table of transcripts.",
    ),
    "decide": LazyCommand(
        "policyspec.author_commands",
        "decide",
        "Try one input: which rules fire and why, what the overrides drop, and the decision.",
    ),
    "init": LazyCommand(
        "policyspec.author_commands",
        "init",
        "Start a new spec: a root file, one category with a rule and its examples, styles.",
    ),
    "diff": LazyCommand(
        "policyspec.author_commands",
        "diff",
        "Compare two versions of a spec: rules added, removed, renamed and changed in meaning.",
    ),
    "doc": LazyCommand(
        "policyspec.author_commands",
        "doc",
        "Write the spec as a static, linked, searchable site for reviewers.",
    ),
    "lsp": LazyCommand(
        "policyspec.lsp_command",
        "lsp",
        "Run the language server for .policy files on stdin and stdout (LSP).",
    ),
}


class LazyGroup(TyperGroup):
    """Lists LAZY_COMMANDS by their summaries; loads one only when it is the command run."""

    def __init__(self, **attrs: object) -> None:
        super().__init__(**attrs)
        for name, lazy in LAZY_COMMANDS.items():
            self.add_command(click.Command(name, help=lazy.summary))  # a stand-in for --help

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name in LAZY_COMMANDS:
            command = LAZY_COMMANDS[name].load(name)
        return name, command, rest

    def invoke(self, ctx: click.Context) -> object:
        """Input that cannot be used is one line (or one JSON diagnostic) and exit 2 in
        every command, also where a command does not catch the InputError itself."""
        report_as(Format.text)  # until a command with --format json says otherwise
        try:
            return super().invoke(ctx)
        except spec_lang.InputError as error:
            fail_input(error)


app = typer.Typer(
    cls=LazyGroup,
    help="Safety policies as code: check, format, test and explain them; compile them for "
    "training; generate under them; verify transcripts against them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


StrictOption = Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1).")]


@app.command()
def check(
    path: SpecPath = Path("."),
    output_format: FormatOption = Format.text,
    strict: StrictOption = False,
) -> None:
    """Check a spec: syntax, references, overrides, patterns, examples, overlaps.

    Given a file, checks the spec it belongs to, that file's findings first; given
    nothing, the spec in the current folder. Lint settings (select, ignore, severities,
    per-file ignores) come from policyspec.toml or pyproject.toml's [tool.policyspec],
    the nearest at or above the spec folder. Example: policyspec check policies/ --strict
    """
    report_as(output_format)
    checked = diagnose(path)
    if strict:
        checked.settings = replace(checked.settings, strict=True)
    spec, findings = checked.spec, checked.findings
    if output_format is Format.json:
        emit_json(checked.to_json())
    else:
        print_findings(findings, checked.sources)
        if spec is not None:
            errors, warnings = count_levels(findings)
            scope = f"{_plural(len(spec.rules), 'rule')} in {_plural(len(spec.files), 'file')}"
            counts = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
            out.print(f"{spec.name}: {counts} ({scope})")
    raise typer.Exit(EXIT_FINDINGS if checked.failed else EXIT_OK)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
    paths: Annotated[list[Path], typer.Argument(help=".policy files, or folders of them.")],
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file would change.")
    ] = False,
    diff: Annotated[
        bool, typer.Option("--diff", help="Change nothing; print what would change.")
    ] = False,
) -> None:
    """Format .policy files in the one canonical layout, keeping comments.

    The result is parsed again and must give the same tree before a file is
    replaced (atomically, through a symlink to its target, keeping its line endings
    and permissions), and only if the file is unchanged since it was read: a file
    edited meanwhile is skipped (exit 1). Example: policyspec fmt --check policies/
    """
    changed, broken, unusable, skipped = [], [], [], []
    for file in [file for path in paths for file in _policy_files(path)]:
        try:
            raw = spec_lang.loader.read_policy_bytes(file)
            source = spec_lang.loader.decode(file, raw)
        except spec_lang.InputError as error:
            err.print(f"error: {error}", markup=False)
            unusable.append(file)
            continue
        try:
            formatted = spec_lang.formatter.format_source(source, str(file))
        except spec_lang.SpecError as error:
            print_findings(error.diagnostics, {str(file): source})
            broken.append(file)
            continue
        written = _as_written(formatted, raw)
        if written == raw:
            continue
        if diff:
            lines = difflib.unified_diff(
                source.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                f"{file} (before)",
                f"{file} (formatted)",
            )
            out.print("".join(lines), markup=False, end="")
        elif not check:
            try:
                if not atomic.replace_if_unchanged(file, written, raw):
                    err.print(f"skipped {file}: it changed while it was formatted; run fmt again")
                    skipped.append(file)
                    continue
            except OSError as error:
                err.print(f"error: {file}: cannot write ({error.strerror})", markup=False)
                unusable.append(file)
                continue
        changed.append(file)
    verb = "would reformat" if (check or diff) else "reformatted"
    for file in changed:
        err.print(f"{verb} {file}", markup=False)
    if unusable:
        raise typer.Exit(EXIT_USAGE)
    if broken or skipped or ((check or diff) and changed):
        raise typer.Exit(EXIT_FINDINGS)


def _as_written(formatted: str, raw: bytes) -> bytes:
    """The formatted text as the file would hold it: with the file's byte-order mark, and
    its line ends where most of them are \\r\\n."""
    crlf = raw.count(b"\r\n")
    if crlf and crlf * 2 >= raw.count(b"\n"):
        formatted = formatted.replace("\n", "\r\n")
    data = formatted.encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if raw.startswith(b"\xef\xbb\xbf") else data


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

    report_as(output_format)
    spec = load_spec(spec_path or DEFAULT_SPEC)
    try:
        if output_format is Format.json:
            emit_json(explain_json(spec, identifier))
        else:
            out.print(explain_text(spec, identifier), markup=False)
    except LookupError as error:
        fail_input(str(error.args[0]))


@app.command()
def test(
    path: SpecPath,
    output_format: FormatOption = Format.text,
    run: Annotated[
        str | None,
        typer.Option("--run", help="Only the examples of rules whose ID this regex finds."),
    ] = None,
    coverage: Annotated[
        bool,
        typer.Option(
            "--coverage",
            help="Hits per match statement across the examples, the statements none fires, "
            "and the rules missing an own-decision or near-miss example.",
        ),
    ] = False,
    threshold: Annotated[
        float | None,
        typer.Option(
            "--threshold",
            min=0,
            max=100,
            help="Fail (exit 1) when fewer than N% of match statements fire on an example "
            "(implies --coverage).",
        ),
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Run again whenever a file of the spec changes.")
    ] = False,
) -> None:
    """Run every example through the matchers and the decision semantics.

    Reports, per example, the expected decision, the rules that fired and what
    they decide, then per-rule coverage. Exit 1 on any mismatch, or coverage under
    --threshold. Example: policyspec test policies/ --run '^SH-' --coverage --threshold 90
    """
    report_as(output_format)
    selected = _rule_filter(run)
    show_coverage = coverage or threshold is not None
    if not watch:
        raise typer.Exit(_test_once(path, output_format, selected, show_coverage, threshold))
    folder = path if path.is_dir() else path.parent
    while True:
        before = snapshot(folder)
        try:
            _test_once(path, output_format, selected, show_coverage, threshold, freeze=False)
        except typer.Exit as stopped:
            if stopped.exit_code == EXIT_USAGE:
                raise  # input that cannot be read: no change will be waited for
            # a spec with errors: they are shown; wait for the fix
        err.print(f"watching {folder} for changes (Ctrl-C to stop)", markup=False)
        wait_for_change(folder, before)


def _rule_filter(pattern: str | None):
    """Which rule IDs --run selects (RE2, searched anywhere in the ID)."""
    if pattern is None:
        return lambda rule_id: True
    try:
        regex = re2.compile(pattern)
    except re2.error as error:
        fail_input(f"--run {pattern!r} is not a regex RE2 can run: {error}")
    return lambda rule_id: regex.search(rule_id) is not None


def _test_once(path, output_format, selected, show_coverage, threshold, freeze=True) -> int:
    """One run of the tests; the exit code."""
    spec, findings, _ = load_checked(path, freeze=freeze)
    matchers = spec_lang.Matchers.for_spec(spec)
    rules = {rule_id for rule_id in spec.rule_by_id if selected(rule_id)}
    results = [r for r in spec_lang.evaluate_examples(spec, matchers) if r.rule.id in rules]
    missing = [d for d in findings if d.code in with_topic("coverage")]
    measured = measure(matchers, results, findings, rules) if show_coverage else None
    failed = [r for r in results if not r.passed]
    below = threshold is not None and measured.percent < threshold
    if output_format is Format.json:
        emit_json(
            {
                "spec": spec.name,
                "examples": [_result_json(r) for r in results],
                "coverage": [d.to_json() for d in missing if d.rule in rules or not d.rule],
                **({"match_coverage": measured.to_json()} if measured else {}),
                "passed": len(results) - len(failed),
                "failed": len(failed),
            }
        )
    else:
        _print_results(results)
        if measured is not None:
            out.print(coverage_text(measured), markup=False)
        else:
            for finding in missing:
                if finding.rule in rules or not finding.rule:
                    out.print(f"{finding.span}: {finding.message}", markup=False)
        near = sum(r.near_miss for r in results)
        flagged = sum(flagged_too_strictly(spec, r) for r in results)
        out.print(
            f"{len(results) - len(failed)} passed, {len(failed)} failed ({len(results)} examples; "
            f"matches alone decide {flagged} of {near} near misses too strictly)"
        )
        if below:
            out.print(f"coverage {measured.percent:.1f}% is under the threshold {threshold:g}%")
    return EXIT_FINDINGS if failed or below else EXIT_OK


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
        "matches_alone_decide": result.matched.decision,
        "passed": result.passed,
    }


def _print_results(results) -> None:
    for r in results:
        rule = r.rule.id + (" near miss" if r.near_miss else "")
        winner = f" by {r.decided.winner}" if r.decided.winner else " (default)"
        status = "ok" if r.passed else "FAIL"
        decided = r.decided.decision + winner
        line = f"{status:<5}{rule:<22}expected {r.expected:<14}decided {decided:<28}"
        out.print(f"{line} fired {', '.join(r.fired) or '-'}", markup=False)
        if not r.passed:
            out.print(f"     {r.example.span}: {r.example.text!r}", markup=False)


def exit_on_sigterm() -> None:
    """SIGTERM (kill's default) ends the process as an exception would, so that every
    writer removes its temporary files on the way out. SIGKILL cannot be caught: the
    next run removes those (core.atomic.sweep)."""
    signal.signal(signal.SIGTERM, lambda number, _frame: sys.exit(128 + number))


def main() -> None:
    exit_on_sigterm()
    app()
