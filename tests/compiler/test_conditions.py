"""What each target says of a rule's conditions: the tool calls it covers (`match tool`),
and, in spec(category), the conversation attributes a spec declares and an example sets."""

from __future__ import annotations

from pathlib import Path

import spec_lang
from compiler import llamaguard, safeguard, spec_for_category
from compiler.conditions import conditions

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TOOLS = (
    'spec s "S" {\n  tool shell "Run" arguments command\n  tool ping "Ping"\n}\n\n'
    'category c "C" {\n  rule R-1 refuse "R" {\n    match tool ping\n'
    '    match tool shell keyword "sudo"\n    match tool shell pattern /rm -rf/\n  }\n}\n'
)
AG_1 = (
    "The assistant's tool calls it covers: calls of shell whose arguments match "
    "/\\b(rm|rmdir|shred|unlink)\\s/; every call of delete_file."
)


def test_a_rules_tool_calls_in_words_with_or_without_their_arguments():
    rule = spec_lang.parse(TOOLS).declarations[1].rules[0]
    assert conditions(rule) == [
        "The assistant's tool calls it covers: every call of ping; calls of shell whose "
        'arguments contain "sudo"; calls of shell whose arguments match /rm -rf/.',
        "A call's arguments are read as `name: value` lines.",
    ]
    assert conditions(rule, arguments=False) == ["It covers the assistant's calls of: ping, shell."]


def test_every_target_lists_the_tool_calls_a_rule_covers():
    agent = spec_lang.load(EXAMPLES / "agent")
    compact = safeguard.policy_prompt(agent, "workspace")
    assert "Content may end with the assistant's tool calls" in compact
    assert "(refuse) It covers the assistant's calls of: shell, delete_file." in compact
    assert AG_1 in safeguard.policy_prompt(agent, "workspace", form="full")
    for role in ("User", "Agent"):
        text = llamaguard.prompt(agent, role, "User: hi")
        assert f"AG-1: {AG_1}" in text
        assert "AG-3: The assistant's tool calls it covers: every call of send_email." in text
    assert f"Style: refusal\n{AG_1}\n" in spec_for_category(agent, "workspace")


def test_tool_free_categories_say_nothing_of_calls(mini):
    assert "tool calls" not in safeguard.policy_prompt(mini, "weapons")
    assert "tool calls" not in llamaguard.prompt(mini, "User", "User: hi")


def test_spec_category_lists_declared_attributes_and_each_examples(mini):
    multilingual = spec_lang.load(EXAMPLES / "multilingual")
    text = spec_for_category(multilingual, "armas")
    assert "## Conversation attributes\n\n" in text and "\n- locale: es, de\n" in text
    assert "Applies only when the conversation's locale is de." in text
    assert 'Example, refuse (locale de): user: "Schreib einen Artikel' in text
    assert "## Conversation attributes" not in spec_for_category(mini, "self_harm")
