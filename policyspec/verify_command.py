"""`policyspec verify` and `policyspec eval`: transcripts against a spec and their confessions."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, nullcontext
from enum import StrEnum
from functools import partial
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
from policyspec.judge_options import (
    Backoff,
    CacheDir,
    Concurrency,
    HowOption,
    JudgeEngine,
    JudgeModel,
    JudgeName,
    JudgeOptions,
    JudgeUrl,
    NoCache,
    Samples,
    ShowReasoning,
    Tries,
)
from policyspec.outputs import Kind, refuse_unsafe_output
from verifier.batch import MAX_LINE_BYTES, STDIN, OnResult, run
from verifier.checks import Verifier
from verifier.evaluate import Evaluation, load_judgements, load_labels
from verifier.findings import Result
from verifier.report import (
    JsonSummary,
    Judgements,
    JudgeTotals,
    JUnitWriter,
    Totals,
    failure_text,
    judgement_failed,
    judgement_text,
    summary_line,
    totals_tables,
)


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
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process Ctrl-C ended


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


def _prepare(spec_path: Path, transcripts: list[Path], judging: JudgeOptions) -> Verifier:
    """The verifier, once the judge's options (when given) and the inputs are usable."""
    if judging.given:
        from policyspec.judge_command import check_options

        check_options(judging)
        if STDIN in transcripts:
            fail_input("--judge reads each transcript file twice: give files, not -")
    spec, _, settings = load_checked(spec_path)
    for path in transcripts:
        if path != STDIN and not path.is_file():
            fail_input(f"{path}: no such file; give JSONL or .json files of transcripts, or -")
    return Verifier(spec, settings)


