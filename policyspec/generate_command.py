"""`policyspec generate`: run a model under the compiled schema and write transcripts.

Everything that can be wrong with the input (the spec, a prompt row, the model,
the device, settings that differ from the transcripts already in the output) is
found before the output file is written, so a bad run never touches it.
Transcripts are appended one whole line at a time, each synced as soon as it is
finished: a run that is killed loses only the ones in flight, and is resumed by
running it again with the same settings (ids already in the file are skipped).
`--data-parallel N` runs N engine processes, each on a shard of the requests, all
appending to the one output the same way (runtime/data_parallel.py).
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.progress import Progress

from compiler.sft_gen import requests
from core.appending import LineAppender
from core.codes import Severity
from core.diagnostics import InputError, render
from policyspec.console import SpecPath, err, fail_input, load_spec, out
from policyspec.outputs import Kind, is_transcript, refuse_unsafe_output
from runtime.generation import BACKENDS, DEFAULT_BACKEND
from runtime.models import DTYPES, EMBEDDED_MODEL, ModelLoadError, resolve_device, resolve_dtype
from runtime.transcripts import Settings
from runtime.vllm_engine import VllmError, require_vllm


class Engine(StrEnum):
    transformers = "transformers"
    vllm = "vllm"


def generate(
    spec_path: SpecPath,
    output: Annotated[Path, typer.Option("-o", "--output", help="Transcripts JSONL (appended).")],
    prompts: Annotated[
        Path | None,
        typer.Option(
            "--prompts",
            help="JSONL or CSV with a prompt column; optional: category, label, id, attributes.",
        ),
    ] = None,
    examples: Annotated[
        bool, typer.Option("--examples", help="Use the spec's own examples.")
    ] = False,
    model: Annotated[
        str, typer.Option(help="The embedded model, a model folder or a cached id.")
    ] = EMBEDDED_MODEL,
    engine: Annotated[
        Engine,
        typer.Option(help="transformers (any machine) or vllm (GPUs; the vllm extra)."),
    ] = Engine.transformers,
    device: Annotated[str, typer.Option(help="auto, cpu, cuda or cuda:N.")] = "auto",
    dtype: Annotated[
        str,
        typer.Option(
            help="auto (bfloat16 on a GPU, float32 on a CPU), bfloat16, float16, float32."
        ),
    ] = "auto",
    tensor_parallel_size: Annotated[
        int, typer.Option(min=1, help="vllm: GPUs each model is split across.")
    ] = 1,
    data_parallel: Annotated[
        int,
        typer.Option(min=1, help="Engine processes, each with its own model and shard."),
    ] = 1,
    with_spec: Annotated[
        bool,
        typer.Option(
            "--with-spec/--without-spec", help="Put spec(category) in the system message."
        ),
    ] = True,
    confession_turn: Annotated[
        bool, typer.Option("--confession-turn", help="Ask for the confession in a second turn.")
    ] = False,
    limit: Annotated[
        int | None, typer.Option(help="Generate at most this many new transcripts (0: none).")
    ] = None,
    seed: int = 0,
    backend: Annotated[str, typer.Option(help=f"One of {', '.join(BACKENDS)}.")] = DEFAULT_BACKEND,
) -> None:
    """Generate transcripts: the model can only emit reasoning that cites the spec's rule IDs,
    a decision, a style, an answer and a confession.

    Example: policyspec generate policies/ --examples --limit 4 -o transcripts.jsonl
    """
    if (prompts is None) == (not examples):
        fail_input("give either --prompts FILE or --examples")
    if backend not in BACKENDS:
        fail_input(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if limit is not None and limit < 0:
        fail_input(f"--limit {limit}: give 0 or more transcripts")
    if dtype not in DTYPES:
        fail_input(f"unknown --dtype {dtype!r}; use one of {', '.join(DTYPES)}")
    try:  # a typo in --device, or no vllm for --engine vllm, is found before anything is read
        if engine is Engine.vllm:
            require_vllm("--engine vllm")
        resolved = "cuda" if engine is Engine.vllm else resolve_device(device)
    except (ModelLoadError, VllmError) as error:
        fail_input(str(error))
    layout = _layout(engine, resolved, tensor_parallel_size, data_parallel)
    spec = load_spec(spec_path)
    refuse_unsafe_output(output, [spec_path, *spec.sources, prompts], Kind.transcripts)
    settings = Settings(
        model=model,
        engine=engine.value,
        dtype=resolve_dtype(dtype, resolved),
        with_spec=with_spec,
        confession_turn=confession_turn,
        seed=seed,
        backend=backend,
    )
    todo = _requests(spec, prompts, output, settings)[:limit]
    if limit == 0:
        out.print("nothing to generate: --limit 0", markup=False)
        return
    if not todo:
        out.print(f"nothing to generate: every request is already in {output}", markup=False)
        return
    if layout is not None:
        written, where = _in_parallel(spec, todo, settings, layout, output)
    else:
        generator = _generator(settings, device, tensor_parallel_size)
        _refuse_too_long(generator.too_long(spec, todo))
        written = _append(output, generator.transcripts(spec, todo), len(todo))
        where = generator.where
    out.print(f"wrote {written} transcripts to {output} (model {model} {where})", markup=False)


def _generator(settings: Settings, device: str, tensor_parallel_size: int):
    """The engine, loaded in this process; a model or an engine that cannot load exits 2."""
    from transformers.utils import logging

    from runtime.data_parallel import make_generator

    logging.disable_progress_bar()  # stderr holds errors and notes, one line each
    try:
        generator = make_generator(settings, device, tensor_parallel_size)
    except (ModelLoadError, VllmError) as error:
        fail_input(str(error))
    if generator.note:
        err.print(f"note: {generator.note}", markup=False)
    return generator


def _layout(engine: Engine, device: str, tensor_parallel: int, workers: int):
    """Where each --data-parallel worker runs (None: one process, this one); a split the
    machine cannot hold exits 2."""
    if workers == 1:
        return None
    from runtime.data_parallel import DataParallelError, plan, visible_gpus

    try:
        return plan(engine.value, device, tensor_parallel, workers, visible_gpus())
    except DataParallelError as error:
        fail_input(str(error))


def _in_parallel(spec, todo: list[dict], settings: Settings, layout, output: Path):
    """The plan's workers, each generating a shard of `todo` into `output`: the count
    written, and where."""
    from runtime.data_parallel import DataParallelError, generate_in_parallel

    progress = Progress(console=err, transient=True)
    task = progress.add_task("generating", total=len(todo), start=False)

    def check(problems: list[str], notes: list[str]) -> None:
        for note in notes:
            err.print(f"note: {note}", markup=False)
        _refuse_too_long(problems)
        progress.start()  # only once the run goes ahead: an error stays one line
        progress.start_task(task)

    try:
        written = generate_in_parallel(
            spec, todo, settings, layout, output, check, lambda: progress.advance(task)
        )
    except DataParallelError as error:
        _stop(progress)
        fail_input(str(error))
    _stop(progress)
    where = "on vLLM" if settings.engine == "vllm" else f"on {layout.device}"
    return written, f"{where}, {min(layout.workers, len(todo))} data-parallel workers"


def _stop(progress: Progress) -> None:
    """Stop the bar if it was started (stopping one never started prints a blank line)."""
    if progress.live.is_started:
        progress.stop()


def _append(output: Path, transcripts, total: int) -> int:
    """Append each transcript as one whole line, synced as soon as it is finished."""
    written = 0
    with LineAppender(output) as appender, Progress(console=err, transient=True) as progress:
        task = progress.add_task("generating", total=total)
        for transcript in transcripts:
            appender.append(orjson.dumps(transcript) + b"\n")
            written += 1
            progress.advance(task)
    return written


def _refuse_too_long(problems: list[str]) -> None:
    """Stop before anything is written when a prompt leaves too little of the model's
    context, rather than at its turn, part way through the run."""
    for problem in problems[:-1]:
        err.print(f"error: {problem}", markup=False)
    if problems:
        fail_input(problems[-1])


def _requests(spec, prompts: Path | None, output: Path, settings: Settings) -> list[dict]:
    """The requests still to generate: every bad prompt row is reported and stops the run."""
    try:
        found, problems = requests(spec, prompts)
    except InputError as error:
        fail_input(str(error))
    if problems:
        for problem in problems:  # a skipped row is a warning in compile; here it stops the run
            err.print(render(replace(problem, severity=Severity.ERROR)), markup=False)
        fail_input(f"{len(problems)} unusable rows in {prompts}; fix them and run again")
    wanted = [r for r in found if (r["source"] == "spec") == (prompts is None)]
    done = _done_ids(output, settings.record())
    return [r for r in wanted if r["id"] not in done]


def _done_ids(output: Path, record: dict) -> set[str]:
    """IDs already in the output, all made with `record`'s settings (a run with others is
    refused). A last line cut off by an interrupted run is dropped: it holds no whole
    transcript, and its request is generated again."""
    if not output.exists():
        return set()
    if output.is_dir():
        fail_input(f"{output} is a folder; give a file for the transcripts")
    data = output.read_bytes()
    complete = data[: data.rfind(b"\n") + 1]
    done = set()
    for number, line in enumerate(complete.splitlines(), 1):
        transcript = is_transcript(line)
        if transcript is None:
            fail_input(
                f"{output}:{number}: not a transcript (an output of generate holds only "
                "transcripts); give a new output file"
            )
        _refuse_other_settings(output, number, transcript.get("generation"), record)
        done.add(transcript["id"])
    if len(complete) < len(data):  # decided only once every whole line is a transcript
        with output.open("r+b") as stream:
            stream.truncate(len(complete))
        err.print(f"note: dropped an incomplete last line in {output} (an interrupted run)")
    return done


def _refuse_other_settings(output: Path, number: int, made: object, record: dict) -> None:
    """Resuming with other settings would mix two runs in one file: refuse it."""
    if made == record:
        return
    if not isinstance(made, dict):
        fail_input(
            f"{output}:{number}: a transcript with no record of how it was made; "
            "give a new output file"
        )
    differences = [
        f"{key} {made.get(key)!r} there, {value!r} here"
        for key, value in record.items()
        if made.get(key) != value
    ]
    fail_input(
        f"{output}:{number} was made with other settings ({'; '.join(differences)}); "
        "resume with the same ones, or give a new output file"
    )
