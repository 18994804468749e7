"""Verify throughput against a parse-and-validate floor; reward time; verify's peak memory.

Prints transcripts/s of `verify` (the API and the CLI, JSONL in, report out) beside the
floor of parsing and validating the same lines, the reward functions' time per
completion, and the CLI's peak RSS as the lines grow.

The transcripts are the synthetic batch of tests/verifier/factory.py on its test spec:
three in four consistent, one in four faulty (a wrong decision, an unknown rule, a
confession gap, malformed JSON, a line cut off, in turn), each answer drawn from the
390 hand-written answers of tests/data/refusal_answers.jsonl that carry out its
decision (some break a style's limits, and get findings for it). Each measurement runs in a
fresh process pinned to one CPU (taskset); figures are medians of RUNS runs, and every
ratio is against the floor measured in the same run of this script: the fastest
validator at hand (pydantic-core's validate_json of the transcript model, or orjson and
a jsonschema validator compiled once from the model's JSON schema) reading the same file
a line at a time; orjson alone is shown as a lower bound. Peak RSS (ru_maxrss) is the
CLI's, at LINES and, in one run, at MEMORY_LINES. Targets (issue 7): at least 10,000
transcripts/s on one core, at most 2x the floor, peak RSS flat in the number of lines.
Quote figures taken on a quiet machine: the load average is printed, and CPU time is
shown beside wall time.

Last, `verify --jobs 1` against `--jobs 2` (and --jobs N for each N of --jobs) on the same
LINES file, end to end, each run free to use every core of this process (not pinned):
transcripts/s on wall time, and the speed-up over --jobs 1. --jobs-only measures just
these (with the load average before and after: on a shared machine, say so).

    python benchmarks/verify_throughput.py [--lines 100000] [--runs 3]
        [--memory-lines 1000000] [--reward-batch 256] [--jsonschema-lines 5000]
        [--jobs 2 ...] [--jobs-only]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import spec_lang  # noqa: E402
from tests.verifier.factory import (  # noqa: E402
    ANSWERS,
    SPEC_DIR,
    break_json,
    load_spec,
    synthetic,
)

PIN = ["taskset", "-c", "0"] if shutil.which("taskset") else []
Measure = Callable[..., dict]


def write_batch(path: Path, lines: int) -> Path:
    """The batch as JSONL, streamed to disk."""
    with path.open("wb") as stream:
        for transcript, fault in transcripts(load_spec(), lines):
            stream.write(break_json(orjson.dumps(transcript), fault) + b"\n")
    return path


def transcripts(
    spec: spec_lang.Spec, count: int, seed: int = 0
) -> Iterator[tuple[dict, str | None]]:
    """The factory's synthetic transcripts, each answer replaced by one drawn from the
    hand-written answers of its kind (the refusal detector's labelled set): the factory's
    three short answers cost the detector a third of what real answers do."""
    drawn = _labelled_answers()
    kind_of = {text: decision for decision, text in ANSWERS.items()}
    chooser = random.Random(seed)
    for transcript, fault in synthetic(spec, count, seed):
        output = transcript["output"]
        output["answer"] = chooser.choice(drawn[kind_of[output["answer"]]])
        yield transcript, fault


def _labelled_answers() -> dict[str, list[str]]:
    """The labelled answers by the decision they carry out."""
    decision = {"full_compliance": "comply", "partial_refusal": "safe_complete"}
    decision["full_refusal"] = "refuse"
    found: dict[str, list[str]] = {kind: [] for kind in decision.values()}
    for line in (ROOT / "tests" / "data" / "refusal_answers.jsonl").read_bytes().splitlines():
        answer = orjson.loads(line)
        found[decision[answer["label"]]].append(answer["text"])
    return found


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _time_lines(path: str, check: Callable[[bytes], object], limit: int | None = None) -> dict:
    """Seconds to run `check` on the first `limit` lines of a file (every line by default)."""
    with open(path, "rb") as stream:
        started, cpu_started, count = time.perf_counter(), time.process_time(), 0
        for count, line in enumerate(stream, 1):
            check(line)
            if count == limit:
                break
        cpu_seconds = time.process_time() - cpu_started
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "lines": count, "rss_mb": _peak_mb()}


def floor_orjson(path: str) -> dict:
    """orjson.loads alone: parsing without validation, a lower bound."""

    def parse(line: bytes) -> None:
        with contextlib.suppress(orjson.JSONDecodeError):
            orjson.loads(line)

    return _time_lines(path, parse)


def floor_pydantic(path: str) -> dict:
    """pydantic-core parses and validates the line against the transcript model in one go."""
    from pydantic import ValidationError

    from verifier.transcript import Transcript

    validator = Transcript.__pydantic_validator__

    def validate(line: bytes) -> None:
        with contextlib.suppress(ValidationError):
            validator.validate_json(line)

    return _time_lines(path, validate)


def floor_jsonschema(path: str, limit: str) -> dict:
    """orjson.loads, then a jsonschema validator compiled once from the transcript's schema."""
    import jsonschema

    from verifier.transcript import Transcript

    schema = Transcript.model_json_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)

    def validate(line: bytes) -> None:
        with contextlib.suppress(orjson.JSONDecodeError):
            validator.is_valid(orjson.loads(line))

    return _time_lines(path, validate, int(limit))


