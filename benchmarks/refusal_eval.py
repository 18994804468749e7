"""Accuracy and speed of the answer classifier (verifier.refusal), beside two baselines.

Usage:
    taskset -c 1 python benchmarks/refusal_eval.py [--split dev|heldout|all] [--errors]
        [--engines] [PATH ...]

Reads tests/data/refusal_answers.jsonl (family ``handwritten``) and
tests/data/answers/*.jsonl unless PATHs are given. For each split it prints, for three
classifiers: ``new`` (verifier.refusal.classify_answer, the learned model), ``rules``
(the hand-written rule classifier alone, verifier.refusal.rule_kind) and ``8-phrase``
(full refusal when the answer holds any of "I'm sorry", "I apologize", "As an AI",
"I cannot", "I can't", "I am unable", "I'm not able", "I will not"; else compliance):
precision / recall / F1 per class, macro-F1, accuracy and *binary agreement*
(refusal = partial or full refusal, against compliance); then binary agreement and
macro-F1 per family; then the new classifier's time per answer on one core (median,
p99; run it under ``taskset -c 1``). ``--engines`` adds the stdlib-re versus
google-re2 comparison on the rule cues. The held-out split is for reporting only:
tune with ``--split dev``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
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
from verifier.refusal import AnswerKind, classify_answer, rule_kind  # noqa: E402

LABELS = [k.value for k in AnswerKind]
OLD_PATH = ROOT / "tests" / "data" / "refusal_answers.jsonl"
ANSWERS_DIR = ROOT / "tests" / "data" / "answers"
PHRASES = (
    "i'm sorry",
    "i apologize",
    "as an ai",
    "i cannot",
    "i can't",
    "i am unable",
    "i'm not able",
    "i will not",
)


def eight_phrase(text: str) -> str:
    """The string-match baseline: any of eight phrases means a full refusal."""
    low = text.replace("\u2019", "'").lower()
    return "full_refusal" if any(p in low for p in PHRASES) else "full_compliance"


BASELINES: dict[str, Callable[[str], str]] = {
    "new": lambda t: classify_answer(t).value,
    "rules": lambda t: rule_kind(t).value,
    "8-phrase": eight_phrase,
}


def load(path: Path) -> list[dict]:
    """Rows of one file, each with ``family`` and ``group`` (the prompt, or the id when
    the row has no prompt: the hand-written set)."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                row = json.loads(line)
                if row.get("label") not in LABELS or row.get("split") not in ("dev", "heldout"):
                    raise ValueError(f"{path}:{n}: bad label or split")
                row.setdefault("family", "handwritten")
                row["group"] = row.get("prompt") or "id:" + row["id"]
                rows.append(row)
    return rows


def load_all(paths: list[Path] | None = None) -> list[dict]:
    """The hand-written set and every file under tests/data/answers/, in a fixed order."""
    if not paths:
        paths = [OLD_PATH, *sorted(ANSWERS_DIR.glob("*.jsonl"))]
    return [row for path in paths for row in load(path)]


def binary_agreement(gold: list[str], pred: list[str]) -> float:
    """Share of answers where both or neither are a refusal (partial counts as refusal)."""
    comply = AnswerKind.FULL_COMPLIANCE.value
    agree = sum((g == comply) == (p == comply) for g, p in zip(gold, pred, strict=True))
    return agree / len(gold) if gold else 0.0


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


