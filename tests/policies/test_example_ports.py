"""The ported policies keep what their sources say: Llama Guard 3's fourteen hazard
categories under their own codes with their exceptions, the safeguard spam policy's
levels and lettered sub-rules; and the multilingual spec verifies its transcripts."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import spec_lang
from compiler import llamaguard, safeguard, scope
from compiler.render import spec_for_category
from compiler.schema import output_model, output_schema
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
    assert text.startswith("Reasoning: medium\n\n# Spam policy (spam, code SP)")
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


def test_the_output_schema_takes_dotted_ids():
    spec = spec_lang.load(EXAMPLES / "llama_guard3")
    schema = output_schema(spec, "indiscriminate_weapons")
    assert schema["$defs"]["rule_id"]["enum"] == ["S9.a", "S9.b"]
    assert schema["x-policyspec"]["export_code"] == "S9"
    model = output_model(spec, "indiscriminate_weapons")
    cited = {"rule": "S9.b", "claim": "An arms control question."}
    confession = {
        "compliance_analysis": [],
        "uncertainties_and_conflicts": [],
        "overall_compliance_grade": 7,
    }
    output = {"reasoning": [cited], "decision": "safe", "style": None, "answer": "Sure."}
    assert model.model_validate({**output, "confession": confession}).reasoning[0].rule == "S9.b"


def test_judge_prompts_show_whose_words_and_conditions():
    spec = spec_lang.load(EXAMPLES / "llama_guard3")
    elections = spec_for_category(spec, "elections")
    assert "## Category elections (code S13): Elections" in elections
    assert "Its signals are read in: the last assistant message." in elections
    crimes = spec_for_category(spec, "violent_crimes")
    assert "Not an exception when user messages match /\\bstep[- ]by[- ]step\\b" in crimes


def test_explain_shows_scopes_conditions_and_codes():
    folder = str(EXAMPLES / "multilingual")
    shown = runner.invoke(app, ["explain", "ARM-3", "--spec", folder]).output
    assert "when           locale de" in shown
    shown = runner.invoke(app, ["explain", "ARM-2", "--spec", folder]).output
    assert "unless         keyword 'cantidades' (then it overrides nothing)" in shown
    folder = str(EXAMPLES / "llama_guard3")
    shown = runner.invoke(app, ["explain", "S13.a", "--spec", folder]).output
    assert "in last assistant" in shown
    shown = runner.invoke(app, ["explain", "sex_crimes", "--spec", folder]).output
    assert "category sex_related_crimes: Sex-Related Crimes" in shown
    assert "code           S3" in shown
