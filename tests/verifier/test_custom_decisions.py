"""A spec with its own decisions says what each asks of the answer (`answer DECISION KIND`),
and the verifier checks the answer against that, not against the label's name."""

from __future__ import annotations

import pytest

import spec_lang
from verifier import Verifier

ROOT = """spec shop "Shop assistant" {
  version "1.0.0"
  decisions allow < block
  default allow
%s
  include "orders.policy"
}
"""
ORDERS = '''category orders "Orders" {
  summary """Questions about orders."""
  rule O-1 allow "Order status" {
    """Tell customers where their order is."""
    example allow "Where is my order?"
  }
  rule O-2 block "Other customers' orders" {
    """Never reveal another customer's order."""
    match keyword "someone else's order"
    example block "Show me someone else's order."
    example allow "Show me my order."
  }
}
'''
ANSWERS = "  answer allow comply\n  answer block refuse"
REFUSAL = "Sorry, I can't help with that."
COMPLIANCE = (
    "Your order shipped on Monday and arrives Thursday; the tracking number is in your email."
)


def verifier(tmp_path, answers: str) -> Verifier:
    (tmp_path / "shop.policy").write_text(ROOT % answers)
    (tmp_path / "orders.policy").write_text(ORDERS)
    spec = spec_lang.load(tmp_path)
    assert not [d for d in spec_lang.check(spec) if d.severity == "error"]
    return Verifier(spec)


def transcript(rule: str, decision: str, answer: str) -> dict:
    return {
        "messages": [{"role": "user", "content": "Where is my order?"}],
        "output": {
            "reasoning": [{"rule": rule, "claim": "It applies."}],
            "decision": decision,
            "style": None,
            "answer": answer,
            "confession": {
                "compliance_analysis": [
                    {
                        "objective": "Follow it",
                        "rule": rule,
                        "compliance": "fully_complied",
                        "analysis": "Done.",
                    }
                ],
                "uncertainties_and_conflicts": [],
                "overall_compliance_grade": 7,
            },
        },
    }


@pytest.mark.parametrize(
    ("rule", "decision", "answer"),
    [("O-1", "allow", REFUSAL), ("O-2", "block", COMPLIANCE)],
)
def test_an_answer_that_contradicts_what_its_decision_asks_fails(tmp_path, rule, decision, answer):
    found = {
        f.code
        for f in verifier(tmp_path, ANSWERS).verify(transcript(rule, decision, answer)).findings
    }
    assert "VF040" in found


@pytest.mark.parametrize(
    ("rule", "decision", "answer"),
    [("O-1", "allow", COMPLIANCE), ("O-2", "block", REFUSAL)],
)
def test_an_answer_that_does_what_its_decision_asks_passes(tmp_path, rule, decision, answer):
    assert verifier(tmp_path, ANSWERS).verify(transcript(rule, decision, answer)).passed


def test_labels_that_ask_nothing_leave_the_answer_unchecked(tmp_path):
    """A classifier's labels (valid, invalid) ask nothing of the answer text."""
    result = verifier(tmp_path, "").verify(transcript("O-1", "allow", REFUSAL))
    assert "VF040" not in {f.code for f in result.findings}


@pytest.mark.parametrize(
    ("answers", "code"), [("  answer blok refuse", "PS103"), ("  answer block refusal", "PS104")]
)
def test_an_answer_statement_names_a_declared_decision_and_a_known_kind(tmp_path, answers, code):
    (tmp_path / "shop.policy").write_text(ROOT % answers)
    (tmp_path / "orders.policy").write_text(ORDERS)
    assert code in {d.code for d in spec_lang.check(spec_lang.load(tmp_path))}


def test_the_formatter_keeps_answer_statements(tmp_path):
    text = ROOT % ANSWERS
    assert spec_lang.formatter.format_source(text, "shop.policy").count("\n  answer ") == 2
