"""`policyspec generate`: run a model under the compiled schema and write transcripts.

Everything that can be wrong with the input (the spec, a prompt row, the model,
the device) is found before the output file is opened, so a bad run never
touches it. Transcripts are appended one whole line at a time and synced per
batch; a run that is interrupted is resumed by running it again (ids already in
the file are skipped).
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.progress import Progress

from compiler.sft_gen import requests
from core.codes import Severity
from core.diagnostics import InputError, render
from policyspec.console import SpecPath, err, fail_input, load_spec, out
from policyspec.outputs import Kind, is_transcript, refuse_unsafe_output
from runtime.generation import BACKENDS, DEFAULT_BACKEND
from runtime.models import EMBEDDED_MODEL, ModelLoadError, load_model, resolve_device
from runtime.transcripts import Settings, generate_transcripts, too_long


def generate(
    spec_path: SpecPath,
    output: Annotated[Path, typer.Option("-o", "--output", help="Transcripts JSONL (appended).")],
    prompts: Annotated[
        Path | None,
        typer.Option(
            "--prompts",
            help="JSONL or CSV: prompt, [category], [label], a column per declared attribute.",
        ),
    ] = None,
    examples: Annotated[
        bool, typer.Option("--examples", help="Use the spec's own examples.")
    ] = False,
    model: Annotated[
        str, typer.Option(help="The embedded model, a model folder or a cached id.")
    ] = EMBEDDED_MODEL,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
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
        int | None, typer.Option(help="Generate at most this many new transcripts.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1)] = 4,
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
    try:
        resolve_device(device)  # a typo in --device is found before anything is read
    except ModelLoadError as error:
        fail_input(str(error))
    spec = load_spec(spec_path)
    refuse_unsafe_output(output, [spec_path, *spec.sources, prompts], Kind.transcripts)
    todo = _requests(spec, prompts, output)[:limit]
    if not todo:
        out.print(f"nothing to generate: every request is already in {output}", markup=False)
        return
    try:
        loaded = load_model(model, device)
    except ModelLoadError as error:
        fail_input(InputError(str(error)))
    settings = Settings(with_spec, confession_turn, batch_size, seed, backend)
    _refuse_too_long(loaded, todo, settings)
    written = 0
    with output.open("ab") as stream, Progress(console=err, transient=True) as progress:
        task = progress.add_task("generating", total=len(todo))
        for transcript in generate_transcripts(
            spec, loaded, todo, settings, lambda n: progress.advance(task, n)
        ):
            stream.write(orjson.dumps(transcript) + b"\n")
            written += 1
            if written % batch_size == 0 or written == len(todo):
                stream.flush()
                os.fsync(stream.fileno())
    out.print(
        f"wrote {written} transcripts to {output} (model {model} on {loaded.device})", markup=False
    )


def _refuse_too_long(loaded, todo: list[dict], settings: Settings) -> None:
    """Stop before anything is written when a prompt leaves no room in the model's context,
    rather than at its batch, part way through the run."""
    problems = too_long(loaded, todo, settings)
    for problem in problems[:-1]:
        err.print(f"error: {problem}", markup=False)
    if problems:
        fail_input(problems[-1])


def _requests(spec, prompts: Path | None, output: Path) -> list[dict]:
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
    done = _done_ids(output)
    return [r for r in wanted if r["id"] not in done]


def _done_ids(output: Path) -> set[str]:
    """IDs already in the output. A last line cut off by an interrupted run is dropped:
    it holds no whole transcript, and its request is generated again."""
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
        done.add(transcript["id"])
    if len(complete) < len(data):  # decided only once every whole line is a transcript
        with output.open("r+b") as stream:
            stream.truncate(len(complete))
        err.print(f"note: dropped an incomplete last line in {output} (an interrupted run)")
    return done
