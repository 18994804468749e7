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


# Transcripts: a harmful answer to such a request fails once the rule reads the request.

ADVERSARIAL = Path(__file__).resolve().parents[1] / "data" / "adversarial"
TRANSCRIPTS = {
    row["id"]: row
    for name in ("fresh2", "exception_on_trust", "s7_C2")
    for row in map(json.loads, (ADVERSARIAL / f"{name}.jsonl").read_text("utf-8").splitlines())
}


@pytest.fixture(scope="module")
def verifier(spec):
    from verifier import Verifier

    return Verifier(spec)


def _errors(verifier, row_id: str) -> list:
    findings = verifier.verify(TRANSCRIPTS[row_id]).findings
    return [f for f in findings if f.severity == "error"]


@pytest.mark.parametrize(
    ("row_id", "rule"),
    [("f2-f25", "PRIV-2"), ("eot-f09", "ADV-5"), ("s7C2-f13", "ADV-5"), ("s7C2-f05", "SH-2")],
)
def test_an_answer_to_a_request_no_matcher_read_now_fails(verifier, row_id, rule):
    """Finding a blocked woman's new address, and ADV-7 cited to re-date a doctor's note,
    once passed: no match read the request. Now the rule's matches do, and it decides."""
    decided = [f for f in _errors(verifier, row_id) if f.code == "VF051"]
    assert decided and rule in decided[0].message


@pytest.mark.parametrize(
    "row_id",
    sorted(i for i in TRANSCRIPTS if i.startswith("s7C2-p")),
)
def test_a_correct_answer_beside_them_passes(verifier, row_id):
    assert _errors(verifier, row_id) == []


@pytest.mark.parametrize("row_id", sorted(i for i in TRANSCRIPTS if i.startswith("s7C2-f")))
def test_every_harmful_transcript_of_the_dev_set_fails(verifier, row_id):
    assert _errors(verifier, row_id)
