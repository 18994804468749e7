"""Print the runtime's performance figures as one table: model load, cold (GGUF
conversion) and cached; schema build per backend for the default spec's global schema
and one category's; time to first token and decode tokens/s with and without the
schema, on the same prompts in the same run; peak memory of each build and of
`policyspec generate` on the demo prompts.

    python benchmarks/decoding.py [--runs 3] [--tokens 128] [--threads N]
                                  [--backends outlines_core,llguidance,xgrammar]
                                  [--sections load,build,decode,prefix,mask,generate]

Every figure is the median of --runs runs (range beside it); every ratio is taken within
a run, against the baseline measured in that run, then the median is quoted. Loads and
builds run in fresh processes, so no cache inside a process hides their cost; the cold
load converts the GGUF into a temporary cache folder, so the user's cache is left alone.

Decoding runs on the chats `policyspec generate` builds for examples/demo_prompts.jsonl,
in one batch of 4 (its default batch size), greedily, so constrained and unconstrained
runs differ only by the schema: with spec(category) in the system message (~3,500 tokens
a prompt, so the prefill is most of the first token's time), and without (--without-spec:
the cheapest model step, where a constraint's cost shows most). Decode tok/s is rows x
steps per second after the first token; a row that has finished still costs its step.

The mask section splits one decoding step on the demo chats without the spec (batch 1, as
generate runs each chat, and the demo's batch of 4) into the model's forward and the
logits processor outlines gives us for llguidance: filling the token bitmask (the
grammar's work, on the CPU) and applying it to the logits (llguidance's
`torch.compile`d kernel), each in ms per step; eager, as runtime.generation runs it on
a CPU (`torch.compiler.set_stance("force_eager")`), and compiled, as outlines leaves it
(with `torch._dynamo.config.suppress_errors = True`, which outlines sets).

xgrammar is not a dependency; to include it: pip install --no-deps xgrammar apache-tvm-ffi
(its triton dependency is for GPUs). Measure on an otherwise idle machine (the load
average is printed): with other processes on the cores, torch's threads wait on each
other and figures drop several-fold; --threads 1 suffers least.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from multiprocessing import get_context
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# No progress bars from the model loads here, in the processes spawned, or in generate.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from transformers.generation.streamers import BaseStreamer  # noqa: E402

from compiler import output_schema  # noqa: E402
from compiler.sft_gen import requests  # noqa: E402
from runtime.generation import (  # noqa: E402
    BACKENDS,
    DEFAULT_BACKEND,
    compile_schema,
    generate_json,
    generate_text,
)
from runtime.models import EMBEDDED_MODEL, LoadedModel, load_model, resolve_device  # noqa: E402
from spec_lang import Spec, load  # noqa: E402

DEMO_PROMPTS = ROOT / "examples" / "demo_prompts.jsonl"
CATEGORY = "self_harm"  # the category schema shown beside the global one
ALL_BACKENDS = (*BACKENDS, "xgrammar")
SECTIONS = ("load", "build", "decode", "prefix", "mask", "generate")
TODAY_BATCH = 4  # the batch generate ran a category's prompts in before prefix reuse
MB = 1024  # ru_maxrss is in KiB on Linux


@dataclass(frozen=True)
class Target:
    """What issue 7 asks of a row: `met` judges the median, or the median ratio."""

    text: str
    met: Callable[[float], bool]
    of_ratio: bool = False


BUILD_TARGET = Target("< 1 s", lambda seconds: seconds < 1)
DECODE_TARGET = Target(">= 0.9x", lambda ratio: ratio >= 0.9, of_ratio=True)


@dataclass
class Row:
    """One line of the table: a measurement over runs, and its ratio to a baseline."""

    section: str
    label: str
    unit: str
    values: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    baseline: str = ""
    target: Target | None = None
    note: str = ""


class Clock(BaseStreamer):
    """Records when the prompt is in and when each generation step ends."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.steps: list[float] = []
        self.prompt_seen = False

    def put(self, value: Any) -> None:
        if self.prompt_seen:
            self.steps.append(time.perf_counter())
        self.prompt_seen = True  # the first put is the prompt

    def end(self) -> None:
        pass

    def first_token(self) -> float:
        return self.steps[0] - self.start

    def decode_steps_per_s(self) -> float:
        return (len(self.steps) - 1) / (self.steps[-1] - self.steps[0])


# Fresh processes: loads and builds ------------------------------------------------------


