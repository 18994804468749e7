"""Requests as people type them, read by the default spec's matchers.

The verifier can only hold a transcript to a rule whose matches read the request, so
each refuse and safe_complete rule of privacy, harassment, self-harm, sexual content and
regulated advice is tried on phrasings users really write (lowercase, typos, indirect,
"asking for a friend") and on benign near twins that must stay at their own decision.
tests/policies/data/request_phrasings.jsonl holds them: `fires` names the rule that must
fire; `decision` is what the matches alone must decide.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import spec_lang
from policies import DEFAULT_SPEC
from spec_lang.semantics import decide

ROWS = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "request_phrasings.jsonl").open(encoding="utf-8")
]


@pytest.fixture(scope="module")
def spec() -> spec_lang.Spec:
    return spec_lang.load(DEFAULT_SPEC)


@pytest.fixture(scope="module")
def matchers(spec) -> spec_lang.Matchers:
    return spec_lang.Matchers.for_spec(spec)


@pytest.mark.parametrize("row", [r for r in ROWS if "fires" in r], ids=lambda r: r["text"][:50])
def test_a_harmful_phrasing_fires_its_rule(matchers, row):
    assert row["fires"] in matchers.fired(row["text"])


@pytest.mark.parametrize("row", [r for r in ROWS if "decision" in r], ids=lambda r: r["text"][:50])
def test_a_benign_near_twin_keeps_its_decision(spec, matchers, row):
    fired = matchers.fired(row["text"])
    assert decide(spec, fired).decision == row["decision"], f"fired {fired}"


def test_both_directions_are_tried():
    assert sum("fires" in r for r in ROWS) >= 100
    assert sum("decision" in r for r in ROWS) >= 100