def verify_api(path: str, report: str) -> dict:
    """`verifier.verify_file`: every line verified, the report written (spec loaded untimed)."""
    import verifier

    spec = spec_lang.load(SPEC_DIR)
    started, cpu_started = time.perf_counter(), time.process_time()
    totals = verifier.verify_file(spec, path, report=report)
    cpu_seconds = time.process_time() - cpu_started
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "lines": totals.transcripts,
        "rss_mb": _peak_mb(),
    }


def grpo_arguments(spec: spec_lang.Spec, size: int, seed: int) -> dict:
    """The keywords of one GRPOTrainer reward call: raw-text completions of the synthetic
    batch (its faults broken into the text), the dataset's columns and the trainer's objects."""

    pairs = list(transcripts(spec, size, seed))
    return {
        "prompts": [transcript["messages"][0]["content"] for transcript, _ in pairs],
        "completions": [
            break_json(orjson.dumps(transcript["output"]), fault).decode()
            for transcript, fault in pairs
        ],
        "completion_ids": [[1, 2, 3] for _ in pairs],
        "id": [transcript["id"] for transcript, _ in pairs],
        "category": [transcript["category"] for transcript, _ in pairs],
        "trainer_state": object(),
        "log_extra": lambda column, values: None,
        "log_metric": lambda name, value: None,
    }


def rewards(batch_size: str, steps: str) -> dict:
    """Median µs per completion of each reward function over `steps` GRPO steps, each a
    fresh batch passed to the three functions in turn, as GRPOTrainer does."""
    from verifier.rewards import make_reward_funcs

    spec, size = load_spec(), int(batch_size)
    funcs = make_reward_funcs(spec)
    times: dict[str, list[float]] = {func.__name__: [] for func in funcs}
    for step in range(int(steps)):
        arguments = grpo_arguments(spec, size, seed=step)
        for func in funcs:
            started = time.perf_counter()
            func(**arguments)
            times[func.__name__].append(time.perf_counter() - started)
    return {name: statistics.median(spent) / size * 1e6 for name, spent in times.items()}


CHILD_MEASURES: dict[str, Measure] = {
    "floor_orjson": floor_orjson,
    "floor_pydantic": floor_pydantic,
    "floor_jsonschema": floor_jsonschema,
    "verify_api": verify_api,
    "rewards": rewards,
}


def in_child(name: str, *args: str) -> dict:
    """Run one measure of this file in a fresh process pinned to one core."""
    result = subprocess.run(
        [*PIN, sys.executable, __file__, "--measure", name, *args],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(result.stdout)


def cli_verify(path: Path, report: Path, *options: str, pin: list[str] = PIN) -> dict:
    """`policyspec verify SPEC FILE -o REPORT` end to end: wall and CPU seconds, peak RSS.
    CPU seconds and RSS are the command's own (and its waited children's), not its pool's."""
    script = Path(sys.executable).with_name("policyspec")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "policyspec"]
    command += ["verify", str(SPEC_DIR), str(path), "-o", str(report), *options]
    started = time.perf_counter()
    process = subprocess.Popen([*pin, *command], cwd=ROOT, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}")
    cpu_seconds = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "rss_mb": usage.ru_maxrss / 1024}


