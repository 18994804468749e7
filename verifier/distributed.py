"""Verifying across processes and machines: local worker processes, Ray Data, and
Hugging Face datasets.

`verify_batch` verifies a batch of rows, one result per row, for

    ray.data.read_json(...).map_batches(verify_batch, fn_kwargs={"spec": "policies/"})
    datasets.load_dataset(...).map(verify_batch, batched=True, fn_kwargs={"spec": "policies/"})

Each row's `transcript` (JSON text or bytes, or a dict; `column` names another column)
gets `passed` (a bool) and `result` (JSON text: the verdict, findings and scores that
`verify -o` writes for a line). A row that cannot be read, or whose verification
raises, gets a failing result with the finding that says why: never a lost batch.
Each worker process builds the verifier of a spec once.

`ray_results` is `policyspec verify --ray ADDRESS`: the lines are read here, exactly
as `verify` reads them, verified on the cluster, and reported here in order. ray is an
optional extra (`pip install policyspec[ray]`), imported only when used.

`pool_results` is `policyspec verify --jobs N`: the same, on N worker processes of
this machine (no cluster), with results streamed in input order as chunks complete.
Both send chunks of lines to `_results`, the one per-chunk function.
"""

from __future__ import annotations

import functools
import itertools
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

import spec_lang
from core.settings import Settings
from verifier.batch import MAX_LINE_BYTES, Progress, iter_lines, verify_item
from verifier.checks import Verifier
from verifier.findings import Result

# Rows per Ray task: small enough to spread a file over a cluster, large enough that a
# task's overhead (milliseconds) is small beside verifying its rows (~100 µs each).
RAY_BATCH_ROWS = 1024
# Lines per chunk sent to a local worker: ~40 ms of verifying (at ~150 µs a line), long
# beside handing a chunk over, while a file's first results come back soon and the chunks
# in flight hold little memory.
POOL_CHUNK_LINES = 256
# Chunks in flight per worker: enough that a worker never waits for the next one.
POOL_CHUNKS_AHEAD = 4


def verify_batch(
    batch: Mapping[str, Sequence[Any]],
    spec: str | Path,
    settings: Settings | None = None,
    column: str = "transcript",
) -> dict[str, list[Any]]:
    """The batch's columns, plus `passed` and `result` (JSON text) for each row."""
    results = _results(batch[column], str(spec), settings)
    return {
        **{name: list(values) for name, values in batch.items()},
        "passed": [result.passed for result in results],
        "result": [orjson.dumps(result.to_json()).decode() for result in results],
    }


def ray_results(
    spec_path: Path, settings: Settings | None, address: str, max_line_bytes: int = MAX_LINE_BYTES
) -> Callable[[Path], Iterator[tuple[int, Result]]]:
    """For verifier.batch.run(results=...): a file's (line, result) pairs, verified on the
    Ray cluster at `address` ("local" starts one in this process)."""
    ray = _connect(address)
    return functools.partial(_file_results, ray, spec_path, settings, max_line_bytes=max_line_bytes)


def _file_results(
    ray: Any,
    spec_path: Path,
    settings: Settings | None,
    path: Path,
    on_progress: Progress | None = None,
    *,
    max_line_bytes: int,
) -> Iterator[tuple[int, Result]]:
    """(line, result) in order: lines read here, verified on the cluster. A line that is
    blank or over the limit has its result already and is not sent."""
    lines = list(iter_lines(path, max_line_bytes, on_progress))
    rows = [  # a .json file's items go as JSON text too: one column type
        {"line": n, "transcript": item if isinstance(item, bytes) else orjson.dumps(item)}
        for n, item in lines
        if not isinstance(item, Result)
    ]
    verified = {}
    if rows:
        dataset = ray.data.from_items(rows).map_batches(
            _verify_rows,
            fn_kwargs={"spec": str(spec_path), "settings": settings},
            batch_size=RAY_BATCH_ROWS,
            batch_format="numpy",
        )
        verified = {row["line"]: row["result"] for row in dataset.iter_rows()}
    for number, item in lines:
        yield number, item if isinstance(item, Result) else verified[number]


@contextmanager
def pool_results(
    spec_path: Path, settings: Settings | None, jobs: int, max_line_bytes: int = MAX_LINE_BYTES
) -> Iterator[Callable[[Path, Progress | None], Iterator[tuple[int, Result]]]]:
    """For verifier.batch.run(results=...): a file's (line, result) pairs, verified in
    `jobs` worker processes (forkserver: no state of this process is inherited). The
    workers ignore Ctrl-C: this process handles it once, and on the way out cancels the
    chunks not yet started. A worker that dies raises BrokenProcessPool here."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_ignore_interrupts)
    try:
        yield functools.partial(
            _pooled_file_results,
            pool,
            str(spec_path),
            settings,
            ahead=jobs * POOL_CHUNKS_AHEAD,
            max_line_bytes=max_line_bytes,
        )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _ignore_interrupts() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pooled_file_results(
    pool: ProcessPoolExecutor,
    spec: str,
    settings: Settings | None,
    path: Path,
    on_progress: Progress | None = None,
    *,
    ahead: int,
    max_line_bytes: int,
) -> Iterator[tuple[int, Result]]:
    """(line, result) in order: lines read here a chunk at a time, each chunk's lines that
    hold a transcript verified in the pool; at most `ahead` chunks in flight."""
    in_flight: deque[tuple[list[tuple[int, Any]], Future | None]] = deque()
    for chunk in _chunks(iter_lines(path, max_line_bytes, on_progress), POOL_CHUNK_LINES):
        items = [item for _, item in chunk if not isinstance(item, Result)]
        in_flight.append((chunk, pool.submit(_results, items, spec, settings) if items else None))
        if len(in_flight) >= ahead:
            yield from _merged(*in_flight.popleft())
    while in_flight:
        yield from _merged(*in_flight.popleft())


def _chunks(lines: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    iterator = iter(lines)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def _merged(chunk: list[tuple[int, Any]], verified: Future | None) -> Iterator[tuple[int, Result]]:
    """A chunk's (line, result) pairs: the results read here, and the pool's in order."""
    results = iter(verified.result() if verified is not None else ())
    for number, item in chunk:
        yield number, item if isinstance(item, Result) else next(results)


def _verify_rows(batch: Mapping[str, Any], spec: str, settings: Settings | None) -> dict:
    """Ray's side of run_on_ray: the Result objects themselves (pickled back)."""
    import numpy

    results = numpy.empty(len(batch["line"]), dtype=object)
    results[:] = _results(batch["transcript"], spec, settings)
    return {"line": batch["line"], "result": results}


def _results(items: Sequence[Any], spec: str, settings: Settings | None) -> list[Result]:
    verifier = _verifier(spec, settings)
    return [verify_item(verifier, _plain(item)) for item in items]


def _plain(item: Any) -> Any:
    """A value as Ray or datasets hand it over, as verify reads it (numpy bytes and
    strings are bytes and str; a dict stays a dict)."""
    return item.item() if hasattr(item, "item") and not isinstance(item, dict) else item


@functools.cache
def _verifier(spec: str, settings: Settings | None) -> Verifier:
    """A worker's verifier of a spec, built once per process."""
    return Verifier(spec_lang.load(Path(spec)), settings)


def _connect(address: str) -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise spec_lang.InputError(
            "--ray needs ray: pip install 'policyspec[ray]' (ray[data])"
        ) from None
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, log_to_driver=False)
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    return ray
