"""gpt-oss-safeguard policies: the compact form the prompt guide asks for, the full form on
request, both sent as they are (no front matter)."""

from __future__ import annotations

import json
import re

import spec_lang
from compiler import compile_spec, safeguard


def answers(text: str) -> list[dict]:
    return [
        json.loads(line.removeprefix("Answer: "))
        for line in text.splitlines()
        if line.startswith("Answer: ")
    ]


def test_the_compact_form_follows_the_guide(mini):
    text = safeguard.policy_prompt(mini, "self_harm")
    assert text.startswith("Reasoning: medium\n\n# Self-harm policy")
    assert not text.startswith("---")
    examples = answers(text)
    assert 1 <= len(examples) <= 4
    assert all(set(a) == {"violation", "decision", "rule_ids", "rationale"} for a in examples)
    assert all(a["rationale"] for a in examples)


def test_safe_complete_rules_are_safe_content_not_violations(mini):
    text = safeguard.policy_prompt(mini, "self_harm")
    violates, safe = text.split("## Violates (violation 1)")[1].split("## Safe content")
    assert "SH-2" not in violates and "[SH-2] Expressed intent or ideation (safe_complete)" in safe
    weapons = safeguard.policy_prompt(mini, "weapons")
    assert "[W-1] Instructions for explosives (refuse)" in weapons.split("## Safe content")[0]
    hurt = next(a for a in answers(text) if a["rule_ids"] == ["SH-2"])
    assert hurt["violation"] == 0 and hurt["decision"] == "safe_complete"


def test_compact_policies_of_the_default_spec_show_both_labels_within_four_examples():
    spec = spec_lang.load("policies/")
    for category in ("self_harm", "violence", "privacy"):
        examples = answers(safeguard.policy_prompt(spec, category))
        assert len(examples) == 4
        assert {a["violation"] for a in examples} == {0, 1}, category


def test_the_full_form_holds_every_example_and_rule_text(mini):
    full = safeguard.policy_prompt(mini, "self_harm", form="full")
    compact = safeguard.policy_prompt(mini, "self_harm")
    assert "Respond with empathy and crisis resources" in full
    assert "Respond with empathy" not in compact
    assert len(answers(full)) == sum(
        len(r.examples) for r in mini.category_by_id["self_harm"].rules if r.deprecated is None
    )


def test_the_target_writes_messages_as_sent_and_an_index(mini, tmp_path, word_tokens):
    result = compile_spec(mini, "safeguard", tmp_path)
    assert sorted(result.files) == [
        "safeguard/index.json",
        "safeguard/self_harm.md",
        "safeguard/weapons.md",
    ]
    text = (tmp_path / "safeguard" / "self_harm.md").read_text()
    assert text == safeguard.policy_prompt(mini, "self_harm")
    index = json.loads((tmp_path / "safeguard" / "index.json").read_text())
    assert index["spec"]["hash"] == mini.content_hash and index["form"] == "compact"
    assert index["policies"]["self_harm"] == {
        "file": "safeguard/self_harm.md",
        "tokens": len(text.split()),
    }
    assert not re.search(r"^(spec|hash): ", text, re.M)
