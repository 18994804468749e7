"""`policyspec generate --data-parallel N`: N engine processes, each generating a shard of
the requests and appending its transcripts to the one output as each is finished.

Each worker is a fresh (spawned) process with its own copy of the model: with vLLM on
its own GPUs (worker i sees the i-th group of `tensor_parallel_size` visible GPUs),
with transformers on its own GPU, or on the CPU with its share of the cores. Requests
are dealt out round robin, so every shard gets a like mix of categories and lengths.

Nothing is written until every worker has loaded its model and measured its shard's
prompts: a model that does not load, or a prompt too long, in any worker stops them all
with the output untouched. Then each worker appends its transcripts through
core.appending (whole lines, under a lock, each synced before the next), so a kill of
the run loses no finished transcript, and running it again resumes from the ids in the
file, as a run in one process does. The workers die with the run (Linux: the parent's
death signals them), and a worker that fails stops the others.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import queue
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from core.appending import LineAppender
from runtime.transcripts import Settings, TransformersGenerator
from spec_lang import Spec

_PR_SET_PDEATHSIG = 1  # prctl(2)
_GRACE = 10.0  # seconds a worker has to end once told to, before it is killed


class DataParallelError(Exception):
    """The run cannot be split so, or a worker failed: one line saying why."""


@dataclass(frozen=True)
class Plan:
    """Where each of `workers` processes runs: `gpus[i]` is worker i's CUDA_VISIBLE_DEVICES
    (None: every worker on the CPU, `threads` torch threads each)."""

    engine: str
    device: str
    tensor_parallel_size: int
    workers: int
    gpus: tuple[str, ...] | None = None
    threads: int | None = None


def plan(
    engine: str, device: str, tensor_parallel_size: int, workers: int, visible: list[str]
) -> Plan:
    """The plan for `workers` processes given the GPUs `visible` (their CUDA ids);
    `device` is the resolved --device (vLLM: cuda)."""
    if engine == "transformers" and device == "cpu":
        threads = max(1, (os.cpu_count() or 1) // workers)
        return Plan(engine, device, 1, workers, threads=threads)
    if device.startswith("cuda:"):
        raise DataParallelError(
            f"--device {device} names one GPU, but --data-parallel {workers} gives each "
            "worker its own: give --device cuda"
        )
    per_worker = tensor_parallel_size if engine == "vllm" else 1
    needed = per_worker * workers
    if needed > len(visible):
        split = f" x --tensor-parallel-size {per_worker}" if per_worker > 1 else ""
        raise DataParallelError(
            f"--data-parallel {workers}{split} needs {needed} GPUs, but {len(visible)} "
            f"{'is' if len(visible) == 1 else 'are'} visible"
        )
    groups = tuple(
        ",".join(visible[rank * per_worker : (rank + 1) * per_worker]) for rank in range(workers)
    )
    return Plan(engine, "cuda", tensor_parallel_size, workers, gpus=groups)


def visible_gpus() -> list[str]:
    """The CUDA ids of the GPUs this process may use (CUDA_VISIBLE_DEVICES, or all)."""
    import torch

    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [gpu for gpu in listed.split(",") if gpu.strip()]
    return [str(i) for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []


def shards(requests: list[dict], count: int) -> list[list[dict]]:
    """The requests dealt round robin into at most `count` non-empty shards."""
    return [requests[rank::count] for rank in range(min(count, len(requests)))]


def make_generator(settings: Settings, device: str, tensor_parallel_size: int = 1) -> Any:
    """The engine `settings.engine` names, loaded: too_long(spec, requests),
    transcripts(spec, requests), `where` it runs and a `note` on how it loaded."""
    if settings.engine == "vllm":
        from runtime.vllm_engine import VllmGenerator

        return VllmGenerator(settings, tensor_parallel_size)
    return TransformersGenerator(settings, device)


def generate_in_parallel(
    spec: Spec,
    requests: list[dict],
    settings: Settings,
    layout: Plan,
    output: Path,
    check: Callable[[list[str], list[str]], None],
    advance: Callable[[], None],
) -> int:
    """Generate `requests` in the plan's workers, appending to `output`; the count
    written. Once every worker is ready, `check(problems, notes)` sees every shard's
    too-long prompts and the loads' notes: it raises to stop the run before anything
    is written. `advance()` is called as each transcript is written. DataParallelError
    when a worker fails."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    go, proceed = context.Event(), context.Value("b", 0)
    parts = shards(requests, layout.workers)
    workers = [
        context.Process(
            target=_work,
            args=(rank, spec, part, settings, layout, str(output), messages, go, proceed),
            name=f"policyspec-generate-{rank + 1}",
        )
        for rank, part in enumerate(parts)
    ]
    for worker in workers:
        worker.start()
    finished = False
    try:
        problems, notes = _wait_ready(messages, workers)
        check(problems, sorted(set(notes) - {""}))
        proceed.value = 1
        go.set()
        written = _wait_done(messages, workers, advance)
        finished = True
        return written
    finally:
        go.set()  # a worker still waiting for the go sees `proceed` unset and ends
        for worker in workers:
            if not finished and proceed.value:  # stopped mid-run: a failure, or Ctrl-C
                worker.terminate()
            worker.join(_GRACE)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        messages.close()


