"""`policyspec report`: one self-contained HTML page of a verify report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import spec_lang
from core import atomic
from policyspec.console import EXIT_OK, err, fail_input, load_spec, out
from policyspec.outputs import Kind, refuse_unsafe_output
from reports import build, render


def _readable(path: Path | None, what: str) -> None:
    if path is not None and not path.is_file():
        fail_input(f"{path}: no such file; give {what}")


def report(
    report_path: Annotated[
        Path, typer.Argument(metavar="REPORT.jsonl", help="A report written by verify -o.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")],
    transcripts: Annotated[
        Path | None,
        typer.Option(
            "--transcripts",
            help="The transcripts verified (JSONL): shown beside their findings, and their "
            "categories and cited rules counted.",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option("--baseline", help="An earlier report: what got better and worse."),
    ] = None,
    spec_path: Annotated[
        Path | None,
        typer.Option(
            "--spec",
            help="The spec: orders decisions, and gives the category of a transcript that "
            "names none from its rules.",
        ),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="The page's title.")] = None,
) -> None:
    """Write an HTML page of a verify report: totals, pass rates by rule and category,
    decision and confession matrices, judge agreement, a filterable table of transcripts.

    The page is one file that fetches nothing when viewed. Bad input lines are counted
    and listed in it. Example: policyspec report report.jsonl --transcripts runs.jsonl
    --baseline last.jsonl -o report.html
    """
    _readable(report_path, "a report written by policyspec verify -o")
    _readable(transcripts, "the transcripts file (JSONL) that was verified")
    _readable(baseline, "an earlier report written by policyspec verify -o")
    if not output.parent.is_dir():
        fail_input(f"{output}: cannot write the page there (in a missing folder)")
    spec = load_spec(spec_path) if spec_path is not None else None
    sources = [*spec.sources] if spec is not None else []
    refuse_unsafe_output(
        output, [report_path, transcripts, baseline, spec_path, *sources], Kind.html
    )
    try:
        made = build(report_path, transcripts, baseline, spec, title)
    except spec_lang.InputError as error:
        fail_input(error)
    page = render(made)
    try:
        atomic.write_bytes(output, page)
    except OSError as error:
        fail_input(f"{output}: cannot write it ({error.strerror or error})")
    for read in made.inputs:
        if read.bad_count:
            err.print(
                f"warning: {read.path}: {read.bad_count} bad lines (listed in the page)",
                markup=False,
            )
    out.print(
        f"wrote {output} ({len(made.rows)} transcripts: {made.passed} passed, "
        f"{made.failed} failed; {len(page) / 1e6:.1f} MB)",
        markup=False,
    )
    raise typer.Exit(EXIT_OK)