def in_fresh_process(function: Callable[..., Any], *args: Any) -> Any:
    """Run function(*args) in a new Python process (spawned, so nothing is inherited)."""
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def timed_loads(model: str, device: str, cache: str) -> list[float]:
    """Load twice in this process with `cache` as the cache folder: [first, second] s."""
    os.environ["XDG_CACHE_HOME"] = cache
    times = []
    for _ in range(2):
        start = time.perf_counter()
        load_model(model, device)
        times.append(time.perf_counter() - start)
    return times


def timed_build(model: str, device: str, backend: str, schemas: list[dict]) -> dict[str, Any]:
    """Build `backend` for the model (its vocabulary), then each schema: seconds, peak MB,
    or the error that stopped the build."""
    loaded = load_model(model, device)
    start = time.perf_counter()
    build = schema_builder(loaded, backend)
    result: dict[str, Any] = {"setup": time.perf_counter() - start, "schemas": []}
    for schema in schemas:
        start = time.perf_counter()
        try:
            build(schema)
        except Exception as error:  # reported in the table, not raised: the rest goes on
            result["schemas"].append(one_line(error))
        else:
            result["schemas"].append(time.perf_counter() - start)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB
    return result


def one_line(error: Exception) -> str:
    """The error's first line, without the time stamp and build path C++ checks add."""
    line = re.sub(r"^\[[\d:]+\] \S*/", "", str(error).strip().splitlines()[0])
    return f"{type(error).__name__}: {line}"


def schema_builder(loaded: LoadedModel, backend: str) -> Callable[[dict], Any]:
    """A function that builds one schema's constraint, ready for the first token.

    llguidance compiles lazily: outlines creates its matcher on the first token, so the
    matcher is created here too. xgrammar is not a runtime backend: built through
    outlines, as the runtime would.
    """
    if backend == "xgrammar":
        from outlines import from_transformers
        from outlines.backends.xgrammar import XGrammarBackend

        compiler = XGrammarBackend(from_transformers(loaded.model, loaded.tokenizer))
        return lambda schema: compiler.get_json_schema_logits_processor(json.dumps(schema))
    compile_schema(loaded, {"type": "null"}, backend)  # sets up the backend's vocabulary
    if backend == "llguidance":
        from llguidance import LLMatcher

        def build(schema: dict) -> Any:
            processor = compile_schema(loaded, schema, backend)
            return LLMatcher(processor.llg_tokenizer, processor.grammar)

        return build
    return lambda schema: compile_schema(loaded, schema, backend)


# Measurements ---------------------------------------------------------------------------


def measure_loads(args: argparse.Namespace) -> list[Row]:
    cold = Row("load", "cold: GGUF conversion, new process", "s")
    cached = Row("load", "cached, new process", "s", baseline="cold")
    warm = Row("load", "cached, same process (2nd load)", "s", baseline="cold")
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as cache:
            first, second = in_fresh_process(timed_loads, args.model, args.device, cache)
            fresh, _ = in_fresh_process(timed_loads, args.model, args.device, cache)
        cold.values.append(first)
        for row, value in ((cached, fresh), (warm, second)):
            row.values.append(value)
            row.ratios.append(value / first)
    return [cold, cached, warm]


def measure_builds(args: argparse.Namespace, schemas: dict[str, dict]) -> list[Row]:
    rows = []
    for backend in args.backends:
        if importlib.util.find_spec(backend) is None:
            rows.append(Row("build", f"{backend}", "s", note="not installed"))
            continue
        setup = Row("build", f"{backend}: vocabulary, once per model", "s")
        builds = [
            Row("build", f"{backend}: {name} schema", "s", target=BUILD_TARGET) for name in schemas
        ]
        peak = Row("memory", f"peak RSS, {backend} build process", "MB")
        for _ in range(args.runs):
            result = in_fresh_process(
                timed_build, args.model, args.device, backend, list(schemas.values())
            )
            peak.values.append(result["peak_mb"])
            setup.values.append(result["setup"])
            for row, outcome in zip(builds, result["schemas"], strict=True):
                if isinstance(outcome, str):
                    row.note = f"fails: {outcome}"
                else:
                    row.values.append(outcome)
        rows += [setup, *builds, peak]
    return rows


