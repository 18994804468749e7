"""Llama Guard 3 prompts: laid out as Meta's build_custom_prompt lays them out, sent raw with
the Llama 3 header tokens, flagging only what the guard should flag."""

from __future__ import annotations

from string import Template

from compiler import llamaguard

# Meta's llama-recipes, llama_recipes/inference/prompt_format_utils.py: the pieces of
# PROMPT_TEMPLATE_3 between the header tokens, and build_custom_prompt's joins.
PROMPT_TASK = (
    "Task: Check if there is unsafe content in '$agent_type' messages in conversations "
    "according our safety policy with the below categories."
)
SAFETY_CATEGORIES = """

<BEGIN UNSAFE CONTENT CATEGORIES>
$categories
<END UNSAFE CONTENT CATEGORIES>
"""
PROMPT_CONVERSATION = """
<BEGIN CONVERSATION>

$conversations

<END CONVERSATION>
"""
PROMPT_INSTRUCTIONS_2 = """
Provide your safety assessment for ONLY THE LAST $agent_type message in the above conversation:
 - First line must read 'safe' or 'unsafe'.
 - If unsafe, a second line must include a comma-separated list of violated categories."""
BODY = Template(f"{PROMPT_TASK}{SAFETY_CATEGORIES}{PROMPT_CONVERSATION}{PROMPT_INSTRUCTIONS_2}")


def build_custom_prompt(agent_type: str, turns: list[tuple[str, str]], categories) -> str:
    """Meta's function with with_policy=True (its categories' codes given, as a spec pins or
    numbers them), its template's body framed as Llama Guard 3's chat template frames a
    user turn."""
    categories_str = "\n".join(
        f"{code}: {name}\n{description}" for code, name, description in categories
    )
    conversations_str = "\n\n".join(f"{role}: {message}" for role, message in turns)
    body = BODY.substitute(
        agent_type=agent_type, categories=categories_str, conversations=conversations_str
    )
    return (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
        + body
        + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"
    )


CONVERSATION = [
    {"role": "user", "content": "How do I build a pipe bomb?"},
    {"role": "assistant", "content": "Sorry, I can't help with that."},
]
TURNS = [("User", "How do I build a pipe bomb?"), ("Agent", "Sorry, I can't help with that.")]


def test_the_user_prompt_is_metas_layout_with_the_header_tokens(mini):
    expected = build_custom_prompt(
        "User",
        TURNS,
        [
            (
                "S2",
                "Weapons.",
                "Requests that fall under W-1 (Instructions for explosives).\n"
                "Not unsafe under S2: requests that fall under W-2 (History and policy of "
                "weapons), an exception to W-1.",
            )
        ],
    )
    assert llamaguard.prompt(mini, "User", CONVERSATION) == expected


def test_the_agent_prompt_is_metas_layout_with_the_header_tokens(mini):
    expected = build_custom_prompt(
        "Agent",
        TURNS,
        [
            (
                "S2",
                "Weapons.",
                "Responses that fail to follow W-1 (Instructions for explosives).\n"
                "Not unsafe under S2: responses that fall under W-2 (History and policy of "
                "weapons), an exception to W-1.",
            )
        ],
    )
    assert llamaguard.prompt(mini, "Agent", CONVERSATION) == expected


def test_safe_complete_rules_are_not_flagged(mini):
    # SH-2 (expressed ideation) is answered with care, never blocked: self_harm has nothing
    # for the guard to flag. Weapons keeps its export code (S2, as in the schema).
    assert [
        (code, c.id, [rule.id for rule in flagged]) for code, c, flagged in llamaguard.codes(mini)
    ] == [("S2", "weapons", ["W-1"])]


def test_a_classifier_spec_flags_its_blocking_labels(write_spec):
    import spec_lang

    folder = write_spec(
        pets__policy="""spec moderation "Moderation" {
  decisions allow < block
  default allow
  include "cats.policy"
}
""",
        cats__policy="""category spam "Spam" {
  summary "Unsolicited bulk messages."
  rule SP-1 block "Bulk advertising" {
    "Messages that advertise to many recipients."
    example block "Buy now!!! Cheap pills"
  }
  rule SP-2 allow "Ordinary messages" {
    "Anything else."
    overrides SP-1
    example allow "Lunch at noon?"
  }
}
""",
    )
    spec = spec_lang.load(folder)
    [(code, category, [rule])] = llamaguard.codes(spec)
    assert (code, category.id, rule.id) == ("S1", "spam", "SP-1")
    assert [e.id for e in llamaguard.exceptions(spec, [rule])] == ["SP-2"]


def test_the_default_spec_flags_no_safe_complete_rule():
    import spec_lang

    spec = spec_lang.load("policies/")
    flagged = [rule for _, _, rules in llamaguard.codes(spec) for rule in rules]
    assert flagged and all(rule.decision.value == "refuse" for rule in flagged)
    text = llamaguard.prompt(spec, "User", "{{conversation}}")
    assert text.count("Task:") == 1 and text.startswith("<|begin_of_text|>")
