"""Train the request reader (verifier/requests.py) and write verifier/data/request_model.json.

Usage: python benchmarks/train_requests.py [--eval]

The labelled requests: the default spec's examples (one that asks its rule's decision is
that rule's, one that asks `comply` is no rule's), tests/policies/data/request_phrasings.jsonl
(each `fires` a rule, or asks `decision: comply`) and tests/policies/data/request_training.jsonl
(the same format: phrasings written for training, in slang, with typos, through euphemism,
in es/de/fr/it/pt/pl/nl and obfuscated), and, as requests of no rule, the everyday prompts
the answer classifier's labelled answers were written for (tests/data/answers/*.jsonl and
tests/data/refusal_answers.jsonl, `request: benign`: code, cooking, travel, homework, in
many languages). A rule whose decision is `comply` is no rule here: the reader looks for
requests that ask more than compliance.

--eval holds out a fifth of the requests (by a hash of the text, so a run is repeatable),
trains on the rest and prints, at each probability threshold, how many held-out requests
of a rule are read as that rule and how many requests of no rule are read as some rule.
Without it, trains on everything and writes the model for the spec's name,
verifier/data/request_model.baseline.json (each feature's class indexes and weights, in
thousandths, one flat list).
Needs scikit-learn (the dev extra); the verifier reading the model does not.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.feature_extraction import DictVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import spec_lang  # noqa: E402
from verifier.requests import FORMAT, NO_RULE, model_path, request_features  # noqa: E402

DATA = ROOT / "tests" / "policies" / "data"
PHRASINGS = (DATA / "request_phrasings.jsonl", DATA / "request_training.jsonl")
ANSWERS = (*sorted((ROOT / "tests" / "data" / "answers").glob("*.jsonl")),)
ANSWERS += (ROOT / "tests" / "data" / "refusal_answers.jsonl",)
C = 16.0  # inverse regularisation: chosen with --eval (see docs/verifier.md)
MIN_COUNT = 2  # a feature seen once in training is noise, and bloats the file
KEEP = 0.05  # weights smaller than this (before scaling) are dropped from the file
SCALE = 1000
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def labelled(spec: spec_lang.Spec) -> list[tuple[str, str]]:
    """(request, class) for every labelled request, classes being the rules that ask more
    than compliance, and NO_RULE."""
    asks_more = {r.id for r in spec.rules if r.decision.value != spec.decisions[0]}
    rows: list[tuple[str, str]] = []
    for rule in spec.rules:
        for example in rule.examples:
            if example.decision.value == spec.decisions[0]:
                rows.append((example.request, NO_RULE))
            elif example.decision.value == rule.decision.value and rule.id in asks_more:
                rows.append((example.request, rule.id))
    for path in PHRASINGS:
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            if row.get("fires"):
                rows.append((row["text"], row["fires"] if row["fires"] in asks_more else NO_RULE))
            elif row.get("decision") == spec.decisions[0]:
                rows.append((row["text"], NO_RULE))
    for path in ANSWERS:
        for line in path.open(encoding="utf-8"):
            row = json.loads(line)
            if row.get("request") == "benign" and row.get("prompt"):
                rows.append((row["prompt"], NO_RULE))
    first: dict[str, str] = {}  # a text given twice keeps its first class
    for text, label in rows:
        first.setdefault(text, label)
    return list(first.items())


def held_out(text: str) -> bool:
    return hashlib.sha256(text.encode()).digest()[0] < 52  # about a fifth


def fit(rows: list[tuple[str, str]]) -> tuple[DictVectorizer, LogisticRegression]:
    features = [request_features(text) for text, _ in rows]
    counts = Counter(f for found in features for f in found)
    vectorizer = DictVectorizer()
    vectorizer.fit([{f: 1 for f, n in counts.items() if n >= MIN_COUNT}])
    model = LogisticRegression(C=C, max_iter=3000)
    model.fit(vectorize(vectorizer, features), [c for _, c in rows])
    return vectorizer, model


def vectorize(vectorizer: DictVectorizer, features: list[frozenset[str]]):
    """Binary features, L2-normalised over all of a request's features (as the reader
    does: a feature outside the vocabulary still counts towards the norm)."""
    return vectorizer.transform(
        [{f: 1.0 / np.sqrt(len(found)) for f in found} for found in features]
    )


def evaluate(rows: list[tuple[str, str]]) -> None:
    train = [r for r in rows if not held_out(r[0])]
    test = [r for r in rows if held_out(r[0])]
    vectorizer, model = fit(train)
    test_features = [request_features(text) for text, _ in test]
    probabilities = model.predict_proba(vectorize(vectorizer, test_features))
    classes = list(model.classes_)
    none = classes.index(NO_RULE)
    print(f"train {len(train)}, held out {len(test)} ({Counter(c == NO_RULE for _, c in test)})")
    for threshold in THRESHOLDS:
        caught = exact = harmful = false = benign = 0
        for (_, truth), p in zip(test, probabilities, strict=True):
            ranked = sorted(zip(p, classes, strict=True), reverse=True)
            best = next(c for _, c in ranked if c != NO_RULE)
            flagged = 1 - p[none] >= threshold
            if truth == NO_RULE:
                benign += 1
                false += flagged
            else:
                harmful += 1
                caught += flagged
                exact += flagged and best == truth
        print(
            f"p >= {threshold}: rule requests read as a rule {caught}/{harmful} "
            f"(the right rule {exact}); no-rule requests read as a rule {false}/{benign}"
        )


def write(rows: list[tuple[str, str]], spec: spec_lang.Spec, out: Path) -> None:
    vectorizer, model = fit(rows)
    classes = [str(c) for c in model.classes_]
    weights: dict[str, list[int]] = {}
    for column, feature in enumerate(vectorizer.feature_names_):
        flat = [
            number
            for index, w in enumerate(model.coef_[:, column])
            if abs(w) >= KEEP
            for number in (index, round(float(w) * SCALE))
        ]
        if flat:
            weights[feature] = flat
    data = {
        "format": FORMAT,
        "spec": spec.name,
        "classes": classes,
        "rules": {
            c: {"decision": spec.rule_by_id[c].decision.value, "title": spec.rule_by_id[c].title}
            for c in classes
            if c != NO_RULE
        },
        "scale": SCALE,
        "bias": [round(float(b) * SCALE) for b in model.intercept_],
        "weights": dict(sorted(weights.items())),
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(rows)} requests, {len(weights)} features, {len(text):,} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", action="store_true", help="hold out a fifth and report")
    args = parser.parse_args()
    spec = spec_lang.load(ROOT / "policies")
    rows = labelled(spec)
    print(f"{len(rows)} requests: {Counter(c == NO_RULE for _, c in rows)[True]} of no rule")
    if args.eval:
        evaluate(rows)
    else:
        write(rows, spec, model_path(spec.name))


if __name__ == "__main__":
    main()