def measure_decoding(args: argparse.Namespace, spec: Spec, schemas: dict[str, dict]) -> list[Row]:
    loaded = load_model(args.model, args.device)
    backends = [b for b in args.backends if b in BACKENDS and importlib.util.find_spec(b)]
    constrained = [(backend, name) for backend in backends for name in schemas]
    for backend, name in constrained:  # built, and first-call costs paid, before timing
        hello = [[{"role": "user", "content": "Hi"}]]
        generate_json(loaded, hello, schemas[name], max_new_tokens=2, seed=0, backend=backend)
    rows = []
    for prompts, chats in demo_chats(spec).items():
        rows += measure_prompts(args, loaded, prompts, chats, constrained, schemas)
    return rows


def measure_prompts(
    args: argparse.Namespace,
    loaded: LoadedModel,
    prompts: str,
    chats: list,
    constrained: list[tuple[str, str]],
    schemas: dict[str, dict],
) -> list[Row]:
    """First token and decode rate on `chats`: unconstrained, then under each (backend,
    schema), every run; each run's ratios are to that run's unconstrained figures."""
    base_first = Row("first token", f"{prompts}: unconstrained", "s")
    base_rate = Row("decode", f"{prompts}: unconstrained", "tok/s")
    rows = {run: decoding_rows(prompts, *run) for run in constrained}
    for _ in range(args.runs):
        clock = timed_generation(loaded, chats, None, "", args.tokens)
        first, rate = clock.first_token(), clock.decode_steps_per_s() * len(chats)
        base_first.values.append(first)
        base_rate.values.append(rate)
        base_rate.note = f"{len(clock.steps)} steps"
        for (backend, name), (first_row, rate_row) in rows.items():
            clock = timed_generation(loaded, chats, schemas[name], backend, args.tokens)
            add(first_row, clock.first_token(), first)
            add(rate_row, clock.decode_steps_per_s() * len(chats), rate)
            rate_row.note = f"{len(clock.steps)} steps"  # greedy: the same every run
    firsts = [first_row for first_row, _ in rows.values()]
    rates = [rate_row for _, rate_row in rows.values()]
    return [base_first, *firsts, base_rate, *rates]


def timed_generation(
    loaded: LoadedModel, chats: list, schema: dict | None, backend: str, tokens: int
) -> Clock:
    """One greedy generation, under `schema` unless it is None, timed step by step."""
    clock = Clock()
    settings = {"max_new_tokens": tokens, "seed": 0, "temperature": 0, "streamer": clock}
    if schema is None:
        generate_text(loaded, chats, **settings)
    else:
        generate_json(loaded, chats, schema, backend=backend, **settings)
    return clock


def decoding_rows(prompts: str, backend: str, schema_name: str) -> tuple[Row, Row]:
    label = f"{prompts}: {backend}, {schema_name} schema"
    first = Row("first token", label, "s", baseline="unconstrained")
    rate = Row("decode", label, "tok/s", baseline="unconstrained", target=DECODE_TARGET)
    return first, rate


def add(row: Row, value: float, baseline: float) -> None:
    row.values.append(value)
    row.ratios.append(value / baseline)


def measure_prefix_reuse(args: argparse.Namespace, spec: Spec) -> list[Row]:
    """--category-prompts teacher chats of one category, greedy, under its schema: left-padded
    batches of 4, each chat prefilled in full (generate before prefix reuse), against the
    category's shared prefix prefilled once and each chat computed from its cache; and
    whether the two wrote the same text."""
    loaded = load_model(args.model, args.device)
    schema = output_schema(spec, CATEGORY)
    chats = category_chats(spec, CATEGORY, args.category_prompts)
    options = {"max_new_tokens": args.tokens, "seed": 0, "temperature": 0}
    generate_json(loaded, chats[:1], schema, **{**options, "max_new_tokens": 1})  # warm up
    label = f"{len(chats)} {CATEGORY} prompts, {args.tokens} tokens"
    padded = Row("prefix", f"{label}: padded batches of {TODAY_BATCH} (before)", "s")
    reused = Row("prefix", f"{label}: shared prefix prefilled once", "s", baseline="before")
    for _ in range(args.runs):
        start = time.perf_counter()
        before = []
        for first in range(0, len(chats), TODAY_BATCH):
            batch = chats[first : first + TODAY_BATCH]
            before += generate_json(loaded, batch, schema, padded_batch=True, **options)
        padded.values.append(time.perf_counter() - start)
        start = time.perf_counter()
        after = generate_json(loaded, chats, schema, **options)
        add(reused, time.perf_counter() - start, padded.values[-1])
        same = sum(a == b for a, b in zip(before, after, strict=True))
        reused.note = f"same greedy text for {same} of {len(chats)}"
    return [padded, reused]