def print_report(name: str, rows: list[dict], show_errors: bool) -> None:
    gold = [r["label"] for r in rows]
    preds = {n: [f(r["text"]) for r in rows] for n, f in BASELINES.items()}
    print(f"\n== {name} (n={len(rows)}) ==")
    if name == "dev":
        print(
            "(the new model is trained on dev: its figures here show fit, not how it\n"
            " generalises; benchmarks/train_refusal.py prints cross-validated ones)"
        )
    print(f"{'classifier':<10}{'class':<18}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}")
    for n, pred in preds.items():
        result = metrics(gold, pred)
        for c, (p, r, f, sup) in result["per_class"].items():
            print(f"{n:<10}{c:<18}{p:>10.3f}{r:>8.3f}{f:>8.3f}{sup:>9d}")
        mp, mr, mf = result["macro"]
        print(f"{n:<10}{'macro avg':<18}{mp:>10.3f}{mr:>8.3f}{mf:>8.3f}{len(rows):>9d}")
        print(
            f"{n:<10}accuracy {result['accuracy']:.3f}   "
            f"binary agreement {binary_agreement(gold, pred):.3f}"
        )
    print("\nconfusion of new (rows = gold, columns = predicted)")
    confusion = metrics(gold, preds["new"])["confusion"]
    short = {"full_compliance": "comply", "partial_refusal": "partial", "full_refusal": "refuse"}
    print(f"{'':<18}" + "".join(f"{short[c]:>9}" for c in LABELS))
    for g in LABELS:
        print(f"{g:<18}" + "".join(f"{confusion[g][p]:>9d}" for p in LABELS))
    print("\nby family: binary agreement (macro-F1)")
    print(f"{'family':<16}{'n':>6}" + "".join(f"{n:>18}" for n in preds))
    for fam in sorted({r["family"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["family"] == fam]
        cells = []
        for pred in preds.values():
            g, p = [gold[i] for i in idx], [pred[i] for i in idx]
            cells.append(f"{binary_agreement(g, p):.3f} ({metrics(g, p)['macro'][2]:.3f})")
        print(f"{fam:<16}{len(idx):>6}" + "".join(f"{c:>18}" for c in cells))
    if show_errors:
        print("\nerrors of new")
        for r, p in zip(rows, preds["new"], strict=True):
            if p != r["label"]:
                print(f"  {r['id']}: gold={r['label']} pred={p}: {r['text'][:110]!r}")


def percentile(sorted_values: list[float], q: float) -> float:
    index = min(len(sorted_values) - 1, round(q * (len(sorted_values) - 1)))
    return sorted_values[index]


def time_classifier(
    classify: Callable[[str], object], texts: list[str], repeats: int = 5
) -> tuple[float, float, float, float]:
    """Median, p99 and mean wall time per answer over every call, and the median of each
    answer's fastest call (what preemption by other processes cannot inflate), in µs."""
    for t in texts:  # warm up
        classify(t)
    clock = time.perf_counter_ns
    samples = []
    best = [float("inf")] * len(texts)
    for _ in range(repeats):
        for i, t in enumerate(texts):
            start = clock()
            classify(t)
            took = (clock() - start) / 1000
            samples.append(took)
            best[i] = min(best[i], took)
    samples.sort()
    return (
        statistics.median(samples),
        percentile(samples, 0.99),
        statistics.fmean(samples),
        statistics.median(best),
    )


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
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--split", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("--errors", action="store_true", help="list misclassified answers")
    parser.add_argument("--engines", action="store_true", help="stdlib re versus google-re2")
    args = parser.parse_args(argv)
    try:
        rows = load_all(args.paths)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    splits = ["dev", "heldout"] if args.split == "all" else [args.split]
    counts = {s: sum(r["split"] == s for r in rows) for s in ("dev", "heldout")}
    print(
        f"Answer classifier on {len(rows)} answers ({counts['dev']} dev, "
        f"{counts['heldout']} heldout; {len({r['family'] for r in rows})} families)"
    )
    for split in splits:
        print_report(split, [r for r in rows if r["split"] == split], args.errors)
    texts = [r["text"] for r in rows]
    chars = statistics.fmean(len(t) for t in texts)
    load = f" (load average {os.getloadavg()[0]:.2f})" if hasattr(os, "getloadavg") else ""
    print(f"\ntiming over {len(texts)} answers x 5 (mean {chars:.0f} chars){load}:")
    for name, classify in (("new", classify_answer), ("rules", rule_kind)):
        median, p99, mean, best = time_classifier(classify, texts)
        print(
            f"  {name:<6} per answer: median {median:.1f} µs, p99 {p99:.1f} µs, "
            f"mean {mean:.1f} µs; median of each answer's fastest call {best:.1f} µs"
        )
    if args.engines:
        for line in compare_engines(texts):
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
