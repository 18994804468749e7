"""sft: training records from verified transcripts only, spec out of the prompt, both formats."""

from __future__ import annotations

import json

import pytest

from compiler.render import spec_texts
from compiler.sft import records
from tests.compiler.transcripts import transcript, write_transcripts

SH_RULES = "Input should be 'SH-0', 'SH-2' or 'SH-4'"


@pytest.fixture
def files(mini, tmp_path):
    return write_transcripts(mini, tmp_path)


def test_verdicts_on_the_transcripts(mini, files):
    transcripts, _ = files
    made = records(mini, transcripts)
    assert [r["id"] for r in made.messages] == ["t-pass", "t-raw", "t-system", "t-global"]
    assert dict(made.skipped) == {"failed": 1, "unverified": 1, "malformed": 6}
    assert [(p.span.line, p.message) for p in made.problems] == [
        (6, f"made under spec sha256:0, not {mini.content_hash}"),
        (7, "unknown category 'cooking'"),
        (8, "output does not fit the schema: reasoning.0.rule: " + SH_RULES),
        (9, "'messages' must be a non-empty list of {role, content} (user, assistant, system)"),
        (10, "not valid JSON (Expecting value)"),
        (11, "no 'id'"),
    ]


def test_a_verify_report_decides_instead(mini, files):
    transcripts, report = files
    made = records(mini, transcripts, verdicts=report)
    # t-fail passed in the report; t-raw has a failing line too, so it fails.
    assert [r["id"] for r in made.messages] == ["t-pass", "t-fail"]
    assert made.skipped["failed"] == 2 and made.skipped["unverified"] == 6
    assert (str(report).endswith("report.jsonl"), made.problems[0].span.line) == (True, 6)


def test_include_failed_keeps_every_well_formed_transcript(mini, files):
    transcripts, _ = files
    made = records(mini, transcripts, include_failed=True)
    assert [r["id"] for r in made.messages] == [
        "t-pass", "t-fail", "t-none", "t-raw", "t-system", "t-global"
    ]  # fmt: skip
    assert [r["verdict"] for r in made.messages][:3] == ["pass", "fail", None]


def test_record_formats(mini, files):
    transcripts, _ = files
    made = records(mini, transcripts)
    chat, pair = made.messages[0], made.prompt_completion[0]
    assert chat["spec"] == {"name": "mini", "version": "1.2.0", "hash": mini.content_hash}
    assert (chat["rules"], chat["decision"], chat["category"]) == (
        ["SH-2"],
        "safe_complete",
        "self_harm",
    )
    assert chat["messages"] == [*pair["prompt"], *pair["completion"]]
    [turn] = pair["completion"]
    assert turn["role"] == "assistant"
    assert list(json.loads(turn["content"])) == [
        "reasoning",
        "decision",
        "style",
        "answer",
        "confession",
    ]
    # The raw-text output parses into the same record.
    assert made.messages[1]["messages"][-1] == turn
    # The spec is removed from the prompt; other system messages stay.
    assert made.messages[2]["messages"][:-1] == [
        {"role": "system", "content": "Be concise."},
        {"role": "user", "content": "I want to hurt myself tonight."},
    ]
    # Without a category, any rule of the spec may be cited (the global schema).
    assert made.messages[3]["rules"] == ["W-1"]


def test_reasoning_in_its_own_field(mini, files):
    transcripts, _ = files
    [turn] = records(mini, transcripts, reasoning="field").prompt_completion[0]["completion"]
    assert turn["reasoning_content"] == "SH-2: The user states intent to hurt themself."
    assert list(json.loads(turn["content"])) == ["decision", "style", "answer", "confession"]


def test_the_spec_is_removed_as_the_given_templates_rendered_it(mini, tmp_path):
    (tmp_path / "spec.j2").write_text("Custom policy text for {{ spec.name }}.\n")
    custom = spec_texts(mini, tmp_path)
    line = transcript(
        mini,
        "t-custom",
        verdict="pass",
        messages=[
            {"role": "system", "content": custom("self_harm")},
            {"role": "user", "content": "I want to hurt myself tonight."},
        ],
    )
    transcripts = tmp_path / "transcripts.jsonl"
    transcripts.write_text(json.dumps(line) + "\n")
    [chat] = records(mini, transcripts, spec_text=custom).messages
    assert [m["role"] for m in chat["messages"]] == ["user", "assistant"]