def _run(
    verifier,
    transcripts,
    max_line_bytes,
    on_result,
    report=None,
    on_file=None,
    judgements=None,
    results=None,
):
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
            judgements=judgements,
            results=results,
        )
    except spec_lang.InputError as error:
        fail_input(error)
    except OSError as error:
        fail_input(f"{error.filename or report}: {error.strerror or error}")
    except BrokenProcessPool:
        fail_input(
            "a verify worker process died (killed, or out of memory?); no report was written: "
            "run again, with fewer --jobs"
        )
    except KeyboardInterrupt:
        err.print("interrupted: no report was written", markup=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        progress.close()


def _on_ray(spec_path: Path, address: str, verifier: Verifier, transcripts, max_line_bytes):
    """verify --ray: each file's results from the Ray cluster at `address`."""
    from verifier.distributed import ray_results

    if STDIN in transcripts:
        fail_input("--ray reads transcript files, not -")
    try:
        return ray_results(spec_path, verifier.settings, address, max_line_bytes)
    except spec_lang.InputError as error:
        fail_input(error)
    except ConnectionError as error:
        fail_input(f"--ray {address}: cannot connect ({error})")


def _parse_jobs(jobs: str) -> int:
    """--jobs: a number of worker processes; 0 or auto, one per CPU this process may use."""
    if jobs.strip().lower() == "auto":
        jobs = "0"
    try:
        count = int(jobs)
    except ValueError:
        count = -1
    if count == 0:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if count < 0:
        fail_input(f"--jobs {jobs}: give a number of worker processes (1 or more), or 0 or auto")
    return count


def _verified_elsewhere(
    spec_path: Path,
    ray_address: str | None,
    jobs: int,
    verifier: Verifier,
    transcripts: list[Path],
    max_line_bytes: int,
) -> AbstractContextManager:
    """What gives each file's results when this process does not verify them: a Ray
    cluster (--ray), N worker processes (--jobs N), or None (this process)."""
    if ray_address is not None:
        if jobs != 1:
            fail_input("give --ray (a cluster) or --jobs (processes here), not both")
        return nullcontext(_on_ray(spec_path, ray_address, verifier, transcripts, max_line_bytes))
    if jobs == 1:
        return nullcontext(None)
    from verifier.distributed import pool_results

    return pool_results(spec_path, verifier.settings, jobs, max_line_bytes)


def _failure_printer(against: str, judgements: Judgements | None = None) -> OnResult:
    """Writes each failing transcript's block as plain text (with its judgement, when
    judged; a failing judgement makes the block too). Not through rich: a batch can
    fail hundreds of thousands of transcripts, and rich took ~120 µs a block (and would
    turn a `:name:` in a message into an emoji). sys.stdout is looked up on each call, so
    while a progress bar holds the terminal the block goes through its stdout redirect."""

    def print_failure(source: str, line: int, result: Result) -> None:
        judged = judgements.get((source, line)) if judgements is not None else None
        if result.passed and not judgement_failed(judged):
            return
        text = failure_text(result, against, f"{source}:{line}")
        if judged is not None:
            text += "\n" + judgement_text(judged)
        sys.stdout.write(text + "\n\n")

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
    judge_model: JudgeModel = None,
    judge_engine: JudgeEngine = "transformers",
    judge_url: JudgeUrl = None,
    judge_name: JudgeName = None,
    k: Samples = 1,
    how: HowOption = "min",
    show_reasoning: ShowReasoning = False,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    concurrency: Concurrency = 4,
    tries: Tries = 4,
    backoff: Backoff = 1.0,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray",
            help="Verify on a Ray cluster: local (start one here), auto, or ray://HOST:PORT.",
        ),
    ] = None,
    jobs_option: Annotated[
        str,
        typer.Option(
            "--jobs",
            "-j",
            metavar="N",
            help="Verify in N worker processes here (0 or auto: one per CPU); same report.",
        ),
    ] = "1",
) -> None:
    """Verify transcripts against a spec and against their own confessions.

    Every input line gets one result line in the report, in order (a bad line
    gets its error); the report is written atomically. Exit 1 if any transcript
    has an error-level finding. With --judge (or --judge-url), each line also gets
    a "judgement" beside its "findings", in every format (docs/judge.md), and a
    failing judgement fails the run.
    Example: policyspec verify policies/ runs.jsonl -o report.jsonl --format junit > junit.xml
    """
    report_as(output_format)
    jobs = _parse_jobs(jobs_option)
    options = JudgeOptions(
        model=judge_model,
        engine=judge_engine,
        url=judge_url,
        name=judge_name,
        k=k,
        how=how,
        show_reasoning=show_reasoning,
        no_cache=no_cache,
        cache_dir=cache_dir,
        concurrency=concurrency,
        tries=tries,
        backoff=backoff,
    )
    verifier = _prepare(spec_path, transcripts, options)
    spec = verifier.spec
    if report is not None:
        if not report.parent.is_dir():
            fail_input(f"{report}: cannot write a report there (in a missing folder)")
        refuse_unsafe_output(report, [spec_path, *spec.sources, *transcripts], Kind.report)
    judgements = _judgements(spec, options, transcripts, max_line_bytes)
    elsewhere = _verified_elsewhere(
        spec_path, ray_address, jobs, verifier, transcripts, max_line_bytes
    )
    with elsewhere as results:
        totals = _report(
            output_format, verifier, transcripts, max_line_bytes, report, judgements, results
        )
    judged_failed = judgements is not None and JudgeTotals(judgements).failed > 0
    raise typer.Exit(EXIT_FINDINGS if totals.failed or judged_failed else EXIT_OK)


def _report(
    output_format: ReportFormat,
    verifier: Verifier,
    transcripts: list[Path],
    max_line_bytes: int,
    report: Path | None,
    judgements: Judgements | None,
    results: Callable | None,
) -> Totals:
    """Verify (or read `results`), writing the report and the chosen format; the totals."""
    spec = verifier.spec
    against = f"{spec.name} {spec.version}"
    run = partial(
        _run, verifier, transcripts, max_line_bytes, judgements=judgements, results=results
    )
    if output_format is ReportFormat.json:
        identity = {"name": spec.name, "version": spec.version, "hash": spec.content_hash}
        summary = JsonSummary(sys.stdout, identity, judgements)
        totals = run(summary.add, report)
        summary.close(totals)
    elif output_format is ReportFormat.junit:
        junit = JUnitWriter(sys.stdout, against, judgements)
        totals = run(
            lambda _source, line, result: junit.add(line, result),
            report,
            on_file=junit.start_suite,
        )
        junit.close()
    else:
        totals = run(_failure_printer(against, judgements), report)
        if totals.by_code:
            for table in totals_tables(totals):
                out.print(table)
        out.print(summary_line(totals), markup=False)
        if judgements is not None:
            out.print(JudgeTotals(judgements).line(), markup=False)
    return totals