def in_rounds(runs: int, measures: dict[str, Callable[[], dict]]) -> dict[str, dict]:
    """Each measure's figures as medians over `runs` rounds. A round runs every measure once,
    so a change in the machine's load falls on all of them alike."""
    results: dict[str, list[dict]] = {name: [] for name in measures}
    for _ in range(runs):
        for name, measure in measures.items():
            results[name].append(measure())
    return {
        name: {key: statistics.median(run[key] for run in taken) for key in taken[0]}
        for name, taken in results.items()
    }


def measurements(
    args: argparse.Namespace, data: Path, scratch: Path
) -> dict[str, Callable[[], dict]]:
    """Every measurement on the LINES file, by name."""
    report, one_line = scratch / "report.jsonl", scratch / "one.jsonl"
    with data.open("rb") as stream:
        one_line.write_bytes(stream.readline())
    sample = str(min(args.jsonschema_lines, args.lines))
    return {
        "orjson": lambda: in_child("floor_orjson", str(data)),
        "pydantic": lambda: in_child("floor_pydantic", str(data)),
        "jsonschema": lambda: in_child("floor_jsonschema", str(data), sample),
        "api": lambda: in_child("verify_api", str(data), str(report)),
        "cli": lambda: cli_verify(data, report),
        "cli_json": lambda: cli_verify(data, report, "--format", "json"),
        "startup": lambda: cli_verify(one_line, scratch / "one-report.jsonl"),
        "rewards": lambda: in_child("rewards", str(args.reward_batch), "5"),
    }


VALIDATORS = {"pydantic": "pydantic-core validate_json", "jsonschema": "orjson + jsonschema"}
ROWS = {
    "orjson": "orjson.loads alone (a lower bound, no validation)",
    **VALIDATORS,
    "api": "verify API: verify_file, report out",
    "cli": "verify CLI end to end (text to /dev/null, -o report)",
    "cli_json": "verify CLI end to end (--format json, -o report)",
}


def per_line_us(figures: dict, lines: int, key: str = "seconds") -> float:
    return figures[key] / figures.get("lines", lines) * 1e6


def throughput_rows(figures: dict[str, dict], lines: int) -> float:
    """Print the floor and verify rows, each with its ratio to the floor; return the floor."""
    floor = min(VALIDATORS, key=lambda name: per_line_us(figures[name], lines))
    floor_us = per_line_us(figures[floor], lines)
    print(
        f"{'what':<58} {'lines':>7} {'wall s':>7} {'lines/s':>8} {'µs/line':>8} "
        f"{'CPU µs':>7} {'× floor':>7}"
    )
    for name, what in ROWS.items():
        row, us = figures[name], per_line_us(figures[name], lines)
        count = int(row.get("lines", lines))
        what += " = FLOOR" if name == floor else ""
        print(
            f"{what:<58} {count:>7} {row['seconds']:>7.2f} {count / row['seconds']:>8,.0f} "
            f"{us:>8.1f} {per_line_us(row, lines, 'cpu_seconds'):>7.1f} {us / floor_us:>7.2f}"
        )
    print(
        f"(the CLI rows include its start: {figures['startup']['seconds']:.2f} s on a 1-line file)"
    )
    return floor_us


def reward_rows(args: argparse.Namespace, figures: dict) -> None:
    print(
        f"\nreward functions, µs per completion (GRPO steps of {args.reward_batch} raw-text "
        "completions, each step's batch passed to the three in turn):"
    )
    for name, us in figures.items():
        print(f"  {name:<18} {us:>7.1f}")
    print(f"  {'all three':<18} {sum(figures.values()):>7.1f}")


