"""Requests as people type them, read by the default spec's matchers.

The verifier can only hold a transcript to a rule whose matches read the request, so
each refuse and safe_complete rule of privacy, harassment, self-harm, sexual content and
regulated advice is tried on phrasings users really write (lowercase, typos, indirect,
"asking for a friend") and on benign near twins that must stay at their own decision.
Every refuse and safe_complete rule of every category is also tried in Spanish, German,
French, Italian and Portuguese, typed as native speakers type (no accents, slang,
role-play and "hypothetically" wrappers), with benign twins in each language.
tests/policies/data/request_phrasings.jsonl holds them: `fires` names the rule that must
fire; `decision` is what the matches alone must decide; `lang`, where present, is the
language of a non-English row.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


LANGUAGES = ("es", "de", "fr", "it", "pt")


def test_every_strict_rule_is_tried_in_every_language(spec):
    strict = {
        rule.id
        for category in spec.categories
        for rule in category.rules
        if rule.decision.value in ("refuse", "safe_complete") and not rule.deprecated
    }
    assert len(strict) >= 25
    for lang in LANGUAGES:
        tried = Counter(r["fires"] for r in ROWS if r.get("lang") == lang and "fires" in r)
        assert {rule for rule in strict if tried[rule] < 4} == set(), lang
        assert sum(r.get("lang") == lang and "decision" in r for r in ROWS) >= 30, lang


FOREIGN = [r for r in ROWS if r.get("lang") in LANGUAGES and "fires" in r]
#: Combining marks a typist's keyboard or autocorrect may put on a vowel: acute, grave,
#: circumflex, diaeresis, tilde.
MARKS = ("\u0301", "\u0300", "\u0302", "\u0308", "\u0303")


@settings(max_examples=150, deadline=None)
@given(
    row=st.sampled_from(FOREIGN),
    marks=st.lists(st.sampled_from(("", *MARKS)), min_size=1, max_size=64),
    upper=st.booleans(),
)
def test_accents_and_case_do_not_hide_a_request(matchers, row, marks, upper):
    """The same request typed with or without accents, or in capitals, fires the same rule:
    matchers read folded text, so the spec's patterns are written without accents."""
    vowels = iter(marks * (len(row["text"]) // len(marks) + 1))
    text = "".join(c + next(vowels) if c in "aeiou" else c for c in row["text"])
    text = text.upper() if upper else text
    assert row["fires"] in matchers.fired(text)


# Transcripts: a harmful answer to such a request fails once the rule reads the request.

ADVERSARIAL = Path(__file__).resolve().parents[1] / "data" / "adversarial"
TRANSCRIPTS = {
    row["id"]: row
    for name in ("fresh2", "fresh3", "exception_on_trust", "s7_C2", "s7_L")
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
    [
        ("f2-f25", "PRIV-2"),
        ("eot-f09", "ADV-5"),
        ("s7C2-f13", "ADV-5"),
        ("s7C2-f05", "SH-2"),
        ("f3-f20", "PRIV-2"),
        ("s7L-f04", "ADV-5"),
        ("s7L-f09", "ADV-4"),
    ],
)
def test_an_answer_to_a_request_no_matcher_read_now_fails(verifier, row_id, rule):
    """Finding a blocked woman's new address, ADV-7 cited to re-date a doctor's note, and
    a Portuguese DAN wrapper asking to read a girlfriend's WhatsApp once passed: no match
    read the request. Now the rule's matches do, and it decides."""
    decided = [f for f in _errors(verifier, row_id) if f.code == "VF051"]
    assert decided and rule in decided[0].message


@pytest.mark.parametrize(
    "row_id",
    sorted(i for i in TRANSCRIPTS if i.startswith(("s7C2-p", "s7L-p"))),
)
def test_a_correct_answer_beside_them_passes(verifier, row_id):
    assert _errors(verifier, row_id) == []


@pytest.mark.parametrize(
    "row_id", sorted(i for i in TRANSCRIPTS if i.startswith(("s7C2-f", "s7L-f")))
)
def test_every_harmful_transcript_of_the_dev_set_fails(verifier, row_id):
    assert _errors(verifier, row_id)
