"""Time the answer classifier at a git revision against the working tree, interleaved.

Usage:
    taskset -c 1 python benchmarks/refusal_ab.py [--rev REV] [--calls N]

Loads ``verifier/refusal.py`` and its weights as they are at REV (default ``main``)
beside the current ones, counts the labelled answers (``refusal_eval.load_all``) on
which their predictions differ (none after a change made for speed alone), then
times each answer with one and then the other, the fastest of N calls each (default
5): alternating answer by answer keeps a shared
machine's load swings out of the comparison, which separate runs of
``refusal_eval.py`` do not. Prints the median and mean µs per answer of both.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from refusal_eval import load_all  # noqa: E402

from verifier import refusal  # noqa: E402


def _show(rev: str, path: str) -> str:
    command = ["git", "show", f"{rev}:{path}"]
    return subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout


def load_at(rev: str, folder: Path) -> ModuleType:
    """``verifier/refusal.py`` as it is at ``rev``, reading the weights of ``rev``."""
    path = folder / "refusal_at_rev.py"
    path.write_text(_show(rev, "verifier/refusal.py"), encoding="utf-8")
    weights = folder / "refusal_model_at_rev.json"
    weights.write_text(_show(rev, "verifier/data/refusal_model.json"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("refusal_at_rev", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["refusal_at_rev"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    module._model = module.load_model(weights)
    return module


def fastest_us(classify, text: str, calls: int) -> float:
    best = float("inf")
    for _ in range(calls):
        started = time.perf_counter()
        classify(text)
        best = min(best, time.perf_counter() - started)
    return best * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rev", default="main")
    parser.add_argument("--calls", type=int, default=5)
    args = parser.parse_args(argv)
    texts = [row["text"] for row in load_all()]
    with tempfile.TemporaryDirectory() as folder:
        old = load_at(args.rev, Path(folder))
    pairs = {args.rev: old.classify_answer, "working tree": refusal.classify_answer}
    differ = sum(old.classify_answer(t) != refusal.classify_answer(t) for t in texts)
    spent: dict[str, list[float]] = {name: [] for name in pairs}
    for text in texts:
        for name, classify in pairs.items():
            spent[name].append(fastest_us(classify, text, args.calls))
    print(
        f"{len(texts)} answers, fastest of {args.calls} calls each, interleaved; "
        f"load average {os.getloadavg()[0]:.2f}; predictions differ on {differ}"
    )
    for name, values in spent.items():
        print(
            f"  {name:<14} median {statistics.median(values):6.1f} µs, "
            f"mean {statistics.fmean(values):6.1f} µs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
