"""gpt-oss-safeguard policies: the compact form the prompt guide asks for, the full form on
request, both sent as they are (no front matter)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spec_lang
from compiler import compile_spec, safeguard, scope, tokens
from spec_lang import InputError
from tests.compiler.fit import LONG_SENTENCE, write_fit_spec
from tests.policies.test_default_policies import SPECS


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


def test_compact_policies_of_the_default_spec_fit_the_guides_budget():
    """Counted as the compile counts (the default tokenizer): each within 400-600 tokens,
    with 4 to 6 examples that show both labels and, where the category has one, a safe
    completion."""
    spec = spec_lang.load("policies/")
    for category in scope.categories(spec):
        made = safeguard.policy(spec, category.id)
        assert made.tokens == tokens.count_tokens(made.text), category.id
        assert 400 <= made.tokens <= 600, (category.id, made.tokens)
        shown = answers(made.text)
        assert 4 <= len(shown) == made.examples <= 6, category.id
        assert {a["violation"] for a in shown} == {0, 1}, category.id
        if any(rule.decision.value == "safe_complete" for rule in scope.rules(spec, category.id)):
            assert "safe_complete" in {a["decision"] for a in shown}, category.id


def test_the_summary_is_cut_to_its_first_sentence_only_when_four_examples_do_not_fit(tmp_path):
    short = spec_lang.load(write_fit_spec(tmp_path / "short"))
    assert not safeguard.policy(short, "scams").summary_cut
    summary = f"Scams and fraud. {LONG_SENTENCE.capitalize()}."
    long = spec_lang.load(write_fit_spec(tmp_path / "long", summary=summary))
    made = safeguard.policy(long, "scams")
    assert made.summary_cut and made.examples >= 4 and made.tokens <= 600
    assert "on: Scams and fraud.\n" in made.text and "Messages and calls" not in made.text
    result = compile_spec(long, "safeguard", tmp_path / "out")
    assert "CP012" not in {d.code for d in result.diagnostics}
    full = safeguard.policy(long, "scams", form="full")
    assert summary in full.text and not full.summary_cut


def test_a_cut_that_does_not_help_leaves_the_summary_whole(tmp_path):
    summary = f"{LONG_SENTENCE.capitalize()}. Fraud too."
    made = safeguard.policy(spec_lang.load(write_fit_spec(tmp_path, summary=summary)), "scams")
    assert not made.summary_cut and made.examples == 0 and made.tokens > 600
    assert "Fraud too." in made.text


def test_examples_that_cannot_all_fit_trip_cp012_naming_the_examples(tmp_path):
    padded = write_fit_spec(tmp_path / "spec", padding=" " + LONG_SENTENCE[:600])
    result = compile_spec(padded, "safeguard", tmp_path / "out")
    (warning,) = [d for d in result.diagnostics if d.code == "CP012"]
    assert "only 2 of the guide's 4 examples fit within 600 tokens" in warning.message
    assert "shorten the category's examples" in warning.hint
    index = json.loads((tmp_path / "out" / "safeguard" / "index.json").read_text())
    assert index["policies"]["scams"]["tokens"] <= 600


def test_the_full_form_is_chosen_by_option_and_not_held_to_the_budget(tmp_path):
    padded = write_fit_spec(tmp_path / "spec", padding=" " + LONG_SENTENCE[:600])
    result = compile_spec(padded, "safeguard", tmp_path / "out", safeguard_form="full")
    assert "CP012" not in {d.code for d in result.diagnostics}
    text = (tmp_path / "out" / "safeguard" / "scams.md").read_text()
    assert len(answers(text)) == 5
    index = json.loads((tmp_path / "out" / "safeguard" / "index.json").read_text())
    assert index["form"] == "full" and index["policies"]["scams"]["tokens"] > 600


def test_without_the_default_tokenizer_the_guides_fewest_examples_are_shown(mini, monkeypatch):
    def unavailable(tokenizer=None):
        raise InputError("no tokenizer here")

    monkeypatch.setattr(tokens, "counter", unavailable)
    made = safeguard.policy(spec_lang.load("policies/"), "self_harm")
    assert made.tokens is None and made.examples == 4 == len(answers(made.text))


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


LABELS = [(1, "refuse"), (0, "comply"), (0, "safe_complete")]
_examples = st.lists(
    st.builds(
        lambda words, label, rule: safeguard.Example(
            text=" ".join(["word"] * words),
            output=f"answer {rule}",
            label=label,
            rule_ids=(f"R-{rule}",) if rule else (),
        ),
        st.integers(1, 60),
        st.sampled_from(LABELS),
        st.integers(0, 4),
    ),
    max_size=15,
)


def _words(texts: list[str]) -> list[int]:
    return [len(text.split()) for text in texts]


@settings(max_examples=200, deadline=None)
@given(examples=_examples, base=st.integers(1, 700))
def test_the_examples_chosen_fit_and_no_other_one_would(examples, base):
    """Counted in words: the message stays within the budget whenever its base does, shows
    at most 6 examples, and when it shows fewer, adding any other would pass the budget;
    where every example would fit, every label is shown."""

    def message(shown):
        lines = [f"Content: {e.text}\nAnswer: {e.output}" for e in shown]
        return "\n\n".join([" ".join(["base"] * base), *lines])

    shown, text, size, base_size = safeguard._choose(examples, message, _words)
    assert text == message(shown) and size == len(text.split()) and base_size == base
    assert len(shown) <= 6 and (size <= 600 or not shown)
    if len(shown) < 6:
        unshown = [e for e in examples if e not in shown]
        assert all(len(message([*shown, e]).split()) > 600 for e in unshown)
    if len(message(examples).split()) <= 600:  # all fit together: every label is shown
        assert {e.label for e in shown} == {e.label for e in examples}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_the_default_spec_and_every_example_spec_compile_without_cp012(name, tmp_path):
    result = compile_spec(SPECS[name], "safeguard", tmp_path)
    assert "CP012" not in {d.code for d in result.diagnostics}, name
