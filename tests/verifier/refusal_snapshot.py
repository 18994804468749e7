"""The answer classifier's scores on a fixed corpus, kept so that a change made for
speed can be shown to change no prediction.

The corpus is every labelled answer (tests/data/refusal_answers.jsonl and
tests/data/answers/*.jsonl) and variants of them drawn with a fixed seed: cuts around
the 800 and 2,400 characters the features read, pairs joined, invisible and
compatibility characters inserted, case changed, quotes and code added. For each text
the snapshot keeps its CRC-32, its features' CRC-32 and the model's three integer scores
(exact: no floats), beside the SHA-256 of the weights file they came from.

    python -m tests.verifier.refusal_snapshot   # rewrite tests/data/refusal_snapshot.json

``benchmarks/train_refusal.py`` rewrites it with the weights; ``test_refusal.py``
compares.
"""

from __future__ import annotations

import hashlib
import json
import random
import zlib
from collections.abc import Iterator
from pathlib import Path

from verifier import refusal

ROOT = Path(__file__).resolve().parent.parent.parent
SNAPSHOT = ROOT / "tests" / "data" / "refusal_snapshot.json"
LABELLED = [
    ROOT / "tests" / "data" / "refusal_answers.jsonl",
    *sorted((ROOT / "tests" / "data" / "answers").glob("*.jsonl")),
]
VARIANTS = 3000
_INSERTS = (
    "\u200b",
    "\u200d",
    "\u00ad",
    "\u202e",
    "\ufeff",
    "ｃａｎ'ｔ",
    "\u0456",
    "é",
    "ß",
    "’",
    "“",
    "”",
)
_WRAPS = (('"', '"'), ("'", "'"), ("`", "`"), ("```\n", "\n```"), ("“", "”"))


def labelled_texts() -> list[tuple[str, str]]:
    """(id, text) of every labelled answer."""
    found = []
    for path in LABELLED:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found.append((row["id"], row["text"]))
    return found


def _variant(chooser: random.Random, texts: list[str]) -> str:
    text = chooser.choice(texts)
    how = chooser.randrange(6)
    if how == 0:  # a cut near a limit the features read
        limit = chooser.choice((refusal._CUE_CHARS, refusal._HEAD_CHARS, len(text) // 2))
        return text[: max(1, limit + chooser.randint(-12, 12))]
    if how == 1:
        return text + chooser.choice(("\n\n", " ", ". ")) + chooser.choice(texts)
    if how == 2:
        for _ in range(chooser.randint(1, 6)):
            at = chooser.randrange(len(text) + 1)
            text = text[:at] + chooser.choice(_INSERTS) + text[at:]
        return text
    if how == 3:
        return chooser.choice((str.upper, str.title, str.swapcase))(text)
    if how == 4:
        at, end = sorted(chooser.randrange(len(text) + 1) for _ in range(2))
        opening, closing = chooser.choice(_WRAPS)
        return text[:at] + opening + text[at:end] + closing + text[end:]
    return text * chooser.randint(2, 8)


def corpus() -> Iterator[tuple[str, str]]:
    """(key, text): the labelled answers, then the variants."""
    labelled = labelled_texts()
    yield from labelled
    chooser = random.Random(0)
    texts = [text for _, text in labelled]
    for n in range(VARIANTS):
        yield f"variant-{n:04d}", _variant(chooser, texts)


def entry(text: str) -> str:
    """The text's CRC-32, its features' CRC-32 (what training reads), the model's three
    integer scores and the safe-completion flag (what a prediction reads)."""
    features = zlib.crc32("\n".join(sorted(refusal.answer_features(text)[0])).encode())
    parts = refusal._parts(text)
    scores = " ".join(map(str, refusal._scores(parts, refusal._get_model())))
    return f"{zlib.crc32(text.encode()):08x} {features:08x} {scores} {int(parts.safe)}"


def model_digest() -> str:
    return hashlib.sha256(refusal.MODEL_PATH.read_bytes()).hexdigest()


def build() -> dict:
    return {"model_sha256": model_digest(), "rows": {key: entry(t) for key, t in corpus()}}


def write(path: Path = SNAPSHOT) -> None:
    text = json.dumps(build(), indent=0, ensure_ascii=True) + "\n"
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write()
    print(f"wrote {SNAPSHOT}")