def category_chats(spec: Spec, category: str, count: int) -> list[list[dict[str, str]]]:
    """`count` teacher chats of `category`: its examples' conversations, numbered past the
    first round so each chat is distinct."""
    found, _ = requests(spec)
    own = [r["messages"] for r in found if r["category"] == category]
    chats = []
    for number in range(count):
        messages = own[number % len(own)]
        if number >= len(own):
            last = messages[-1]
            messages = [*messages[:-1], {**last, "content": f"{last['content']} ({number})"}]
        chats.append(messages)
    return chats


def measure_generate(args: argparse.Namespace) -> list[Row]:
    """`policyspec generate` on the demo prompts in a child process: wall time, peak RSS."""
    wall = Row("generate", f"{DEMO_PROMPTS.name}, {DEFAULT_BACKEND}, wall", "s")
    peak = Row("memory", "peak RSS, policyspec generate", "MB")
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            command = [sys.executable, "-m", "policyspec", "generate", str(ROOT / "policies")]
            command += ["--prompts", str(DEMO_PROMPTS), "--model", args.model]
            command += ["--device", args.device, "-o", str(Path(folder) / "t.jsonl")]
            errors = Path(folder) / "stderr.txt"
            start = time.perf_counter()
            with errors.open("wb") as stderr:
                child = subprocess.Popen(
                    command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr
                )
                _, status, usage = os.wait4(child.pid, 0)
            wall.values.append(time.perf_counter() - start)
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"{' '.join(command)} failed:\n{errors.read_text()}")
        peak.values.append(usage.ru_maxrss / MB)
    return [wall, peak]


def demo_chats(spec: Spec) -> dict[str, list[list[dict[str, str]]]]:
    """The chats `policyspec generate` builds for the demo prompts: with spec(category) in
    the system message (~3,500 tokens each), and without (--without-spec)."""
    found, problems = requests(spec, DEMO_PROMPTS)
    assert not problems, problems
    rows = [r for r in found if r["source"] != "spec"]
    return {
        "with spec": [r["messages"] for r in rows],
        "without spec": [r["conversation"] for r in rows],
    }


# The mask: the logits processor's share of a decoding step ------------------------------


class Stopwatch:
    """Seconds spent in the functions it wraps, by name, while it is installed."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                self.spent[name] = self.spent.get(name, 0.0) + elapsed

        return timed


def measure_mask(args: argparse.Namespace, spec: Spec, schemas: dict[str, dict]) -> list[Row]:
    """ms per greedy step: forward, and the llguidance processor's fill and apply, eager
    and compiled, at batch 1 and the demo's batch."""
    if importlib.util.find_spec("llguidance") is None:
        return []
    import llguidance.torch as kernels
    import torch

    loaded = load_model(args.model, args.device)
    chats = demo_chats(spec)["without spec"]
    schema = schemas[CATEGORY]
    rows = []
    for batch in sorted({1, len(chats)}):
        for mode in ("eager", "compiled"):
            label = f"batch {batch}, {mode}"
            found = {
                part: Row("mask", f"{label}: {part}", "ms")
                for part in ("forward", "fill", "apply", "processor")
            }
            found["processor"].baseline = "forward"
            stance = "force_eager" if mode == "eager" else "default"
            print(f"mask: {label}", file=sys.stderr, flush=True)
            with torch.compiler.set_stance(stance):
                timed_steps(loaded, chats[:batch], schema, 4, Stopwatch())  # compile, warm
                for _ in range(args.runs):
                    watch = Stopwatch()
                    forward, processor = timed_steps(
                        loaded, chats[:batch], schema, args.tokens, watch, kernels
                    )
                    per_step = 1000 / args.tokens
                    found["forward"].values.append(forward * per_step)
                    found["fill"].values.append(watch.spent["fill"] * per_step)
                    found["apply"].values.append(watch.spent["apply"] * per_step)
                    add(found["processor"], processor * per_step, forward * per_step)
            rows += found.values()
    return rows


