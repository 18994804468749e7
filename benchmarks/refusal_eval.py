"""Accuracy and speed of the answer-text refusal classifier (verifier.refusal).

Usage:
    python benchmarks/refusal_eval.py [PATH] [--split dev|heldout|all] [--by-kind] [--errors]

PATH defaults to tests/data/refusal_answers.jsonl. Prints, for the dev and held-out
splits separately, precision / recall / F1 and support per class, macro averages,
accuracy and the confusion matrix; then the time per answer (median and p99, in
microseconds) and a stdlib-re versus google-re2 comparison on the RE2-compatible cue
patterns. The held-out split is never used for tuning: use ``--split dev`` while
working on the classifier.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from verifier import refusal  # noqa: E402
from verifier.refusal import AnswerKind, classify_answer  # noqa: E402

LABELS = [k.value for k in AnswerKind]
DEFAULT_PATH = ROOT / "tests" / "data" / "refusal_answers.jsonl"


def load(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                row = json.loads(line)
                if row.get("label") not in LABELS or row.get("split") not in ("dev", "heldout"):
                    raise ValueError(f"{path}:{n}: bad label or split")
                rows.append(row)
    return rows


def metrics(gold: list[str], pred: list[str]) -> dict:
    """Per-class precision/recall/F1/support, macro averages, accuracy, confusion."""
    confusion = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    per_class = {}
    for c in LABELS:
        tp = confusion[c][c]
        predicted = sum(confusion[g][c] for g in LABELS)
        support = sum(confusion[c].values())
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[c] = (precision, recall, f1, support)
    macro = tuple(statistics.fmean(v[i] for v in per_class.values()) for i in range(3))
    accuracy = sum(confusion[c][c] for c in LABELS) / len(gold) if gold else 0.0
    return {"per_class": per_class, "macro": macro, "accuracy": accuracy, "confusion": confusion}


def evaluate(rows: list[dict]) -> dict:
    gold = [r["label"] for r in rows]
    pred = [classify_answer(r["text"]).value for r in rows]
    result = metrics(gold, pred)
    result["errors"] = [(r, p) for r, p in zip(rows, pred, strict=True) if p != r["label"]]
    return result


def print_report(name: str, rows: list[dict], by_kind: bool, show_errors: bool) -> None:
    result = evaluate(rows)
    print(f"\n== {name} (n={len(rows)}) ==")
    print(f"{'class':<18}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for c, (p, r, f, s) in result["per_class"].items():
        print(f"{c:<18}{p:>10.3f}{r:>8.3f}{f:>8.3f}{s:>9d}")
    mp, mr, mf = result["macro"]
    print(f"{'macro avg':<18}{mp:>10.3f}{mr:>8.3f}{mf:>8.3f}{len(rows):>9d}")
    print(f"{'accuracy':<18}{result['accuracy']:>26.3f}")
    print("\nconfusion (rows = gold, columns = predicted)")
    short = {"full_compliance": "comply", "partial_refusal": "partial", "full_refusal": "refuse"}
    print(f"{'':<18}" + "".join(f"{short[c]:>9}" for c in LABELS))
    for g in LABELS:
        print(f"{g:<18}" + "".join(f"{result['confusion'][g][p]:>9d}" for p in LABELS))
    if by_kind:
        print("\naccuracy by kind")
        kinds: dict[tuple[str, str], list[int]] = {}
        wrong = {r["id"] for r, _ in result["errors"]}
        for r in rows:
            kinds.setdefault((r["label"], r["kind"]), []).append(r["id"] not in wrong)
        for (label, kind), ok in sorted(kinds.items()):
            print(f"  {label:<16} {kind:<26} {sum(ok):>3}/{len(ok):<3}")
    if show_errors:
        print("\nerrors")
        for r, p in result["errors"]:
            print(f"  {r['id']}: gold={r['label']} pred={p}: {r['text'][:100]!r}")


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index]


def time_classifier(texts: list[str], repeats: int = 20) -> tuple[float, float, float]:
    """Median, p99 and mean wall time per answer, in microseconds."""
    for t in texts:  # warm up
        classify_answer(t)
    clock = time.perf_counter_ns
    samples = []
    for _ in range(repeats):
        for t in texts:
            start = clock()
            classify_answer(t)
            samples.append((clock() - start) / 1000)
    samples.sort()
    return statistics.median(samples), percentile(samples, 0.99), statistics.fmean(samples)


def compare_engines(texts: list[str], passes: int = 15) -> list[str]:
    """Compare stdlib re with google-re2 on the cue families RE2 can run (the gated ones).

    Two figures: the raw cost of scanning each whole answer with those patterns
    (where RE2's automaton shines), and the classifier end to end with those
    families compiled by RE2 in a second copy of the module (best of ``passes`` mean
    times, which resists noise from other processes).
    """
    try:
        import re2  # type: ignore[import-not-found]
    except ImportError:
        return ["google-re2 not installed; engine comparison skipped"]
    names = [n for n, cue in refusal._CUES.items() if cue.gate is not None]

    def to_re2(pattern: re.Pattern[str]) -> object:
        return re2.compile(("(?m)" if pattern.flags & re.M else "") + pattern.pattern)

    std = [refusal._CUES[n].pattern for n in names]
    fast = [to_re2(p) for p in std]
    masked = [refusal._mask(t) for t in texts]

    def scan(patterns: list) -> float:
        start = time.perf_counter()
        for t in masked:
            for p in patterns:
                for _m in p.finditer(t):
                    pass
        return (time.perf_counter() - start) / len(masked) * 1e6

    spec = importlib.util.spec_from_file_location("_refusal_re2", refusal.__file__)
    assert spec is not None and spec.loader is not None
    alt = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = alt  # dataclasses look the module up while it loads
    try:
        spec.loader.exec_module(alt)
    finally:
        del sys.modules[spec.name]
    for n in names:
        cue = getattr(alt, f"_{n.upper()}")
        setattr(alt, f"_{n.upper()}", alt._Cue(cue.gate, to_re2(cue.pattern)))
    alt._DECLINES = (alt._DECLINE_I, alt._DECLINE_NOT, alt._DECLINE_CANT, alt._DECLINE_OTHER)
    assert all(alt.classify_answer(t) == classify_answer(t) for t in texts)

    def end_to_end(classify: Callable[[str], AnswerKind]) -> float:
        best = float("inf")
        for _ in range(passes):
            start = time.perf_counter()
            for t in texts:
                classify(t)
            best = min(best, (time.perf_counter() - start) / len(texts) * 1e6)
        return best

    e2e_std, e2e_re2 = end_to_end(classify_answer), end_to_end(alt.classify_answer)
    return [
        f"raw scan, {len(names)} gated families over each whole answer, ungated: "
        f"stdlib re {scan(std):.1f} µs, google-re2 {scan(fast):.1f} µs",
        f"classifier end to end, mean per answer (best of {passes}): "
        f"stdlib re {e2e_std:.1f} µs, with those families on google-re2 {e2e_re2:.1f} µs",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("--by-kind", action="store_true", help="accuracy per phenomenon")
    parser.add_argument("--errors", action="store_true", help="list misclassified answers")
    args = parser.parse_args(argv)
    try:
        rows = load(args.path)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    splits = ["dev", "heldout"] if args.split == "all" else [args.split]
    counts = {s: sum(r["split"] == s for r in rows) for s in ("dev", "heldout")}
    print(
        f"Refusal classifier on {args.path} ({len(rows)} answers: "
        f"{counts['dev']} dev, {counts['heldout']} heldout)"
    )
    for split in splits:
        part = [r for r in rows if r["split"] == split]
        print_report(split, part, args.by_kind, args.errors)
    texts = [r["text"] for r in rows]
    median, p99, mean = time_classifier(texts)
    chars = statistics.fmean(len(t) for t in texts)
    print(f"\ntiming over {len(texts)} answers x 20 (mean {chars:.0f} chars):")
    print(f"  per answer: median {median:.1f} µs, p99 {p99:.1f} µs, mean {mean:.1f} µs")
    for line in compare_engines(texts):
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