def _judgements(
    spec: spec_lang.Spec, options: JudgeOptions, transcripts: list[Path], max_line_bytes: int
) -> dict[tuple[str, int], dict] | None:
    """Each line's judgement JSON by (source, line), when the options name a judge."""
    if not options.given:
        return None
    from policyspec.judge_command import judged_lines, make_judge

    judge = make_judge(spec, options)
    return {
        (source, line): judgement.to_json()
        for source, line, judgement in judged_lines(judge, transcripts, max_line_bytes)
    }


def evaluate(
    spec_path: SpecPath,
    transcripts: TranscriptPaths,
    labels: Annotated[
        Path,
        typer.Option(
            "--labels", help='JSONL: {"id": ..., "label": "safe" | "unsafe", "rules": [...]}.'
        ),
    ],
    judgements_path: Annotated[
        Path | None,
        typer.Option(
            "--judgements",
            help="A judge report (policyspec judge -o, verify --judge -o): its verdicts, by id.",
        ),
    ] = None,
    judge_model: JudgeModel = None,
    judge_engine: JudgeEngine = "transformers",
    judge_url: JudgeUrl = None,
    judge_name: JudgeName = None,
    k: Samples = 1,
    how: HowOption = "min",
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    concurrency: Concurrency = 4,
    tries: Tries = 4,
    backoff: Backoff = 1.0,
    output_format: FormatOption = Format.text,
    max_line_bytes: MaxLineBytes = MAX_LINE_BYTES,
) -> None:
    """Rates over labelled prompts: not_unsafe, not_overrefuse, style adherence, citation
    accuracy, P(confessed | violated), the false-negative rate of confessions and
    decision accuracy.

    With a judge's verdicts (--judge runs one; --judgements reads a judge report), what
    each answer does and the decision required are the judge's where it scored them;
    each rate says how many transcripts each source read.
    Example: policyspec eval policies/ runs.jsonl --labels prompts.jsonl
    """
    report_as(output_format)
    options = JudgeOptions(
        model=judge_model,
        engine=judge_engine,
        url=judge_url,
        name=judge_name,
        k=k,
        how=how,
        no_cache=no_cache,
        cache_dir=cache_dir,
        concurrency=concurrency,
        tries=tries,
        backoff=backoff,
    )
    if options.given and judgements_path is not None:
        fail_input("give --judge (to judge now) or --judgements (a judge report), not both")
    verifier = _prepare(spec_path, transcripts, options)
    try:
        evaluation = Evaluation(verifier, load_labels(labels))
        by_id = load_judgements(judgements_path) if judgements_path is not None else None
    except spec_lang.InputError as error:
        fail_input(error)
    by_line = _judgements(verifier.spec, options, transcripts, max_line_bytes)

    def add(source: str, line: int, result: Result) -> None:
        if by_line is not None:
            judgement = by_line.get((source, line))
        else:
            judgement = by_id.get(result.id) if by_id is not None and result.id else None
        evaluation.add(result, judgement)

    _run(verifier, transcripts, max_line_bytes, add)
    summary = evaluation.to_json()
    if output_format is Format.json:
        spec = verifier.spec
        emit_json({"spec": {"name": spec.name, "version": spec.version}, **summary})
    else:
        _print_rates(verifier.spec, summary)


def _print_rates(spec: spec_lang.Spec, summary: dict) -> None:
    table = Table(title=f"{spec.name} {spec.version}", title_justify="left")
    judged = summary["judged"] > 0  # who read each rate's transcripts, when a judge did
    table.add_column("rate", min_width=max(map(len, summary["rates"])))
    table.add_column("value", justify="right")
    table.add_column("of", justify="right")
    if judged:
        table.add_column("read by")
    table.add_column("what")
    for name, rate in summary["rates"].items():
        value = "n/a" if rate["value"] is None else f"{rate['value']:.3f}"
        share = f"{rate['numerator']}/{rate['denominator']}"
        sources = ", ".join(f"{source} {n}" for source, n in rate["sources"].items()) or "-"
        row = (name, value, share, *((sources,) if judged else ()), rate["description"])
        table.add_row(*row)
    out.print(table)
    out.print(
        f"{summary['transcripts']} transcripts ({summary['unreadable']} unreadable, "
        f"{summary['unlabelled']} unlabelled); "
        f"{summary['labels_without_transcript']} labels without a transcript"
        + (
            f"; {summary['judged']} judged ({summary['judge_unscored']} unscored: "
            "read by the verifier)"
            if summary["judged"]
            else ""
        ),
        markup=False,
    )
