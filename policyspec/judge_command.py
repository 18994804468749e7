"""`policyspec judge`: transcripts graded by a judge model under the compiled judge schemas.

The judge is the embedded model, a local model (folder or .gguf), or an
OpenAI-compatible endpoint (`--judge-url`, `--judge-model`; the key from
POLICYSPEC_JUDGE_API_KEY). Every input line gets one report line,
`{"source", "line", "id", "judgement"}`, written atomically; a judgement fails on an
error-level JG finding, one that cannot be scored fails (JG001), and one the judge
could not be asked about, its retries spent, fails too (JG002) while the run goes on.
A rerun with the same cache asks only about what it has no verdict for.

`verify --judge` and `eval --judge` judge through `judged_lines` here as well.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

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
    Retries,
    Sampling,
    Settings,
    VllmBackend,
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
from runtime.models import ModelLoadError, resolve_device
from verifier.batch import MAX_LINE_BYTES, read_lines
from verifier.batch import atomic_lines as atomic_report

ENGINES = ("transformers", "vllm")  # a local judge's


def make_judge(spec, options: JudgeOptions) -> Judge:
    """The judge the options describe; bad options exit 2 (check_options first, to fail
    before the spec is loaded)."""
    backend = backend_for(options)
    settings = Settings(
        Sampling(k=options.k, seed=options.seed),
        Aggregate(options.how),
        options.show_reasoning,
        templates=options.templates,
    )
    cache = None if options.no_cache else Cache(options.cache_dir or DEFAULT_CACHE)
    return Judge(spec, backend, settings, cache, batch_size=options.batch_size)


def check_options(options: JudgeOptions) -> None:
    """Exit 2 on options that cannot work, before anything is loaded."""
    if options.how not in set(Aggregate):
        fail_input(f"--aggregate {options.how!r}: use min, mean or majority")
    backend_for(options)
    if options.templates is not None:
        try:
            environment(options.templates)
        except Exception as error:  # an InputError: one line, exit 2
            fail_input(str(error))


def backend_for(options: JudgeOptions) -> ModelBackend | VllmBackend | EndpointBackend:
    """The judge's backend from the command line's options; bad ones exit 2."""
    if (options.model is None) == (options.url is None):
        fail_input("give either --judge MODEL or --judge-url URL --judge-model NAME")
    if options.engine not in ENGINES:
        fail_input(f"--judge-engine {options.engine!r}: use {' or '.join(ENGINES)}")
    if options.url is not None:
        if options.engine == "vllm":
            fail_input(
                "--judge-engine vllm runs a local --judge MODEL; an endpoint (--judge-url) "
                "runs on its own engine"
            )
        if not options.name:
            fail_input("--judge-url needs --judge-model NAME (the model the endpoint serves)")
        _check_url(options.url)
        # The retries are counted in the findings of what still failed; urllib3's line
        # per retry would only bury them.
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
        retries = Retries(tries=options.tries, backoff=options.backoff)
        return EndpointBackend(
            options.url, options.name, options.timeout, retries, options.concurrency
        )
    from runtime.models import EMBEDDED_MODEL

    name = EMBEDDED_MODEL if options.model == "embedded" else options.model
    if options.engine == "vllm":
        from runtime.vllm_engine import VllmError, require_vllm

        try:
            require_vllm("--judge-engine vllm")
        except VllmError as error:
            fail_input(str(error))
        return VllmBackend(name)
    try:
        resolve_device(options.device)
    except ModelLoadError as error:
        fail_input(str(error))
    return ModelBackend(name, options.device, threads=options.threads)


def _check_url(url: str) -> None:
    try:
        parsed = parse_url(url)
    except LocationParseError:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        fail_input(f"--judge-url {url!r}: give an http:// or https:// URL with a host")


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


def judged_lines(
    judge: Judge, transcripts: list[Path], max_line_bytes: int
) -> Iterator[tuple[str, int, Judgement]]:
    """(source, line, judgement) for every transcript in the files, in order; a progress
    bar on stderr when it is a terminal. A judge that cannot be asked at all (JudgeError:
    a model that does not load, an endpoint that refuses the key) exits 2."""
    total = sum(1 for path in transcripts for _ in transcripts_of(path, max_line_bytes))
    where: deque[tuple[str, int]] = deque()

    def items() -> Iterator[object]:
        for path in transcripts:
            for number, item in transcripts_of(path, max_line_bytes):
                where.append((str(path), number))
                yield _unread(judge) if isinstance(item, int) else item

    with _Progress(total) as advance:
        try:
            for judgement in judge.judge_each(items()):
                source, number = where.popleft()
                advance()
                yield source, number, judgement
        except JudgeError as error:
            fail_input(str(error))


def _unread(judge: Judge) -> Judgement:
    """The judgement of a line over the size limit: never read, so never judged."""
    finding = judge_findings.unreadable("$")
    return Judgement(None, judge.backend.identity, judge.settings, None, None, (finding,))


class _Progress:
    """A bar of transcripts judged, on stderr, only when stderr is a terminal."""

    def __init__(self, total: int):
        self.bar = None
        if err.is_terminal:
            self.bar = Progress(
                TextColumn("judging"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            self.task = self.bar.add_task("judge", total=total)

    def __enter__(self):
        if self.bar is None:
            return lambda: None
        self.bar.start()
        return lambda: self.bar.advance(self.task)

    def __exit__(self, *_):
        if self.bar is not None:
            self.bar.stop()


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
    judge_engine: JudgeEngine = "transformers",
    judge_url: JudgeUrl = None,
    judge_name: JudgeName = None,
    report: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write one JSON judgement per input line (JSONL)."),
    ] = None,
    k: Samples = 1,
    how: HowOption = "min",
    show_reasoning: ShowReasoning = False,
    no_cache: NoCache = False,
    cache_dir: CacheDir = None,
    seed: int = 0,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (a local judge).")] = "auto",
    threads: Annotated[
        int | None, typer.Option("--threads", min=1, help="CPU threads for a local judge.")
    ] = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Transcripts per batch of a local judge.")
    ] = 4,
    concurrency: Concurrency = 4,
    tries: Tries = 4,
    backoff: Backoff = 1.0,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Seconds to wait for an endpoint's reply.")
    ] = 120.0,
    templates: Annotated[
        Path | None, typer.Option("--templates", help="A folder of judge.j2 and the like.")
    ] = None,
    output_format: FormatOption = Format.text,
    max_line_bytes: Annotated[int, typer.Option("--max-line-bytes")] = MAX_LINE_BYTES,
) -> None:
    """Grade transcripts with a judge model under the compiled judge schemas.

    A reply that does not parse under the schema is unscored and fails (JG001); a
    transcript the judge could not be asked about, retries spent, fails (JG002) and the
    run goes on. Exit 1 if any judgement fails. A rerun asks only what the cache lacks.
    Example: policyspec judge policies/ runs.jsonl --judge embedded -k 3 -o judged.jsonl
    """
    report_as(output_format)
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
        seed=seed,
        device=device,
        threads=threads,
        templates=templates,
        concurrency=concurrency,
        tries=tries,
        backoff=backoff,
        timeout=timeout,
        batch_size=batch_size,
    )
    check_options(options)
    spec, _, _ = load_checked(spec_path)
    for path in transcripts:
        if not path.is_file():
            fail_input(f"{path}: no such file; give JSONL or .json files of transcripts")
    if report is not None:
        if not report.parent.is_dir():
            fail_input(f"{report}: cannot write a report there (in a missing folder)")
        refuse_unsafe_output(report, [spec_path, *spec.sources, *transcripts], Kind.report)
    judge_run = make_judge(spec, options)
    judged = failed = unscored = unavailable = asked = 0
    seconds = 0.0
    started = time.perf_counter()
    lines = []
    with atomic_report(report) as write:
        for source, number, judgement in judged_lines(judge_run, transcripts, max_line_bytes):
            judged += 1
            failed += not judgement.passed
            unscored += judgement.status == "unscored"
            unavailable += any(f.code == "JG002" for f in judgement.findings)
            if not judgement.cached and judgement.answer is not None:
                asked += 1
                seconds += judgement.seconds
            write(judgement_line(source, number, judgement))
            if output_format is Format.json:
                lines.append({"source": source, "line": number} | judgement.to_json())
            else:
                sys.stdout.write(judgement_text(judgement, f"{source}:{number}") + "\n")
    cache = judge_run.cache
    hits = cache.hits if cache is not None else 0
    per = f"{seconds / asked:.1f} s a transcript judged" if asked else "no judge call"
    summary = (
        f"{judged} transcripts judged by {judge_run.backend.identity} (k={k}, {how}): "
        f"{judged - failed} passed, {failed} failed ({unscored} unscored, {unavailable} of "
        "them not answered); "
        f"{asked} asked, {hits} from the cache; {per}"
    )
    if output_format is Format.json:
        emit_json(
            {
                "judgements": lines,
                "judged": judged,
                "failed": failed,
                "unscored": unscored,
                "unanswered": unavailable,
                "asked": asked,
                "cached": hits,
                "seconds_per_transcript": round(seconds / asked, 3) if asked else None,
                "wall_seconds": round(time.perf_counter() - started, 3),
            }
        )
    else:
        out.print(summary, markup=False)
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)
