"""`policyspec judge`: transcripts graded by a judge model under the compiled judge schemas.

The judge is the embedded model, a local model (folder or .gguf), or an
OpenAI-compatible endpoint (`--judge-url`, `--judge-model`; the key from
POLICYSPEC_JUDGE_API_KEY). Every input line gets one report line,
`{"source", "line", "id", "judgement"}`, written atomically; a judgement fails on an
error-level JG finding, and one that cannot be scored fails (JG001).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import orjson
import typer

from compiler.render import environment
from judge import (
    DEFAULT_CACHE,
    Aggregate,
    Cache,
    EndpointBackend,
    Judge,
    JudgeError,
    Judgement,
    ModelBackend,
    Sampling,
    Settings,
    judgement_line,
)
from judge import findings as judge_findings
from policyspec.console import (
    EXIT_FINDINGS,
    EXIT_OK,
    Format,
    FormatOption,
    SpecPath,
    emit_json,
    fail_input,
    load_checked,
    out,
    report_as,
)
from policyspec.outputs import Kind, refuse_unsafe_output
from runtime.models import ModelLoadError, resolve_device
from verifier.batch import MAX_LINE_BYTES, read_lines
from verifier.batch import atomic_lines as atomic_report

JudgeModel = Annotated[
    str | None,
    typer.Option(
        "--judge", help="The judge: 'embedded', a model folder or .gguf file, or a cached id."
    ),
]
JudgeUrl = Annotated[
    str | None,
    typer.Option("--judge-url", help="An OpenAI-compatible API base, e.g. http://host:8080/v1."),
]
JudgeName = Annotated[
    str | None, typer.Option("--judge-model", help="The model name the endpoint serves.")
]


def backend_for(
    judge: str | None, url: str | None, name: str | None, device: str, threads: int | None = None
):
    """The judge's backend from the command line's options; bad ones exit 2."""
    if (judge is None) == (url is None):
        fail_input("give either --judge MODEL or --judge-url URL --judge-model NAME")
    if url is not None:
        if not name:
            fail_input("--judge-url needs --judge-model NAME (the model the endpoint serves)")
        if not url.startswith(("http://", "https://")):
            fail_input(f"--judge-url {url!r}: give an http:// or https:// URL")
        return EndpointBackend(url, name)
    try:
        resolve_device(device)
    except ModelLoadError as error:
        fail_input(str(error))
    from runtime.models import EMBEDDED_MODEL

    return ModelBackend(EMBEDDED_MODEL if judge == "embedded" else judge, device, threads=threads)


def judge_settings(k: int, how: Aggregate, show: bool, seed: int, templates: Path | None):
    if templates is not None:
        try:
            environment(templates)
        except Exception as error:  # an InputError: one line, exit 2
            fail_input(str(error))
    return Settings(Sampling(k=k, seed=seed), how, show, templates=templates)


def transcripts_of(path: Path, max_line_bytes: int) -> Iterator[tuple[int, object]]:
    """(line number, the line's bytes, or an int: the size of a line too long) for a JSONL
    file; (item number, item) for a .json file of one transcript or an array."""
    if path.suffix == ".json":
        data = path.read_bytes()
        if len(data) > max_line_bytes:
            fail_input(f"{path}: {len(data)} bytes, past --max-line-bytes; write JSONL")
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            fail_input(f"{path}: not JSON ({error})")
        yield from enumerate(value if isinstance(value, list) else [value], 1)
        return
    with path.open("rb") as stream:
        number = 0
        for line in read_lines(stream, max_line_bytes):
            number += 1
            if isinstance(line, bytes) and not line.strip():
                continue
            yield number, line


def judge_one(judge: Judge, item: object) -> Judgement:
    if isinstance(item, int):  # a line over the size limit: never read
        finding = judge_findings.unreadable("$")
        return Judgement(None, judge.backend.identity, judge.settings, None, None, (finding,))
    try:
        return judge.judge(item)
    except JudgeError as error:
        fail_input(str(error))


def judgement_text(judgement: Judgement, where: str) -> str:
    head = "PASS" if judgement.passed else "FAIL"
    grade = judgement.answer.grade if judgement.answer is not None else None
    parts = [
        f"{head} {judgement.id or '-'} ({where}) judged by {judgement.judge}, "
        f"k={judgement.settings.sampling.k}: {judgement.status}"
        + (f", grade {grade:g}" if grade is not None else "")
        + (" (cached)" if judgement.cached else "")
    ]
    for finding in judgement.findings:
        parts.append(
            f"  {finding.severity:<7} {finding.code}  {finding.path or '-':<45} {finding.message}"
        )
    return "\n".join(parts)


def judge(
    spec_path: SpecPath,
    transcripts: Annotated[
        list[Path],
        typer.Argument(metavar="TRANSCRIPTS...", help="JSONL files, or .json files."),
    ],
    judge_model: JudgeModel = None,
    judge_url: JudgeUrl = None,
    judge_name: JudgeName = None,
    report: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write one JSON judgement per input line (JSONL)."),
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=64, help="Samples per transcript.")] = 1,
    how: Annotated[
        Aggregate, typer.Option("--aggregate", help="How k grades combine (min fails closed).")
    ] = Aggregate.min,
    show_reasoning: Annotated[
        bool, typer.Option("--show-reasoning", help="Show the judge the transcript's reasoning.")
    ] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ask the judge every time.")] = False,
    cache_dir: Annotated[
        Path, typer.Option("--cache", help="Where verdicts are kept.")
    ] = DEFAULT_CACHE,
    seed: int = 0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (a local judge).")] = "auto",
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="CPU threads for a local judge.")
    ] = None,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="A folder of judge.j2 and the like.")
    ] = None,
    output_format: FormatOption = Format.text,
    max_line_bytes: Annotated[int, typer.Option("--max-line-bytes")] = MAX_LINE_BYTES,
) -> None:
    """Grade transcripts with a judge model under the compiled judge schemas.

    A reply that does not parse under the schema is unscored and fails (JG001).
    Exit 1 if any judgement fails.
    Example: policyspec judge policies/ runs.jsonl --judge embedded -k 3 -o judged.jsonl
    """
    report_as(output_format)
    backend = backend_for(judge_model, judge_url, judge_name, device, threads)
    settings = judge_settings(k, how, show_reasoning, seed, templates)
    spec, _, _ = load_checked(spec_path)
    for path in transcripts:
        if not path.is_file():
            fail_input(f"{path}: no such file; give JSONL or .json files of transcripts")
    if report is not None:
        if not report.parent.is_dir():
            fail_input(f"{report}: cannot write a report there (in a missing folder)")
        refuse_unsafe_output(report, [spec_path, *spec.sources, *transcripts], Kind.report)
    cache = None if no_cache else Cache(cache_dir)
    judge_run = Judge(spec, backend, settings, cache)
    judged = failed = unscored = asked = 0
    seconds = 0.0
    started = time.perf_counter()
    lines = []
    with atomic_report(report) as write:
        for path in transcripts:
            for number, item in transcripts_of(path, max_line_bytes):
                judgement = judge_one(judge_run, item)
                judged += 1
                failed += not judgement.passed
                unscored += judgement.status == "unscored"
                if not judgement.cached and judgement.answer is not None:
                    asked += 1
                    seconds += judgement.seconds
                write(judgement_line(str(path), number, judgement))
                if output_format is Format.json:
                    lines.append({"source": str(path), "line": number} | judgement.to_json())
                else:
                    sys.stdout.write(judgement_text(judgement, f"{path}:{number}") + "\n")
    hits = cache.hits if cache is not None else 0
    per = f"{seconds / asked:.1f} s a transcript judged" if asked else "no judge call"
    summary = (
        f"{judged} transcripts judged by {backend.identity} (k={k}, {how}): "
        f"{judged - failed} passed, {failed} failed ({unscored} unscored); "
        f"{asked} asked, {hits} from the cache; {per}"
    )
    if output_format is Format.json:
        emit_json(
            {
                "judgements": lines,
                "judged": judged,
                "failed": failed,
                "unscored": unscored,
                "asked": asked,
                "cached": hits,
                "seconds_per_transcript": round(seconds / asked, 3) if asked else None,
                "wall_seconds": round(time.perf_counter() - started, 3),
            }
        )
    else:
        out.print(summary, markup=False)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)


def judge_report(
    spec, judging, transcripts: list[Path], report: Path, max_line_bytes: int, text: bool
) -> bool:
    """Add a "judgement" to each line of a verify report, beside its "findings"; the
    report is replaced atomically. True when any judgement fails."""
    backend, settings, cache = judging
    judge_run = Judge(spec, backend, settings, cache)
    judgements: dict[tuple[str, int], Judgement] = {}
    for path in transcripts:
        for number, item in transcripts_of(path, max_line_bytes):
            judgements[(str(path), number)] = judge_one(judge_run, item)
    lines = report.read_bytes().splitlines()
    with atomic_report(report) as write:
        for raw in lines:
            record = orjson.loads(raw)
            found = judgements.get((record.get("source"), record.get("line")))
            record["judgement"] = found.to_json() if found is not None else None
            write(orjson.dumps(record) + b"\n")
    failed = [j for j in judgements.values() if not j.passed]
    if text:
        for (source, number), judgement in judgements.items():
            if not judgement.passed:
                sys.stdout.write(judgement_text(judgement, f"{source}:{number}") + "\n")
        out.print(
            f"{len(judgements)} judged by {backend.identity}: {len(failed)} failed",
            markup=False,
        )
    return bool(failed)
