"""The ported policies keep what their sources say: Llama Guard 3's fourteen hazard
categories under their own codes with their exceptions, the safeguard spam policy's
levels and lettered sub-rules; and the multilingual spec verifies its transcripts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import spec_lang
from compiler import llamaguard, safeguard, scope
from policyspec.cli import app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LLAMA_GUARD_3 = {
    "S1": "Violent Crimes",
    "S2": "Non-Violent Crimes",
    "S3": "Sex-Related Crimes",
    "S4": "Child Sexual Exploitation",
    "S5": "Defamation",
    "S6": "Specialized Advice",
    "S7": "Privacy",
    "S8": "Intellectual Property",
    "S9": "Indiscriminate Weapons",
    "S10": "Hate",
    "S11": "Suicide & Self-Harm",
    "S12": "Sexual Content",
    "S13": "Elections",
    "S14": "Code Interpreter Abuse",
}
runner = CliRunner()


def test_llama_guard_3_categories_keep_their_names_and_codes():
    spec = spec_lang.load(EXAMPLES / "llama_guard3")
    titles = {code: category.title for code, category, _ in llamaguard.codes(spec)}
    assert titles == LLAMA_GUARD_3
    assert all(rule.id.startswith(spec.category_by_id[c].code.value + ".") for c in
               scope.export_codes(spec) for rule in spec.category_by_id[c].rules)  # fmt: skip


def test_the_llamaguard_prompt_lists_exceptions_and_conditions():
    spec = spec_lang.load(EXAMPLES / "llama_guard3")
    text = llamaguard.prompt(spec, "User", "User: hi")
    assert "S9: Indiscriminate Weapons." in text
    assert "S9.b (History, policy and arms control), an exception to S9.a" in text
    assert "Not an exception when user messages match /\\bstep[- ]by[- ]step\\b" in text
    assert "S13.a: Its signals are read in: the last assistant message." in text


def test_the_spam_policy_is_one_prompt_with_every_level():
    spec = spec_lang.load(EXAMPLES / "safeguard_spam")
    assert spec.severities == ("SP0", "SP1", "SP2", "SP3", "SP4")
    levels = {spec.severity(rule.id) for rule in spec.rules}
    assert levels == set(spec.severities)
    assert all(rule.id.startswith(spec.severity(rule.id) + ".") for rule in spec.rules)
    text = safeguard.policy_prompt(spec, "spam")
    assert text.startswith("# Spam policy (spam, code SP)")
    assert "[SP2.a] Unsolicited promotion" in text
    assert "Not an exception when user messages match /\\b(dm me|" in text


def test_the_highest_level_wins_among_rules_of_one_decision():
    spec = spec_lang.load(EXAMPLES / "safeguard_spam")
    assert spec_lang.decide(spec, ["SP2.a", "SP4.a", "SP3.a"]).winner == "SP4.a"


def test_policyspec_test_passes_every_port():
    for name in ("llama_guard3", "safeguard_spam", "multilingual"):
        result = runner.invoke(app, ["test", str(EXAMPLES / name)])
        assert result.exit_code == 0, result.output
        assert " 0 failed" in result.output


def test_the_multilingual_transcripts_verify():
    folder = EXAMPLES / "multilingual"
    result = runner.invoke(app, ["verify", str(folder), str(folder / "transcripts.jsonl")])
    assert result.exit_code == 0, result.output
    assert "4 transcripts: 4 passed, 0 failed" in result.output