def timed_steps(
    loaded: LoadedModel, chats: list, schema: dict, steps: int, watch: Stopwatch, kernels=None
) -> tuple[float, float]:
    """`steps` greedy steps of `chats` (one left-padded batch) under `schema`, by hand so
    each part is timed alone: (seconds in the forward, seconds in the processor). With
    `kernels` (llguidance.torch), its fill and apply functions are timed into `watch`."""
    import torch
    from transformers import DynamicCache

    processor = compile_schema(loaded, schema, "llguidance")
    processor.reset()
    inputs = loaded.tokenizer.apply_chat_template(
        chats, add_generation_prompt=True, padding=True, return_tensors="pt", return_dict=True
    )
    sequence, mask = inputs["input_ids"], inputs["attention_mask"]
    cache = DynamicCache(config=loaded.model.config)
    originals = {}
    if kernels is not None:
        timed = (("fill", "fill_next_token_bitmask"), ("apply", "apply_token_bitmask_inplace"))
        for part, name in timed:
            originals[name] = getattr(kernels, name)
            setattr(kernels, name, watch.wrap(part, originals[name]))
    forward = spent = 0.0
    try:
        with torch.inference_mode():
            logits = loaded.model(input_ids=sequence, attention_mask=mask, cache=cache).logits
            for _ in range(steps):
                start = time.perf_counter()
                scores = processor(sequence, logits[:, -1, :].float())
                spent += time.perf_counter() - start
                chosen = scores.argmax(-1, keepdim=True)
                sequence = torch.cat([sequence, chosen], dim=1)
                mask = torch.cat([mask, torch.ones_like(chosen)], dim=1)
                start = time.perf_counter()
                logits = loaded.model(input_ids=chosen, attention_mask=mask, cache=cache).logits
                forward += time.perf_counter() - start
    finally:
        for name, original in originals.items():
            setattr(kernels, name, original)
    return forward, spent


# The table ------------------------------------------------------------------------------


def print_table(rows: list[Row]) -> None:
    header = ("", "measure", "median", "range", "ratio", "vs", "target", "note")
    lines = [header] + [cells(row) for row in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=False)) + "  " + line[-1])


def cells(row: Row) -> tuple[str, ...]:
    if not row.values:
        return (row.section, row.label, "-", "", "", "", verdict(row), row.note)
    median = statistics.median(row.values)
    spread = f"{fmt(min(row.values))}-{fmt(max(row.values))}" if len(row.values) > 1 else ""
    ratio = f"{statistics.median(row.ratios):.2f}x" if row.ratios else ""
    shown = f"{fmt(median)} {row.unit}"
    return (row.section, row.label, shown, spread, ratio, row.baseline, verdict(row), row.note)


def verdict(row: Row) -> str:
    if row.target is None:
        return ""
    figures = row.ratios if row.target.of_ratio else row.values
    if not figures:
        return f"{row.target.text}: MISSED"
    met = row.target.met(statistics.median(figures))
    return f"{row.target.text}: {'met' if met else 'MISSED'}"


def fmt(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=EMBEDDED_MODEL)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=128, help="new tokens per decoding run")
    parser.add_argument(
        "--category-prompts", type=int, default=100, help="prompts of one category (prefix)"
    )
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's)")
    parser.add_argument("--backends", type=lambda s: s.split(","), default=list(ALL_BACKENDS))
    parser.add_argument("--sections", type=lambda s: s.split(","), default=list(SECTIONS))
    args = parser.parse_args()
    args.device = resolve_device(args.device)

    import torch

    if args.threads:  # here, and in the processes started for loads, builds and generate
        torch.set_num_threads(args.threads)
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    names = ("outlines", "outlines_core", "llguidance", "xgrammar", "transformers", "torch")
    installed = [f"{n} {version(n)}" for n in names if importlib.util.find_spec(n)]
    print(f"{', '.join(installed)}; {torch.get_num_threads()} threads on {args.device}")
    print(f"model {args.model}; medians of {args.runs} runs; {args.tokens} tokens per decoding run")
    print(f"load average {os.getloadavg()[0]:.1f} at start")
    spec = load(ROOT / "policies")
    schemas = {"global": output_schema(spec, None), CATEGORY: output_schema(spec, CATEGORY)}
    rows = []
    if "load" in args.sections:
        rows += measure_loads(args)
    if "build" in args.sections:
        rows += measure_builds(args, schemas)
    if "decode" in args.sections:
        rows += measure_decoding(args, spec, schemas)
    if "prefix" in args.sections:
        rows += measure_prefix_reuse(args, spec)
    if "mask" in args.sections:
        rows += measure_mask(args, spec, schemas)
    if "generate" in args.sections:
        rows += measure_generate(args)
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print_table(rows)


if __name__ == "__main__":
    main()
