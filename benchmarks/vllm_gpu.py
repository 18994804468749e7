"""vLLM on a GPU, in one run: output tokens/s with the compiled schema against without it,
transcripts/s of `generate --engine vllm` (each written and synced as it finishes), the
judge on vLLM, and, where more than one GPU is visible, `--data-parallel`.

    python benchmarks/vllm_gpu.py [--model smollm2-135m] [--prompts 128] [--runs 2]
                                  [--tokens 128] [--judge 32] [-k 2]
                                  [--tensor-parallel-size 1] [--deadline 420]

Needs vllm (pip install '.[vllm]') and a CUDA GPU; prints the card, the versions, and
a line per figure. Sized to finish within 8 minutes on one H100 with the defaults:
sections that would start past --deadline seconds are skipped (and say so).

1. Throughput: the default spec's teacher chats for its examples, repeated (numbered)
   up to --prompts, so each category's system prompt is shared as in a real run;
   greedy, exactly --tokens per chat (ignore_eos), unconstrained then under each
   chat's category schema (guidance backend), --runs times; the median output tok/s
   of each and of their ratio (target, issue 20: constrained >= 0.9x).
2. Generate: the same requests as `generate --engine vllm` runs them (schema budgets,
   sampling, a seed per request), each transcript appended to a file and synced as it
   finishes: transcripts/s, and when the first one was on disk.
3. Judge: the first --judge of those transcripts judged on vLLM with -k samples (no
   cache), on the model already loaded: transcripts judged/s and how many scored.
4. Data parallel (more than one GPU visible; run first, before this process holds GPU
   memory): `policyspec generate --engine vllm --data-parallel N --examples --limit
   PROMPTS` in a child process, N = GPUs / tensor parallel size; transcripts/s between
   its first and last transcript on disk (model loads left out), against section 2's
   single engine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import orjson  # noqa: E402

from compiler import output_schema  # noqa: E402
from compiler.sft_gen import requests  # noqa: E402
from core.appending import LineAppender  # noqa: E402
from judge import Judge, Sampling, VllmBackend  # noqa: E402
from judge import Settings as JudgeSettings  # noqa: E402
from runtime.models import EMBEDDED_MODEL  # noqa: E402
from runtime.transcripts import Settings  # noqa: E402
from runtime.vllm_engine import VllmGenerator, _structured_outputs  # noqa: E402
from spec_lang import load  # noqa: E402

STARTED = time.perf_counter()


def example_requests(spec, count: int) -> list[dict]:
    """`count` requests of the spec's examples, numbered past the first round."""
    found, _ = requests(spec)
    chosen = []
    for number in range(count):
        request = dict(found[number % len(found)])
        request["id"] = f"{request['id']}#{number}"
        if number >= len(found):
            last = request["messages"][-1]
            numbered = {**last, "content": f"{last['content']} ({number})"}
            request["messages"] = [*request["messages"][:-1], numbered]
        chosen.append(request)
    return chosen


def in_time(args: argparse.Namespace, section: str) -> bool:
    """Whether `section` may start before the deadline; prints why not when it may not."""
    elapsed = time.perf_counter() - STARTED
    if elapsed < args.deadline:
        return True
    print(f"{section}: skipped, {elapsed:.0f} s in (past --deadline {args.deadline} s)")
    return False


def tokens_per_s(generator: VllmGenerator, chats: list, schemas: list | None, tokens: int) -> float:
    """Output tokens/s of one greedy run of exactly `tokens` per chat."""
    from vllm import SamplingParams

    _, constraint = _structured_outputs()

    def params(schema):
        structured = constraint(schema) if schema else {}
        return SamplingParams(temperature=0, max_tokens=tokens, ignore_eos=True, **structured)

    sampling = [params(schema) for schema in (schemas or [None] * len(chats))]
    start = time.perf_counter()
    results = generator.model.llm.chat(chats, sampling_params=sampling, use_tqdm=False)
    elapsed = time.perf_counter() - start
    return sum(len(r.outputs[0].token_ids) for r in results) / elapsed


def throughput(args, generator: VllmGenerator, spec, todo: list[dict]) -> None:
    chats = [r["messages"] for r in todo]
    schemas = [output_schema(spec, r["category"]) for r in todo]
    tokens_per_s(generator, chats[:8], schemas[:8], 8)  # warm: graphs, grammars
    ratios, free, bound = [], [], []
    for _ in range(args.runs):
        free.append(tokens_per_s(generator, chats, None, args.tokens))
        bound.append(tokens_per_s(generator, chats, schemas, args.tokens))
        ratios.append(bound[-1] / free[-1])
    ratio = statistics.median(ratios)
    print(f"unconstrained: {statistics.median(free):,.0f} output tok/s ({len(chats)} chats)")
    print(f"constrained:   {statistics.median(bound):,.0f} output tok/s")
    verdict = "met" if ratio >= 0.9 else "MISSED"
    print(f"ratio:         {ratio:.2f}x (median of {args.runs}; >= 0.9x: {verdict})")


