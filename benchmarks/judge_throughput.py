"""Judge throughput: a local model's batches, and an endpoint's requests in flight.

    python benchmarks/judge_throughput.py local [--transcripts 4] [--batch-sizes 1,4]
    python benchmarks/judge_throughput.py endpoint [--transcripts 16] [--delay 0.5]
        [--concurrency 1,4,8]

`local`: the embedded model (SmolLM2-135M, CPU, one torch thread) judges the same
transcripts (the tiny baseline spec's weapons category, answer judge and confession
judge, k=1, no cache) once per batch size, and prints seconds per transcript judged.

`endpoint`: `policyspec judge` against tests/judge/http_judge.py, a real HTTP server
process that answers each request after `--delay` seconds (a stand-in for a server's
latency: what is measured is the client's overlap of requests, not a model), once per
`--concurrency`, and prints the wall time and requests per second.

The load average is printed: quote figures with it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.judge.conftest import Server  # noqa: E402
from tests.judge.test_judge import BASELINE, transcript  # noqa: E402


def _transcripts(count: int) -> list[dict]:
    return [
        transcript(answer=f"Sorry, I can't help with that (case {i}).") | {"id": f"t{i}"}
        for i in range(count)
    ]


def local(count: int, batch_sizes: list[int]) -> None:
    import spec_lang
    from judge import Judge, ModelBackend, Settings

    spec = spec_lang.load(BASELINE)
    backend = ModelBackend("smollm2-135m", "cpu", threads=1)
    backend.load()
    items = _transcripts(count)
    for size in batch_sizes:
        judge = Judge(spec, backend, Settings(), cache=None, batch_size=size)
        started = time.perf_counter()
        judged = list(judge.judge_each(items))
        seconds = time.perf_counter() - started
        scored = sum(j.status == "scored" for j in judged)
        print(
            f"batch size {size}: {seconds / count:.1f} s a transcript "
            f"({count} transcripts, both judges, {scored} scored), "
            f"load average {os.getloadavg()[0]:.1f}",
            flush=True,
        )


def endpoint(count: int, delay: float, levels: list[int]) -> None:
    from typer.testing import CliRunner

    from policyspec.cli import app

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "runs.jsonl"
        source.write_text("\n".join(json.dumps(t) for t in _transcripts(count)) + "\n")
        for level in levels:
            server = Server(Path(folder), "--delay", str(delay))
            try:
                args = ["judge", str(BASELINE), str(source), "--judge-url", server.url]
                args += ["--judge-model", "m", "--no-cache", "--concurrency", str(level)]
                started = time.perf_counter()
                result = CliRunner().invoke(app, [*args, "-o", str(Path(folder) / "out.jsonl")])
                seconds = time.perf_counter() - started
                requests = server.stats()["requests"]
            finally:
                server.stop()
            assert result.exit_code == 0, result.output
            print(
                f"concurrency {level}: {seconds:.2f} s for {requests} requests "
                f"({requests / seconds:.1f}/s, server delay {delay} s), "
                f"load average {os.getloadavg()[0]:.1f}",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("local", "endpoint"))
    parser.add_argument("--transcripts", type=int)
    parser.add_argument("--batch-sizes", default="1,4")
    parser.add_argument("--delay", type=float, default=0.5)
    parser.add_argument("--concurrency", default="1,4,8")
    options = parser.parse_args()
    if options.mode == "local":
        sizes = [int(n) for n in options.batch_sizes.split(",")]
        local(options.transcripts or 4, sizes)
    else:
        levels = [int(n) for n in options.concurrency.split(",")]
        endpoint(options.transcripts or 16, options.delay, levels)


if __name__ == "__main__":
    main()
