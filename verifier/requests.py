"""Read a request the way a reviewer files it: which of the default spec's rules it falls
under, learned from how people phrase requests rather than listed as patterns.

The spec's matchers are precise but literal: a request in slang, with typos, through a
euphemism or in a language their phrases do not cover sets none of them off, and the
transcript is then judged as if no rule applied. This reader is the backstop. It scores
the request against each rule that asks more than compliance, and against "no rule",
with a multinomial logistic regression over the words, word pairs and four-letter
pieces of words of the request as matchers read it (``spec_lang.text.normalize``), and
of its de-obfuscated reading where it has one (``k1ll`` -> ``kill``).

The weights (``data/request_model.<spec name>.json``: plain JSON, integers in
thousandths, read on first use by a spec of that name, loading runs no code) come from
``benchmarks/train_requests.py`` (scikit-learn, for training only), which rebuilds the
file from the spec's own examples and near misses and the labelled phrasings in
tests/policies/data/. A spec with no model of its name gets no reading; the model names
each rule's decision and title, and a rule whose decision or title differs gets none
(another spec of the same name, or a rule rewritten since).
"""

from __future__ import annotations

import json
import math
import re
from array import array
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

from spec_lang.text import deobfuscate, normalize

MODELS = Path(__file__).parent / "data"
FORMAT = "policyspec-request-logreg-1"
NO_RULE = "none"
#: The words of a request that are read: a pasted document past them adds nothing.
MAX_WORDS = 400

_WORDS = re.compile(r"[^\W_]+")


def request_features(text: str) -> frozenset[str]:
    """The features of a request: `w:` words, `b:` word pairs, `c:` four-letter pieces of
    the words (with a space at each end), over the normalised text and its de-obfuscated
    readings."""
    normalized = normalize(text)
    features: set[str] = set()
    for reading in (normalized, *deobfuscate(normalized)):
        words = _WORDS.findall(reading.lower())[:MAX_WORDS]
        features.update(f"w:{word}" for word in words)
        features.update(f"b:{a} {b}" for a, b in pairwise(words))
        for word in words:
            padded = f" {word} "
            features.update(f"c:{padded[i : i + 4]}" for i in range(len(padded) - 3))
    return frozenset(features)


@dataclass(frozen=True, slots=True)
class Reading:
    """The rule a request reads as most, and how likely it is to fall under any rule at
    all (one less the probability of no rule)."""

    rule: str
    probability: float


@dataclass(frozen=True)
class RequestModel:
    spec: str
    classes: tuple[str, ...]
    rules: dict[str, tuple[str, str]]  # rule ID -> its decision and title in training
    bias: tuple[float, ...]
    scale: int  # the weights are integers: this many to one
    # feature -> class index, weight, class index, weight, ... (a flat integer array holds
    # the 36,000 features in a tenth of the memory tuples of pairs take)
    weights: dict[str, array]

    def read(self, text: str) -> Reading:
        """How `text` reads (features L2-normalised over all of them, as in training)."""
        features = request_features(text)
        sums = [0] * len(self.classes)
        for feature in features:
            pairs = self.weights.get(feature)
            if pairs is not None:
                for k in range(0, len(pairs), 2):
                    sums[pairs[k]] += pairs[k + 1]
        norm = 1.0 / (math.sqrt(len(features)) * self.scale) if features else 0.0
        scores = [b + s * norm for b, s in zip(self.bias, sums, strict=True)]
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        ranked = sorted((e, c) for e, c in zip(exp, self.classes, strict=True) if c != NO_RULE)
        none = exp[self.classes.index(NO_RULE)]
        return Reading(ranked[-1][1], 1.0 - none / sum(exp))


def model_path(spec_name: str) -> Path:
    return MODELS / f"request_model.{spec_name}.json"


def load_model(path: Path) -> RequestModel:
    """Read the weights file (plain JSON: loading it runs no code)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a request model this version can read")
    scale = data["scale"]
    weights = {feature: array("i", flat) for feature, flat in data["weights"].items()}
    bias = tuple(b / scale for b in data["bias"])
    rules = {rule: (r["decision"], r["title"]) for rule, r in data["rules"].items()}
    return RequestModel(data["spec"], tuple(data["classes"]), rules, bias, scale, weights)


_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@cache
def model_for(spec_name: str) -> RequestModel | None:
    """The request reader trained for a spec of this name, if there is one."""
    if not _NAME.fullmatch(spec_name) or not model_path(spec_name).is_file():
        return None
    return load_model(model_path(spec_name))