def _wait_ready(messages: Any, workers: list) -> tuple[list[str], list[str]]:
    problems, notes, ready = [], [], 0
    while ready < len(workers):
        kind, rank, *rest = _next(messages, workers)
        if kind == "error":
            raise DataParallelError(f"worker {rank + 1} of {len(workers)}: {rest[0]}")
        problems += rest[0]
        notes.append(rest[1])
        ready += 1
    return problems, notes


def _wait_done(messages: Any, workers: list, advance: Callable[[], None]) -> int:
    written = done = 0
    while done < len(workers):
        kind, rank, *rest = _next(messages, workers)
        if kind == "wrote":
            written += 1
            advance()
        elif kind == "done":
            done += 1
        else:
            raise DataParallelError(
                f"worker {rank + 1} of {len(workers)} failed ({rest[0]}) after {written} "
                "transcripts were written; run the command again to resume"
            )
    return written


def _next(messages: Any, workers: list) -> tuple:
    """The next message from a worker; DataParallelError when one died without a word."""
    while True:
        try:
            return messages.get(timeout=1.0)
        except queue.Empty:
            for rank, worker in enumerate(workers):
                if worker.exitcode not in (None, 0):
                    raise DataParallelError(
                        f"worker {rank + 1} of {len(workers)} died (exit code "
                        f"{worker.exitcode}); run the command again to resume"
                    ) from None


def _work(
    rank: int,
    spec: Spec,
    shard: list[dict],
    settings: Settings,
    layout: Plan,
    output: str,
    messages: Any,
    go: Any,
    proceed: Any,
) -> None:
    """One worker: load, report ready (with its shard's too-long prompts), wait for the
    go, then append each transcript as it is finished."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle: it stops us
    if layout.gpus is not None:  # before anything starts CUDA in this process
        os.environ["CUDA_VISIBLE_DEVICES"] = layout.gpus[rank]
    try:
        from transformers.utils import logging

        logging.disable_progress_bar()  # the run's stderr holds errors and notes, one line each
        if layout.threads is not None:
            import torch

            torch.set_num_threads(layout.threads)
        generator = make_generator(settings, layout.device, layout.tensor_parallel_size)
        messages.put(("ready", rank, generator.too_long(spec, shard), generator.note))
    except Exception as error:  # one line to the parent, which stops the run
        messages.put(("error", rank, _one_line(error)))
        return
    go.wait()
    if not proceed.value:
        return
    try:
        with LineAppender(output) as appender:
            for transcript in generator.transcripts(spec, shard):
                appender.append(orjson.dumps(transcript) + b"\n")
                messages.put(("wrote", rank))
        messages.put(("done", rank))
    except Exception as error:
        messages.put(("error", rank, _one_line(error)))


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    known = type(error).__name__ in ("ModelLoadError", "VllmError")
    return text if known and text else f"{type(error).__name__}: {text}"


def _die_with_parent() -> None:
    """Have the kernel kill this process when the run's process dies (Linux only; elsewhere
    a killed run's workers finish their shard)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