def memory_rows(args: argparse.Namespace, rss_mb: float, scratch: Path) -> float:
    """Print the CLI's peak RSS at LINES and at MEMORY_LINES; return the growth factor."""
    big = write_batch(scratch / "memory.jsonl", args.memory_lines)
    at_scale = cli_verify(big, scratch / "memory-report.jsonl")
    print("\npeak RSS of the CLI (verify SPEC FILE -o REPORT):")
    print(f"  {args.lines:>9,} lines  {rss_mb:>6.0f} MB (median of {args.runs})")
    print(
        f"  {args.memory_lines:>9,} lines  {at_scale['rss_mb']:>6.0f} MB (one run; "
        f"{args.memory_lines / at_scale['seconds']:,.0f} transcripts/s end to end)"
    )
    return at_scale["rss_mb"] / rss_mb


def print_targets(
    floor_us: float, verify_us: dict[str, float], rss_growth: float, scale: float
) -> None:
    print("\ntargets (issue 7), on wall time:")
    for path, us in verify_us.items():
        rate, ratio = 1e6 / us, us / floor_us
        print(f"  {path} >= 10,000 transcripts/s: {rate:>8,.0f}/s  {_met(rate >= 10_000)}")
        print(f"  {path} <= 2x the floor:          {ratio:>8.2f}x  {_met(ratio <= 2)}")
    flat = f"{rss_growth:.2f}x for {scale:.0f}x the lines"
    print(f"  peak RSS flat (under 1.2x):     {flat}  {_met(rss_growth < 1.2)}")


def jobs_rows(args: argparse.Namespace, data: Path, scratch: Path) -> None:
    """Print the CLI's transcripts/s with --jobs 1 and each --jobs N on the same file."""
    counts = [1, *(n for n in args.jobs if n != 1)]
    measures = {
        n: functools.partial(cli_verify, data, scratch / f"jobs-{n}.jsonl", "-j", str(n), pin=[])
        for n in counts
    }
    figures = in_rounds(args.runs, measures)
    print(
        f"\nverify CLI end to end on {args.lines:,} lines, --jobs N (not pinned; "
        f"{len(os.sched_getaffinity(0))} cores usable; median of {args.runs}):"
    )
    one = figures[1]["seconds"]
    for n in counts:
        seconds = figures[n]["seconds"]
        print(
            f"  --jobs {n:<3} {seconds:>7.2f} s wall {args.lines / seconds:>9,.0f} transcripts/s"
            f"  {one / seconds:>5.2f}x --jobs 1"
        )


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--memory-lines", type=int, default=1_000_000)
    parser.add_argument("--reward-batch", type=int, default=256)
    parser.add_argument(
        "--jsonschema-lines", type=int, default=5_000, help="time jsonschema on this many lines"
    )
    parser.add_argument(
        "--jobs", type=int, action="append", help="compare --jobs 1 with this (default 2)"
    )
    parser.add_argument("--jobs-only", action="store_true", help="measure only --jobs N")
    parser.add_argument("--measure", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.jobs = args.jobs or [2]
    if args.measure:
        name, *rest = args.measure
        print(json.dumps(CHILD_MEASURES[name](*rest)))
        return
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}; "
        f"one core per run, median of {args.runs}"
    )
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        data = write_batch(scratch / "transcripts.jsonl", args.lines)
        print(
            f"{args.lines:,} synthetic transcripts, one in four faulty, "
            f"{data.stat().st_size / args.lines:.0f} bytes a line\n"
        )
        if args.jobs_only:
            jobs_rows(args, data, scratch)
            print(f"load average after: {os.getloadavg()[0]:.2f}")
            return
        figures = in_rounds(args.runs, measurements(args, data, scratch))
        floor_us = throughput_rows(figures, args.lines)
        reward_rows(args, figures["rewards"])
        rss_growth = memory_rows(args, figures["cli"]["rss_mb"], scratch)
        jobs_rows(args, data, scratch)
    verify_us = {
        "API": per_line_us(figures["api"], args.lines),
        "CLI": per_line_us(figures["cli"], args.lines),
    }
    print_targets(floor_us, verify_us, rss_growth, args.memory_lines / args.lines)


if __name__ == "__main__":
    main()
