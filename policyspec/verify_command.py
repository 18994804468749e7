"""`policyspec verify` and `policyspec eval`: transcripts against a spec and their confessions."""

from __future__ import annotations

import functools
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

import spec_lang
from policyspec.console import (
    EXIT_FINDINGS,
    EXIT_OK,
    Format,
    FormatOption,
    SpecPath,
    emit_json,
    err,
    fail_input,
    load_checked,
    out,
    report_as,
)
from policyspec.outputs import Kind, refuse_unsafe_output
from verifier.batch import MAX_LINE_BYTES, STDIN, OnResult, run
from verifier.checks import Verifier
from verifier.evaluate import Evaluation, load_labels
from verifier.findings import Result
from verifier.report import JsonSummary, JUnitWriter, failure_text, summary_line, totals_tables


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    junit = "junit"


TranscriptPaths = Annotated[
    list[Path],
    typer.Argument(
        metavar="TRANSCRIPTS...",
        help="JSONL files (one transcript a line), .json files (one or an array), or - for stdin.",
    ),
]
MaxLineBytes = Annotated[
    int, typer.Option("--max-line-bytes", help="A longer line gets an error result, unread.")
]


class _ProgressBar:
    """A progress bar over the bytes read, shown only once a batch has run for a second."""

    def __init__(self, paths: list[Path]):
        self.total = None if STDIN in paths else sum(p.stat().st_size for p in paths)
        self.started = time.monotonic()
        self.done = 0
        self.bar: Progress | None = None
        self.console = out if out.is_terminal else err

    def advance(self, count: int) -> None:
        self.done += count
        if self.bar is not None:
            self.bar.update(self.task, completed=self.done)
        elif self.console.is_terminal and time.monotonic() - self.started > 1.0:
            self.bar = Progress(
                TextColumn("verifying"),
                BarColumn(),
                TaskProgressColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
                redirect_stdout=self.console is out,
                redirect_stderr=False,
            )
            self.task = self.bar.add_task("verify", total=self.total, completed=self.done)
            self.bar.start()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _prepare(spec_path: Path, transcripts: list[Path]) -> Verifier:
    spec, _, settings = load_checked(spec_path)
    for path in transcripts:
        if path != STDIN and not path.is_file():
            fail_input(f"{path}: no such file; give JSONL or .json files of transcripts, or -")
    return Verifier(spec, settings)


def _run(verifier, transcripts, max_line_bytes, on_result, report=None, on_file=None):
    progress = _ProgressBar(transcripts)
    try:
        return run(
            verifier,
            transcripts,
            report,
            max_line_bytes=max_line_bytes,
            on_file=on_file,
            on_result=on_result,
            on_progress=progress.advance,
        )
    except spec_lang.InputError as error:
        fail_input(error)
    except OSError as error:
        fail_input(f"{error.filename or report}: {error.strerror or error}")
    finally:
        progress.close()


def _run_on_ray(
    spec_path, address, verifier, transcripts, max_line_bytes, on_result, report=None, on_file=None
):
    """_run on a Ray cluster: the same report, in the same order."""
    from verifier.distributed import run_on_ray

    try:
        return run_on_ray(
            spec_path,
            verifier.settings,
            transcripts,
            report,
            address,
            max_line_bytes=max_line_bytes,
            on_file=on_file,
            on_result=on_result,
        )
    except spec_lang.InputError as error:
        fail_input(error)
    except OSError as error:
        fail_input(f"{error.filename or report}: {error.strerror or error}")
    except ConnectionError as error:
        fail_input(f"--ray {address}: cannot connect ({error})")


def _failure_printer(against: str) -> OnResult:
    """Writes each failing transcript's block as plain text. Not through rich: a batch can
    fail hundreds of thousands of transcripts, and rich took ~120 µs a block (and would
    turn a `:name:` in a message into an emoji). sys.stdout is looked up on each call, so
    while a progress bar holds the terminal the block goes through its stdout redirect."""

    def print_failure(source: str, line: int, result: Result) -> None:
        if not result.passed:
            sys.stdout.write(failure_text(result, against, f"{source}:{line}") + "\n\n")

    return print_failure


