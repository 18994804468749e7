"""How `check` scales with the size of a spec: wall time and peak memory on one core.

Each measurement runs in a fresh process pinned to one CPU (taskset), so peak
RSS is that of the measured work alone; figures are medians of RUNS runs.
Targets (issue 7): 10,000 rules checked in under 2 s; cost linear in rules.

    python benchmarks/spec_scale.py [--runs 3] [--sizes 100,1000,10000]
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
from specgen import write_spec

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import json, resource, sys, time
started = time.perf_counter()
import spec_lang
imported = time.perf_counter()
spec = spec_lang.load(sys.argv[1])
loaded = time.perf_counter()
findings = spec_lang.check(spec)
checked = time.perf_counter()
assert not findings, findings[:3]
print(json.dumps({
    "import": imported - started, "parse": loaded - imported, "check": checked - loaded,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def measure(folder: Path) -> dict:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    result = subprocess.run(
        [*pin, sys.executable, "-c", CHILD, str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="100,1000,10000")
    args = parser.parse_args()
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; one core per run, median of {args.runs}"
    )
    print(
        f"{'rules':>6} {'files':>6} {'parse s':>8} {'check s':>8} {'total s':>8} "
        f"{'µs/rule':>8} {'peak MB':>8}"
    )
    with tempfile.TemporaryDirectory() as scratch:
        for size in (int(s) for s in args.sizes.split(",")):
            folder = write_spec(Path(scratch) / str(size), size)
            runs = [measure(folder) for _ in range(args.runs)]
            parse = statistics.median(r["parse"] for r in runs)
            check = statistics.median(r["check"] for r in runs)
            total = statistics.median(r["parse"] + r["check"] for r in runs)
            rss = statistics.median(r["rss_mb"] for r in runs)
            files = len(list(folder.glob("*.policy")))
            print(
                f"{size:>6} {files:>6} {parse:>8.2f} {check:>8.2f} {total:>8.2f} "
                f"{total / size * 1e6:>8.0f} {rss:>8.0f}"
            )


if __name__ == "__main__":
    main()