def generate(generator: VllmGenerator, spec, todo: list[dict], output: Path) -> float:
    """Section 2; its transcripts/s."""
    start = time.perf_counter()
    first = None
    with LineAppender(output) as appender:
        for transcript in generator.transcripts(spec, todo):
            appender.append(orjson.dumps(transcript) + b"\n")
            first = first or time.perf_counter() - start
    elapsed = time.perf_counter() - start
    rate = len(todo) / elapsed
    print(
        f"generate:      {len(todo)} transcripts in {elapsed:.1f} s, {rate:.1f}/s; "
        f"the first on disk after {first:.1f} s"
    )
    return rate


def judge(args, generator: VllmGenerator, spec, output: Path) -> None:
    transcripts = output.read_bytes().splitlines()[: args.judge]
    backend = VllmBackend(generator.settings.model, _model=generator.model)
    settings = JudgeSettings(Sampling(k=args.k, seed=0))
    judge_run = Judge(spec, backend, settings, cache=None, batch_size=len(transcripts))
    start = time.perf_counter()
    judgements = judge_run.judge_all(transcripts)
    elapsed = time.perf_counter() - start
    scored = sum(j.status == "scored" for j in judgements)
    print(
        f"judge:         {len(judgements)} transcripts, k={args.k}, in {elapsed:.1f} s, "
        f"{len(judgements) / elapsed:.1f}/s; {scored} scored"
    )


def data_parallel(args) -> tuple[int, float] | None:
    """Section 4, in a child process, run before this process takes any GPU memory: the
    workers and their transcripts/s, or None when fewer than two GPUs are visible."""
    import torch

    workers = torch.cuda.device_count() // args.tensor_parallel_size
    if workers < 2:
        print(f"data parallel: skipped, {torch.cuda.device_count()} GPU(s) visible")
        return None
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "t.jsonl"
        command = [sys.executable, "-m", "policyspec", "generate", str(ROOT / "policies")]
        command += ["--examples", "--limit", str(args.prompts), "--engine", "vllm"]
        command += ["--model", args.model, "--data-parallel", str(workers), "-o", str(output)]
        command += ["--tensor-parallel-size", str(args.tensor_parallel_size)]
        child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        seen: list[tuple[float, int]] = []  # (when, lines on disk) at each change
        while child.poll() is None:
            lines = output.read_bytes().count(b"\n") if output.exists() else 0
            if lines and (not seen or seen[-1][1] != lines):
                seen.append((time.perf_counter(), lines))
            time.sleep(0.05)
        _, errors = child.communicate()
        if child.returncode != 0 or not seen:
            print(f"data parallel: FAILED ({errors.decode()[-500:]})")
            return None
        lines = output.read_bytes().count(b"\n")
        seen.append((time.perf_counter(), lines))
    span = seen[-1][0] - seen[0][0]
    rate = (lines - seen[0][1]) / span if span > 0 else float("nan")
    print(
        f"data parallel: {workers} workers, {lines} transcripts, {rate:.1f}/s from the first "
        "on disk to the last (model loads left out)"
    )
    return workers, rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=EMBEDDED_MODEL)
    parser.add_argument("--prompts", type=int, default=128)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--judge", type=int, default=32, help="transcripts to judge")
    parser.add_argument("-k", type=int, default=2, help="judge samples per transcript")
    parser.add_argument("--tensor-parallel-size", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=420.0, help="seconds")
    args = parser.parse_args()

    import torch
    import vllm

    spec = load(ROOT / "policies")
    todo = example_requests(spec, args.prompts)
    cards = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
    print(f"vllm {vllm.__version__}, torch {torch.__version__} on {cards}; model {args.model}")
    parallel = data_parallel(args) if torch.cuda.device_count() > 1 else None
    start = time.perf_counter()
    settings = Settings(model=args.model, engine="vllm", dtype="bfloat16")
    generator = VllmGenerator(settings, args.tensor_parallel_size)
    print(f"load:          {time.perf_counter() - start:.1f} s")
    if in_time(args, "throughput"):
        throughput(args, generator, spec, todo)
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "t.jsonl"
        if in_time(args, "generate"):
            rate = generate(generator, spec, todo, output)
            if parallel is not None:
                workers, parallel_rate = parallel
                print(f"data parallel: {parallel_rate / rate:.2f}x one engine with {workers}")
        if output.exists() and in_time(args, "judge"):
            judge(args, generator, spec, output)
    print(f"total:         {time.perf_counter() - STARTED:.0f} s")


if __name__ == "__main__":
    main()
