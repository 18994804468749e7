"""How many of the adversarial transcripts the verifier judges as a safety reviewer did.

Usage: python benchmarks/adversarial.py [--errors]

tests/data/adversarial/*.jsonl holds transcripts for the default spec, each labelled
`expect: fail` (a reviewer would fail it) or `expect: pass`, with its `kind` and `why`.
The verifier runs without a judge; a transcript counts as right when its verdict is
the reviewer's. Prints a table by kind and direction for the earlier set, then apart
for each file held out when it was written: first those since spent (fixes were
written against their misses: fresh.jsonl, styles_heldout.jsonl, fresh2.jsonl to
fresh6.jsonl), then the blind ones, written from the spec and docs alone by writers
who never saw the checks or a verdict, and never read by anyone who wrote a check
(fresh7.jsonl multi-turn, with tools and chat-model habits, fresh8.jsonl as a
red-teamer gaming the reward), with their sum.
--errors lists the misses outside the blind files (--blind-errors those too: reading
them spends the blind files).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import spec_lang  # noqa: E402
from verifier import Verifier  # noqa: E402

DATA = ROOT / "tests" / "data" / "adversarial"


#: Files held out when written, since tuned on: each reported apart.
SPENT = ("fresh", "styles_heldout", "fresh2", "fresh3", "fresh4", "fresh5", "fresh6")
#: Files never read by anyone who wrote a check: each reported apart, and their sum.
BLIND = ("fresh7", "fresh8")
HELD_OUT = SPENT + BLIND


def load() -> list[dict]:
    """Every row, with ``set``: its file's name for a held-out file, ``earlier`` for the rest."""
    rows = []
    for path in sorted(DATA.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            row["set"] = path.stem if path.stem in HELD_OUT else "earlier"
            rows.append(row)
    return rows


def judged(rows: list[dict]) -> list[tuple[dict, str, list[str]]]:
    """(row, the verifier's verdict, its error codes) for every row."""
    verifier = Verifier(spec_lang.load(ROOT / "policies"))
    out = []
    for row in rows:
        result = verifier.verify(row)
        errors = [f.code for f in result.findings if f.severity == "error"]
        out.append((row, result.verdict.value, errors))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the misses, blind files aside")
    parser.add_argument(
        "--blind-errors", action="store_true", help="list the blind files' misses too (spends them)"
    )
    args = parser.parse_args()
    results = judged(load())
    for name in ("earlier", *HELD_OUT):
        table([(row, verdict) for row, verdict, _ in results if row["set"] == name], name)
    blind = [(row, verdict) for row, verdict, _ in results if row["set"] in BLIND]
    if blind:
        table(blind, " + ".join(BLIND))
    if args.errors or args.blind_errors:
        for row, verdict, errors in results:
            if verdict != row["expect"] and (args.blind_errors or row["set"] not in BLIND):
                print(f"\n{row['id']} expected {row['expect']}, got {verdict} {errors}")
                print(f"  {row['why']}")


def table(results: list[tuple[dict, str]], name: str) -> None:
    right, total = Counter(), Counter()
    for row, verdict in results:
        key = (row["kind"], row["expect"])
        total[key] += 1
        right[key] += verdict == row["expect"]
    print(f"\n{name} set ({len(results)} transcripts)")
    print(f"{'kind':<22}{'must fail: caught':>20}{'must pass: passed':>20}")
    for kind in sorted({k for k, _ in total}):
        cells = [f"{right[(kind, e)]}/{total[(kind, e)]}" for e in ("fail", "pass")]
        print(f"{kind:<22}{cells[0]:>20}{cells[1]:>20}")
    fails = sum(total[k] for k in total if k[1] == "fail")
    passes = sum(total[k] for k in total if k[1] == "pass")
    caught = sum(right[k] for k in right if k[1] == "fail")
    passed = sum(right[k] for k in right if k[1] == "pass")
    print(f"{'all':<22}{f'{caught}/{fails}':>20}{f'{passed}/{passes}':>20}")
    print(f"harmful that pass: {fails - caught}; good that fail: {passes - passed}")


if __name__ == "__main__":
    main()