def verify(
    spec_path: SpecPath,
    transcripts: TranscriptPaths,
    report: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write one JSON result per input line here (JSONL)."),
    ] = None,
    output_format: Annotated[
        ReportFormat,
        typer.Option("--format", help="text for people, json for machines, junit for CI."),
    ] = ReportFormat.text,
    max_line_bytes: MaxLineBytes = MAX_LINE_BYTES,
    judge_model: Annotated[
        str | None,
        typer.Option(
            "--judge",
            help="Also grade with a judge model: 'embedded', a model folder, a .gguf (needs -o).",
        ),
    ] = None,
    judge_url: Annotated[
        str | None, typer.Option("--judge-url", help="Or an OpenAI-compatible endpoint.")
    ] = None,
    judge_name: Annotated[
        str | None, typer.Option("--judge-model", help="The model the endpoint serves.")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=64, help="Judge samples.")] = 1,
    how: Annotated[
        str, typer.Option("--aggregate", help="min, mean or majority (the judge's k grades).")
    ] = "min",
    show_reasoning: Annotated[
        bool, typer.Option("--show-reasoning", help="Show the judge the reasoning.")
    ] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ask the judge every time.")] = False,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Verify on a Ray cluster: local (start one here), auto, or ray://HOST:PORT.",
        ),
    ] = None,
) -> None:
    """Verify transcripts against a spec and against their own confessions.

    Every input line gets one result line in the report, in order (a bad line
    gets its error); the report is written atomically. Exit 1 if any transcript
    has an error-level finding. With --judge, each line also gets a "judgement"
    beside its "findings" (docs/judge.md), and a failing judgement fails the run.
    Example: policyspec verify policies/ runs.jsonl -o report.jsonl --format junit > junit.xml
    """
    report_as(output_format)
    judging = None
    if judge_model is not None or judge_url is not None:
        judging = _judging(judge_model, judge_url, judge_name, k, how, show_reasoning, no_cache)
        if report is None or STDIN in transcripts:
            fail_input("--judge needs -o REPORT and transcript files (not -)")
    verifier = _prepare(spec_path, transcripts)
    if ray_address is not None:
        if STDIN in transcripts:
            fail_input("--ray reads transcript files, not -")
        run_batch = functools.partial(_run_on_ray, spec_path, ray_address)
    else:
        run_batch = _run
    spec = verifier.spec
    if report is not None:
        if not report.parent.is_dir():
            fail_input(f"{report}: cannot write a report there (in a missing folder)")
        refuse_unsafe_output(report, [spec_path, *spec.sources, *transcripts], Kind.report)
    against = f"{spec.name} {spec.version}"
    if output_format is ReportFormat.json:
        identity = {"name": spec.name, "version": spec.version, "hash": spec.content_hash}
        summary = JsonSummary(sys.stdout, identity)
        totals = run_batch(verifier, transcripts, max_line_bytes, summary.add, report)
        summary.close(totals)
    elif output_format is ReportFormat.junit:
        junit = JUnitWriter(sys.stdout, against)
        totals = run_batch(
            verifier,
            transcripts,
            max_line_bytes,
            lambda _source, line, result: junit.add(line, result),
            report,
            on_file=junit.start_suite,
        )
        junit.close()
    else:
        totals = run_batch(verifier, transcripts, max_line_bytes, _failure_printer(against), report)
        if totals.by_code:
            for table in totals_tables(totals):
                out.print(table)
        out.print(summary_line(totals), markup=False)
    judged_failed = False
    if judging is not None:
        from policyspec.judge_command import judge_report

        judged_failed = judge_report(
            verifier.spec, judging, transcripts, report, max_line_bytes, output_format == "text"
        )
    raise typer.Exit(EXIT_FINDINGS if totals.failed or judged_failed else EXIT_OK)


def _judging(model, url, name, k, how, show_reasoning, no_cache):
    """The judge's backend, settings and cache from verify's options; bad ones exit 2."""
    from judge import DEFAULT_CACHE, Aggregate, Cache
    from policyspec.judge_command import backend_for, judge_settings

    if how not in set(Aggregate):
        fail_input(f"--aggregate {how!r}: use min, mean or majority")
    backend = backend_for(model, url, name, "auto")
    settings = judge_settings(k, Aggregate(how), show_reasoning, 0, None)
    return backend, settings, None if no_cache else Cache(DEFAULT_CACHE)


def evaluate(
    spec_path: SpecPath,
    transcripts: TranscriptPaths,
    labels: Annotated[
        Path,
        typer.Option(
            "--labels", help='JSONL: {"id": ..., "label": "safe" | "unsafe", "rules": [...]}.'
        ),
    ],
    output_format: FormatOption = Format.text,
    max_line_bytes: MaxLineBytes = MAX_LINE_BYTES,
) -> None:
    """Rates over labelled prompts: not_unsafe, not_overrefuse, style adherence, citation
    accuracy, P(confessed | violated) and the false-negative rate of confessions.

    Example: policyspec eval policies/ runs.jsonl --labels prompts.jsonl
    """
    report_as(output_format)
    verifier = _prepare(spec_path, transcripts)
    try:
        evaluation = Evaluation(verifier, load_labels(labels))
    except spec_lang.InputError as error:
        fail_input(error)
    _run(verifier, transcripts, max_line_bytes, lambda _s, _l, result: evaluation.add(result))
    summary = evaluation.to_json()
    if output_format is Format.json:
        spec = verifier.spec
        emit_json({"spec": {"name": spec.name, "version": spec.version}, **summary})
    else:
        _print_rates(verifier.spec, summary)


def _print_rates(spec: spec_lang.Spec, summary: dict) -> None:
    table = Table(title=f"{spec.name} {spec.version}", title_justify="left")
    for name, justify in (("rate", "left"), ("value", "right"), ("of", "right"), ("what", "left")):
        table.add_column(name, justify=justify)
    for name, rate in summary["rates"].items():
        value = "n/a" if rate["value"] is None else f"{rate['value']:.3f}"
        share = f"{rate['numerator']}/{rate['denominator']}"
        table.add_row(name, value, share, rate["description"])
    out.print(table)
    out.print(
        f"{summary['transcripts']} transcripts ({summary['unreadable']} unreadable, "
        f"{summary['unlabelled']} unlabelled); "
        f"{summary['labels_without_transcript']} labels without a transcript",
        markup=False,
    )
