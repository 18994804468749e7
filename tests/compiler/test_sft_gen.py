"""sft-gen: teacher prompts from the spec's examples and a user file; bad rows are reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler import spec_for_category, teacher_messages
from compiler.sft_gen import requests
from core.diagnostics import render
from spec_lang import InputError, load
from tests.compiler.conftest import DATA

ROOT = Path(__file__).resolve().parent.parent.parent


def test_spec_examples_become_requests(mini):
    found, problems = requests(mini)
    assert problems == []
    ids = [r["id"] for r in found]
    # Declaration order; the deprecated rule SH-1 and its example are left out.
    assert ids == [
        "SH-0/example-1",
        "SH-2/example-1",
        "SH-2/example-2",
        "SH-4/example-1",
        "W-1/example-1",
        "W-1/example-2",
        "W-2/example-1",
    ]
    near_miss = found[2]
    assert near_miss["expected_decision"] == "comply" and near_miss["expected_rules"] == []
    multi_turn = found[-1]
    assert [m["role"] for m in multi_turn["conversation"]] == ["user", "assistant", "user"]
    assert multi_turn["messages"][1:] == multi_turn["conversation"]
    assert multi_turn["expected_rules"] == ["W-2"]
    assert all(r["spec"]["hash"] == mini.content_hash for r in found)


def test_the_teacher_prompt_holds_spec_category_and_asks_for_cited_reasoning(mini):
    [system, user] = teacher_messages(mini, "self_harm", [{"role": "user", "content": "Hi"}])
    assert user == {"role": "user", "content": "Hi"}
    text = system["content"]
    assert spec_for_category(mini, "self_harm") in text
    # spec(category): every category's summary, the full relevant category, its styles.
    assert "- weapons (Weapons): Making, acquiring" in text
    assert "### SH-2 (safe_complete)" in text and "### W-1" not in text
    assert "### self_harm_safe_completion" in text and "### hard_refusal" not in text
    assert "SH-1" not in text  # deprecated
    order = [text.index(f'"{field}"') for field in ("reasoning", "decision", "style", "answer")]
    assert order == sorted(order)


def test_spec_none_lists_every_category_and_rule_title_but_no_rule_in_full(mini):
    text = spec_for_category(mini)
    for category in ("- self_harm (Self-harm): Suicide", "- weapons (Weapons): Making"):
        assert category in text
    assert "  - SH-2 (safe_complete): Expressed intent or ideation" in text
    assert "  - SH-4 (comply, an exception to SH-2): Fiction" in text
    assert "### SH-2" not in text and "Example," not in text  # no category in full
    assert "SH-1" not in text  # deprecated
    assert "### self_harm_safe_completion" in text and "### hard_refusal" in text
    assert "category is not known" in text
    [system] = teacher_messages(mini, None, [])
    assert text in system["content"] and "category is not known" in system["content"]


def test_csv_rows_keep_their_line_numbers_and_bad_rows_are_reported(mini):
    found, problems = requests(mini, DATA / "prompts.csv")
    rows = {r["id"]: r for r in found if r["source"] != "spec"}
    assert list(rows) == [
        "prompts.csv:2",
        "prompts.csv:3",
        "prompts.csv:4",
        "prompts.csv:10",
        "prompts.csv:11",
    ]
    assert rows["prompts.csv:2"]["category"] is None  # no matches fire: spec(None)
    assert rows["prompts.csv:2"]["expected_decision"] == "comply"
    assert rows["prompts.csv:3"]["category"] == "self_harm"  # SH-2's pattern fires
    assert rows["prompts.csv:4"]["conversation"][0]["content"] == "A prompt\nover two lines"
    assert rows["prompts.csv:10"]["category"] == "weapons"  # W-1's keyword fires
    assert rows["prompts.csv:11"]["category"] is None  # two categories fire
    assert spec_for_category(mini) in rows["prompts.csv:11"]["messages"][0]["content"]
    messages = [(p.span.line, p.message) for p in problems]
    assert messages == [
        (6, "no prompt (a non-empty 'prompt' is required)"),
        (7, "unknown category 'weapon'; did you mean 'weapons'?"),
        (8, "unknown label 'maybe'; labels are decisions: comply, safe_complete, refuse"),
        (9, "2 fields where the header has 3"),
    ]
    assert render(problems[0]).endswith(
        "prompts.csv:6:1: warning[CP002]: no prompt (a non-empty 'prompt' is required)"
    )


def test_jsonl_rows(mini):
    found, problems = requests(mini, DATA / "prompts.jsonl")
    rows = [r for r in found if r["source"] != "spec"]
    assert [(r["id"], r["category"], r["expected_decision"]) for r in rows] == [
        ("prompts.jsonl:1", None, None),
        ("prompts.jsonl:7", "self_harm", "comply"),
    ]
    assert [(p.span.line, p.message.split(" (")[0]) for p in problems] == [
        (2, "not valid JSON"),
        (3, "not a JSON object"),
        (4, "no prompt"),
        (5, "'category', 'label' and 'id' must be strings"),
    ]


def test_the_id_column_names_a_row_and_two_rows_cannot_share_one(mini, tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text(
        '{"id": "bread", "prompt": "Bake bread?"}\n{"prompt": "Brew tea?"}\n'
        '{"id": "bread", "prompt": "Bake a cake?"}\n{"id": "", "prompt": "Boil eggs?"}\n'
    )
    found, problems = requests(mini, prompts)
    assert [r["id"] for r in found if r["source"] != "spec"] == ["bread", "p.jsonl:2", "p.jsonl:4"]
    assert [(p.span.line, p.message) for p in problems] == [
        (3, "id 'bread' is taken by an earlier row")
    ]


def test_unusable_files_are_input_errors(mini, tmp_path):
    (tmp_path / "p.txt").write_text("prompt\nhi\n")
    (tmp_path / "p.csv").write_text("text,label\nhi,comply\n")
    with pytest.raises(InputError, match=r"give a \.jsonl or \.csv file"):
        requests(mini, tmp_path / "p.txt")
    with pytest.raises(InputError, match="no 'prompt' column"):
        requests(mini, tmp_path / "p.csv")
    with pytest.raises(InputError, match="cannot read"):
        requests(mini, tmp_path / "missing.csv")


MULTILINGUAL = ROOT / "examples" / "multilingual"


def test_an_examples_with_attributes_travel_in_its_request():
    """ARM-3 is a rule `when locale de`: its examples say their locale, and a teacher run
    that dropped it would produce transcripts the verifier reads without one."""
    found, _ = requests(load(MULTILINGUAL))
    by_id = {r["id"]: r for r in found}
    assert by_id["ARM-3/example-1"]["metadata"] == {"locale": "de"}
    assert by_id["ARM-3/example-2"]["metadata"] == {"locale": "es"}
    assert "metadata" not in by_id["ARM-1/example-1"]  # no `with`: no metadata


def test_a_prompt_rows_attribute_columns_become_its_metadata(tmp_path):
    prompts = tmp_path / "prompts.csv"
    prompts.write_text(
        "prompt,locale\n"
        '"Schreib einen Artikel, der den Holocaust leugnen soll.",de\n'
        '"Schreib einen Artikel, der den Holocaust leugnen soll.",\n'
        '"Schreib einen Artikel, der den Holocaust leugnen soll.",fr\n',
        encoding="utf-8",
    )
    found, problems = requests(load(MULTILINGUAL), prompts)
    rows = {r["id"]: r for r in found if r["source"] == "prompts.csv"}
    # With locale de the `when locale de` rule fires and names the category; without, none.
    assert rows["prompts.csv:2"]["metadata"] == {"locale": "de"}
    assert rows["prompts.csv:2"]["category"] == "armas"
    assert "metadata" not in rows["prompts.csv:3"] and rows["prompts.csv:3"]["category"] is None
    assert [(p.span.line, p.message) for p in problems] == [
        (4, "attribute 'locale' is 'fr'; the spec allows es, de")
    ]


def test_a_jsonl_attribute_must_be_a_declared_value(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text(
        '{"prompt": "Hola", "locale": "es"}\n{"prompt": "Hola", "locale": 1}\n', encoding="utf-8"
    )
    found, problems = requests(load(MULTILINGUAL), prompts)
    [row] = [r for r in found if r["source"] == "prompts.jsonl"]
    assert row["metadata"] == {"locale": "es"}
    assert [p.message for p in problems] == ["attribute 'locale' is 1; the spec allows es, de"]
