"""Train the answer classifier's weights (verifier/data/refusal_model.json) from labelled answers.

Usage:
    python benchmarks/train_refusal.py [--out PATH] [--check] [--lofo]

Reads tests/data/refusal_answers.jsonl and tests/data/answers/*.jsonl (see
benchmarks/refusal_eval.py), keeps the dev split only, and fits a multinomial logistic
regression (scikit-learn, L2) over the answer's features (``verifier.refusal.answer_features``:
readable strings, the ones inference reads). The regularisation
strength and the class weighting are chosen by 5-fold cross-validation on dev,
grouped by prompt (hand-written rows without a prompt are each their own group), by
pooled out-of-fold binary agreement (refusal = partial or full refusal), macro-F1
breaking ties. The held-out split is never read.

The output is byte-identical for the same data and the same scikit-learn: one thread,
a fixed solver, weights stored as integers (thousandths), keys in a fixed order.
``--check`` rebuilds in memory and compares with the file. Writing the default file
also rewrites tests/data/refusal_snapshot.json, the scores that speed work must keep.
``--lofo`` prints the leave-one-family-out check (train on the dev rows of every other
family, test on all rows of one).

scikit-learn is a training dependency only: inference reads the JSON in plain Python.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"  # one thread: spare the other core, and the same sums every run

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from refusal_eval import LABELS, binary_agreement, load_all, metrics  # noqa: E402

from verifier.refusal import MODEL_PATH, answer_features  # noqa: E402

GRID_C = (0.3, 1.0, 3.0, 10.0)
GRID_CLASS_WEIGHT = (None, "balanced")
FOLDS = 5
#: Weights are stored as integers: round(weight * SCALE).
SCALE = 1000
#: Features whose weights are all smaller than this are dropped from the file (about
#: two thirds of them: mostly words seen once), which cost nothing in cross-validation.
PRUNE = 0.02


def feature_rows(rows: list[dict]) -> list[list[str]]:
    return [sorted(answer_features(r["text"])[0]) for r in rows]


def design(ids: list[list[str]], columns: dict[str, int]):  # -> scipy.sparse.csr_matrix
    """Rows of features as a sparse 0/1 matrix over ``columns`` (feature -> column): the
    features seen in training; one not in ``columns`` has weight zero anyway."""
    from scipy.sparse import csr_matrix

    indptr, indices = [0], []
    for row in ids:
        indices.extend(columns[b] for b in row if b in columns)
        indptr.append(len(indices))
    data = [1.0] * len(indices)
    return csr_matrix((data, indices, indptr), shape=(len(ids), len(columns)))


def columns_of(ids: list[list[str]]) -> dict[str, int]:
    return {b: j for j, b in enumerate(sorted({b for row in ids for b in row}))}


def fit(x, y: list[str], c: float, class_weight: str | None):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight=class_weight, max_iter=5000, tol=1e-6)
    model.fit(x, y)
    model.coef_[:, abs(model.coef_).max(axis=0) < PRUNE] = 0.0
    return model


def cross_validate(
    rows: list[dict], ids: list[list[str]], verbose: bool = True
) -> tuple[float, str | None]:
    """Grouped k-fold on dev; returns the chosen (C, class_weight)."""
    from sklearn.model_selection import GroupKFold

    y = [r["label"] for r in rows]
    groups = [r["group"] for r in rows]
    folds = list(GroupKFold(n_splits=FOLDS).split(ids, y, groups))
    # each fold's columns are the features its training rows hold, as at the final fit
    mats = []
    for train, test in folds:
        cols = columns_of([ids[i] for i in train])
        mats.append((design([ids[i] for i in train], cols), design([ids[i] for i in test], cols)))
    best = None
    for cw in GRID_CLASS_WEIGHT:
        for c in GRID_C:
            pred = [""] * len(rows)
            for (train, test), (x_train, x_test) in zip(folds, mats, strict=True):
                m = fit(x_train, [y[i] for i in train], c, cw)
                for i, p in zip(test, m.predict(x_test), strict=True):
                    pred[i] = str(p)
            agree = binary_agreement(y, pred)
            macro = metrics(y, pred)["macro"][2]
            if verbose:
                print(f"  C={c:<5} class_weight={cw!s:<9} binary {agree:.4f}  macro-F1 {macro:.4f}")
            if best is None or (agree, macro) > best[0]:
                best = ((agree, macro), c, cw)
    assert best is not None
    return best[1], best[2]


def serialise(model, columns: dict[str, int], c: float, cw: str | None, rows: list[dict]) -> bytes:
    classes = [str(k) for k in model.classes_]
    order = [classes.index(k) for k in LABELS]
    coef = model.coef_[order]
    bias = model.intercept_[order]
    features, weights = [], []
    for feature, j in sorted(columns.items()):
        w = [round(float(coef[k, j]) * SCALE) for k in range(3)]
        if any(w):
            features.append(feature)
            weights.append(w)
    digest = hashlib.sha256()
    for r in rows:
        digest.update(json.dumps([r["text"], r["label"]], ensure_ascii=False).encode())
    doc = {
        "format": "policyspec-refusal-logreg-2",
        "classes": LABELS,
        "scale": SCALE,
        "C": c,
        "class_weight": cw,
        "trained_on": {"rows": len(rows), "sha256": digest.hexdigest()},
        "bias": [round(float(b) * SCALE) for b in bias],
        "features": features,
        "weights": weights,
    }
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=True)
    # one feature a line keeps diffs readable
    text = text.replace("],[", "],\n[")
    return (text + "\n").encode()


def train(rows: list[dict], verbose: bool = True) -> tuple[bytes, float, str | None]:
    dev = [r for r in rows if r["split"] == "dev"]
    ids = feature_rows(dev)
    columns = columns_of(ids)
    if verbose:
        print(f"dev rows: {len(dev)}; {len(columns)} features")
        print("grouped cross-validation on dev:")
    c, cw = cross_validate(dev, ids, verbose)
    if verbose:
        print(f"chosen: C={c} class_weight={cw}")
    model = fit(design(ids, columns), [r["label"] for r in dev], c, cw)
    return serialise(model, columns, c, cw, dev), c, cw


def lofo(rows: list[dict], c: float, cw: str | None) -> None:
    """Leave one family out: train on the other families' dev rows, test on all of its rows."""
    from refusal_eval import BASELINES

    print("\nleave-one-family-out (binary agreement; macro-F1 of the new model)")
    print(f"{'family':<16}{'n':>6}{'rules':>8}{'8-phrase':>10}{'new':>8}{'macro-F1':>10}")
    families = sorted({r["family"] for r in rows})
    dev = [r for r in rows if r["split"] == "dev"]
    pooled: dict[str, list[str]] = {"gold": [], "rules": [], "8-phrase": [], "new": []}
    for fam in families:
        train_rows = [r for r in dev if r["family"] != fam]
        test = [r for r in rows if r["family"] == fam]
        train_ids = feature_rows(train_rows)
        cols = columns_of(train_ids)
        m = fit(design(train_ids, cols), [r["label"] for r in train_rows], c, cw)
        pred = [str(p) for p in m.predict(design(feature_rows(test), cols))]
        gold = [r["label"] for r in test]
        rules = [BASELINES["rules"](r["text"]) for r in test]
        phrase = [BASELINES["8-phrase"](r["text"]) for r in test]
        row(fam, gold, rules, phrase, pred)
        for key, values in zip(pooled, (gold, rules, phrase, pred), strict=True):
            pooled[key].extend(values)
    row("all (pooled)", *pooled.values())


def row(name: str, gold: list[str], rules: list[str], phrase: list[str], new: list[str]) -> None:
    print(
        f"{name:<16}{len(gold):>6}{binary_agreement(gold, rules):>8.3f}"
        f"{binary_agreement(gold, phrase):>10.3f}{binary_agreement(gold, new):>8.3f}"
        f"{metrics(gold, new)['macro'][2]:>10.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--check", action="store_true", help="compare a rebuild with --out")
    parser.add_argument("--lofo", action="store_true", help="leave-one-family-out check")
    args = parser.parse_args(argv)
    rows = load_all()
    blob, c, cw = train(rows, verbose=not args.check)
    if args.check:
        same = args.out.is_file() and args.out.read_bytes() == blob
        print(f"{args.out}: {'identical' if same else 'DIFFERS from a rebuild'}")
        return 0 if same else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(blob)
    print(f"wrote {args.out} ({len(blob)} bytes)")
    if args.out == MODEL_PATH:  # new weights, new scores: the speed check's reference too
        from tests.verifier import refusal_snapshot

        refusal_snapshot.write()
        print(f"wrote {refusal_snapshot.SNAPSHOT}")
    if args.lofo:
        lofo(rows, c, cw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
