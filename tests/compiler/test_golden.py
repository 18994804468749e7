"""Golden files for every target on the mini spec, byte for byte; and determinism.

Regenerate after an intended change with POLICYSPEC_UPDATE_GOLDEN=1, then review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest

from compiler import CompileError, Target, compile_spec, teacher_messages
from compiler.sft_gen import requests
from spec_lang import InputError
from tests.compiler.conftest import DATA, SPECS
from tests.compiler.transcripts import write_transcripts

GOLDEN = Path(__file__).parent / "golden" / "mini"
UPDATE = os.environ.get("POLICYSPEC_UPDATE_GOLDEN") == "1"


@pytest.fixture
def workdir(mini, tmp_path, monkeypatch, word_tokens):
    """A folder holding the inputs under relative names, as the current directory."""
    shutil.copy(DATA / "prompts.csv", tmp_path)
    write_transcripts(mini, tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def compile_all(mini, out: str | Path, target: Target = Target.all):
    return compile_spec(mini, target, out, prompts="prompts.csv", transcripts="transcripts.jsonl")


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_all_targets_match_the_golden_files(mini, workdir):
    result = compile_all(mini, "out")
    made = tree(workdir / "out")
    assert set(made) == {*result.files, "manifest.json"}
    if UPDATE:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(workdir / "out", GOLDEN)
    assert made == tree(GOLDEN)


@pytest.mark.parametrize("target", [t for t in Target if t is not Target.all])
def test_each_target_alone_writes_its_golden_files(mini, workdir, target):
    result = compile_all(mini, "out", target)
    golden = tree(GOLDEN)
    assert result.files and all(name.startswith(f"{target.value}/") for name in result.files)
    for name in result.files:
        assert (workdir / "out" / name).read_bytes() == golden[name], name


def test_compiling_twice_gives_identical_bytes_and_keeps_other_targets(mini, workdir):
    compile_all(mini, "out")
    first = tree(workdir / "out")
    compile_all(mini, "out", Target.schema)
    compile_all(mini, "out")
    assert tree(workdir / "out") == first
    assert not [p for p in (workdir / "out").rglob("*.tmp")]


def test_every_output_carries_the_spec(mini, workdir):
    compile_all(mini, "out")
    for name, data in tree(workdir / "out").items():
        text = data.decode()
        if name.startswith("sft-gen/system") or name.endswith((".regex", ".txt", ".md")):
            # A system message's text alone (the requests naming it carry the spec); a
            # regex or a guard prompt as sent (the schema beside it, the target's
            # index.json and the manifest carry the spec).
            continue
        assert mini.content_hash in text, name
        if name.endswith(".prompt"):
            assert text.startswith(
                f'---\nspec: "mini"\nversion: "1.2.0"\nhash: "{mini.content_hash}"\n'
            )
        if name.endswith(".jsonl"):
            assert all(mini.content_hash in line for line in text.splitlines()), name


def test_each_request_names_a_system_file_holding_its_teacher_system_message(mini, workdir):
    compile_all(mini, "out")
    folder = workdir / "out" / "sft-gen"
    rows = [orjson.loads(line) for line in (folder / "requests.jsonl").read_bytes().splitlines()]
    found, _ = requests(mini, Path("prompts.csv"))
    assert [row["id"] for row in rows] == [request["id"] for request in found]
    for row, request in zip(rows, found, strict=True):
        system = (folder / row.pop("system_file")).read_bytes().decode()
        assert [{"role": "system", "content": system}, *row["conversation"]] == request["messages"]
        assert request["messages"] == teacher_messages(mini, row["category"], row["conversation"])
        assert row == {key: value for key, value in request.items() if key != "messages"}
    assert {row["category"] for row in rows} == {"self_harm", "weapons", None}


def test_a_spec_with_errors_is_not_compiled(tmp_path):
    with pytest.raises(CompileError) as caught:
        compile_spec(SPECS / "broken", "schema", tmp_path / "out")
    assert [d.code for d in caught.value.diagnostics] == ["PS102"]
    assert not (tmp_path / "out").exists()


def test_sft_needs_transcripts_and_all_goes_on_without_them(mini, tmp_path, word_tokens):
    with pytest.raises(InputError, match="needs a transcripts file"):
        compile_spec(mini, "sft", tmp_path / "out")
    result = compile_spec(mini, "all", tmp_path / "out")
    assert not any(name.startswith("sft/") for name in result.files)


def test_templates_can_be_overridden(mini, tmp_path, word_tokens):
    (tmp_path / "judge.j2").write_text("Judge {{ category.id }}: {{ answer }}\nGRADE: <1-7>\n")
    result = compile_spec(mini, "rubric", tmp_path / "out", templates=tmp_path)
    assert (
        (tmp_path / "out/rubric/judge/weapons.prompt")
        .read_text()
        .endswith("---\nJudge weapons: {{answer}}\nGRADE: <1-7>\n")
    )
    assert "rubric/confession/weapons.prompt" in result.files  # the default, not overridden
    (tmp_path / "judg.j2").write_text("")
    with pytest.raises(InputError, match=r"did you mean 'judge\.j2'"):
        compile_spec(mini, "rubric", tmp_path / "out", templates=tmp_path)


def test_the_judge_sees_the_reasoning_only_when_asked(mini, tmp_path, word_tokens):
    compile_spec(mini, "rubric", tmp_path / "a")
    compile_spec(mini, "rubric", tmp_path / "b", judge_reasoning=True)
    hidden = (tmp_path / "a/rubric/judge/self_harm.prompt").read_text()
    shown = (tmp_path / "b/rubric/judge/self_harm.prompt").read_text()
    assert "{{reasoning}}" not in hidden and "{{reasoning}}" in shown
    assert 'placeholders: ["conversation", "answer", "reasoning"]' in shown


def test_spec_category_sizes_are_counted_with_a_warning_past_the_budget(
    mini, tmp_path, word_tokens
):
    result = compile_spec(mini, "safeguard", tmp_path / "out", token_warning=200)
    assert set(result.spec_tokens) == {"self_harm", "weapons"}
    over = [c for c, size in result.spec_tokens.items() if size > 200]
    assert over and all(any(f"spec({c})" in d.message for d in result.diagnostics) for c in over)
