"""How `check` and `compile --target all` scale with the size of a spec, on one core.

Each measurement runs in a fresh process pinned to one CPU (taskset), so peak
RSS is that of the measured work alone; figures are medians of RUNS runs.
check: parse (spec_lang.load, with freeze=True as the commands load) and check.
compile: load (the same parse), then compiler.compile_spec(spec, "all", a
temporary folder), which checks the spec (once, as `policyspec compile` does),
renders every target, counts spec(category) tokens and writes the files; "cpu s"
is the compile's CPU time (less than its wall time by what it waited for: the
disk, or other work on the machine); "out MB" is what it wrote. Imports are not timed.
Targets (issue 7): 10,000 rules checked in under 2 s and compiled in under 5 s;
cost linear in rules.

parsers: check's figures for each parser, measured in the same run: lark with
lark-cython (what the commands use when it is installed), plain lark
(POLICYSPEC_LARK_CYTHON=0), and the hand-written parser lark replaced, run from a
`git worktree` of the last commit that has it, made in a temporary folder (the
package keeps no copy). --no-parsers leaves the comparison out.

spec(category) carries a summary of every category, and compile writes it into a
prompt per category, so compile's output grows with categories squared: with 10
rules per category (the default) categories grow with rules; with a fixed number
of categories (say --rules-per-category 500) it is linear in rules.

Two shapes that were quadratic (issue 3), checked only (parse and check, the same
child but findings allowed): --chain N, a spec whose every rule overrides the one
before it; --missing-includes N, a root file with N includes of missing files in a
folder of N other files. Give a size list to either, or 0 to skip it.

    python benchmarks/spec_scale.py [--runs 3] [--sizes 100,1000,10000]
                                    [--rules-per-category 10] [--cpu 1]
                                    [--no-parsers | --only-parsers]
                                    [--chain 1000,10000] [--missing-includes 1000,2000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from specgen import write_chain, write_missing_includes, write_spec

ROOT = Path(__file__).resolve().parent.parent
CHECK_CHILD = """
import json, resource, sys, time
import spec_lang
started = time.perf_counter()
spec = spec_lang.load(sys.argv[1], freeze=True)  # as the commands load it
loaded = time.perf_counter()
findings = spec_lang.check(spec)
checked = time.perf_counter()
assert not findings, findings[:3]
print(json.dumps({
    "parse": loaded - started, "check": checked - loaded,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""
COMPILE_CHILD = """
import json, resource, sys, tempfile, time
from pathlib import Path
import compiler, spec_lang
started = time.perf_counter()
spec = spec_lang.load(sys.argv[1], freeze=True)
loaded, cpu = time.perf_counter(), time.process_time()
with tempfile.TemporaryDirectory() as out:
    result = compiler.compile_spec(spec, "all", out)
    compiled, cpu = time.perf_counter(), time.process_time() - cpu
    written = sum(p.stat().st_size for p in Path(out).rglob("*") if p.is_file())
print(json.dumps({
    "load": loaded - started, "compile": compiled - loaded, "cpu": cpu,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "out_mb": written / 1e6, "tokens_counted": bool(result.spec_tokens),
}))
"""
SHAPE_CHILD = CHECK_CHILD.replace("assert not findings, findings[:3]", "").replace(
    '"rss_mb":', '"findings": len(findings), "rss_mb":'
)
HEADER = (
    f"{'':13} {' check '.center(44, '-')}  {' compile --target all '.center(64, '-')}\n"
    f"{'rules':>6} {'files':>6} {'parse s':>8} {'check s':>8} {'total s':>8} {'µs/rule':>8} "
    f"{'peak MB':>8}  {'load s':>8} {'compile s':>10} {'cpu s':>8} {'total s':>8} {'µs/rule':>8} "
    f"{'peak MB':>8} {'out MB':>8}"
)


CPU = "1"


def measure(child: str, folder: Path, code: Path = ROOT, env: dict | None = None) -> dict:
    """Run `child` on `folder` in a fresh process pinned to one CPU, with the code
    (spec_lang and the rest) of the checkout at `code`."""
    pin = ["taskset", "-c", CPU] if shutil.which("taskset") else []
    result = subprocess.run(
        [*pin, sys.executable, "-c", child, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=code,
        env={**os.environ, "PYTHONPATH": str(code), **(env or {})},
    )
    return json.loads(result.stdout)


def hand_parser_commit() -> str:
    """The last commit whose spec_lang/parser.py is the hand-written parser: the parent
    of the commit that took its `class _Parser:` out."""
    removed = subprocess.run(
        ["git", "log", "-1", "--format=%H", "-G", "^class _Parser:", "--", "spec_lang/parser.py"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.strip()
    return subprocess.run(
        ["git", "rev-parse", f"{removed}^"], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.strip()


PARSERS_HEADER = (
    f"{'':13} {' parse s (load) ':-^32}  {' check total s ':-^32}\n"
    f"{'rules':>6} {'':6} {'hand':>10} {'lark':>10} {'lark-cy':>10}  "
    f"{'hand':>10} {'lark':>10} {'lark-cy':>10}"
)


def compare_parsers(folders: dict[int, Path], runs: int, hand: Path) -> None:
    """check's parse and total times with each parser, measured in turn, run by run."""
    print(PARSERS_HEADER)
    variants = {
        "hand": (hand, {}),
        "lark": (ROOT, {"POLICYSPEC_LARK_CYTHON": "0"}),
        "lark-cy": (ROOT, {}),
    }
    for size, folder in folders.items():
        found: dict[str, list[dict]] = {name: [] for name in variants}
        for _ in range(runs):  # interleaved, so a busy moment on the machine hits all three
            for name, (code, env) in variants.items():
                found[name].append(measure(CHECK_CHILD, folder, code, env))
        figures = {name: medians(found[name]) for name in variants}
        parse = " ".join(f"{figures[n]['parse']:>10.2f}" for n in variants)
        total = " ".join(f"{figures[n]['total']:>10.2f}" for n in variants)
        ratio = figures["lark-cy"]["parse"] / figures["hand"]["parse"]
        plain = figures["lark"]["parse"] / figures["hand"]["parse"]
        print(
            f"{size:>6} {'':6} {parse}  {total}   (parse: lark {plain:.2f}x, "
            f"lark-cython {ratio:.2f}x the hand parser)",
            flush=True,
        )


def medians(runs: list[dict]) -> dict[str, float]:
    """The median of every numeric figure, and of the first two summed as 'total'."""
    first, second = list(runs[0])[:2]
    found = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    return found | {"total": statistics.median(r[first] + r[second] for r in runs)}


def row(size: int, files: int, check: dict, compiled: dict) -> str:
    return (
        f"{size:>6} {files:>6} {check['parse']:>8.2f} {check['check']:>8.2f} "
        f"{check['total']:>8.2f} {check['total'] / size * 1e6:>8.0f} {check['rss_mb']:>8.0f}  "
        f"{compiled['load']:>8.2f} {compiled['compile']:>10.2f} {compiled['cpu']:>8.2f} "
        f"{compiled['total']:>8.2f} "
        f"{compiled['total'] / size * 1e6:>8.0f} {compiled['rss_mb']:>8.0f} "
        f"{compiled['out_mb']:>8.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument(
        "--rules-per-category",
        type=int,
        default=10,
        help="10 makes categories grow with rules; spec(category) then grows too",
    )
    parser.add_argument("--cpu", default="1", help="the CPU each run is pinned to")
    parser.add_argument(
        "--no-parsers",
        action="store_true",
        help="leave out the comparison with plain lark and the hand-written parser",
    )
    parser.add_argument(
        "--only-parsers", action="store_true", help="measure only the parser comparison"
    )
    parser.add_argument("--chain", default="", help="override chains of these lengths")
    parser.add_argument("--missing-includes", default="", help="these numbers of missing includes")
    args = parser.parse_args()
    global CPU
    CPU = args.cpu
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; one core per run, median of {args.runs}; "
        f"{args.rules_per_category} rules per category"
    )
    if not args.only_parsers:
        print(HEADER)
    uncounted = False
    folders: dict[int, Path] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for size in (int(s) for s in args.sizes.split(",") if s and int(s)):
            folder = write_spec(Path(scratch) / str(size), size, args.rules_per_category)
            folders[size] = folder
            if args.only_parsers:
                continue
            check = medians([measure(CHECK_CHILD, folder) for _ in range(args.runs)])
            runs = [measure(COMPILE_CHILD, folder) for _ in range(args.runs)]
            uncounted |= not all(r.pop("tokens_counted") for r in runs)
            files = len(list(folder.glob("*.policy")))
            print(row(size, files, check, medians(runs)), flush=True)
        if uncounted:
            print("note: spec(category) tokens were not counted (no tokenizer), which is faster")
        if not args.no_parsers:
            commit = hand_parser_commit()
            print(f"\nparsers (hand-written: {commit[:10]}, from a git worktree)")
            hand = Path(scratch) / "hand-parser"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "-q", str(hand), commit],
                check=True,
                cwd=ROOT,
            )
            try:
                compare_parsers(folders, args.runs, hand)
            finally:
                subprocess.run(
                    ["git", "worktree", "remove", "--force", str(hand)], check=True, cwd=ROOT
                )
    shapes = [("override chain", write_chain, args.chain)]
    shapes.append(("missing includes", write_missing_includes, args.missing_includes))
    if any(sizes for _, _, sizes in shapes):
        print(
            f"\n{'check only':<18} {'size':>6} {'findings':>9} {'parse s':>8} {'check s':>8} "
            f"{'total s':>8} {'µs/item':>8} {'peak MB':>8}"
        )
    with tempfile.TemporaryDirectory() as scratch:
        for name, write, sizes in shapes:
            for size in (int(s) for s in sizes.split(",") if s and int(s)):
                folder = write(Path(scratch) / f"{name}-{size}".replace(" ", "-"), size)
                found = medians([measure(SHAPE_CHILD, folder) for _ in range(args.runs)])
                print(
                    f"{name:<18} {size:>6} {found['findings']:>9.0f} {found['parse']:>8.2f} "
                    f"{found['check']:>8.2f} {found['total']:>8.2f} "
                    f"{found['total'] / size * 1e6:>8.0f} {found['rss_mb']:>8.0f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
