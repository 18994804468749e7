"""`policyspec compile`: exit codes, text and JSON output, reported rows."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

import spec_lang
from policyspec.compile_command import compile_spec
from tests.compiler.conftest import DATA, SPECS

app = typer.Typer()
app.callback()(lambda: None)  # keep `compile` a subcommand, as in policyspec's CLI
app.command("compile")(compile_spec)


@pytest.fixture
def run(word_tokens):
    def invoke(*args: str):
        return CliRunner().invoke(app, ["compile", *map(str, args)])

    return invoke


def test_compiles_and_reports_skipped_rows(run, tmp_path):
    result = run(SPECS / "mini", "-t", "sft-gen", "-o", tmp_path, "--prompts", DATA / "prompts.csv")
    assert result.exit_code == 0, result.output
    assert (
        "prompts.csv:7:1: warning[CP002]: unknown category 'weapon'; did you mean 'weapons'?"
        in result.output
    )
    assert f"wrote {tmp_path / 'sft-gen/requests.jsonl'}" in result.output
    assert "mini 1.2.0 (sha256:9ea2041c6ca6): 4 files, 4 rows skipped" in result.output


def test_the_spec_is_checked_once(run, tmp_path, monkeypatch):
    checked = []
    check = spec_lang.check
    monkeypatch.setattr(spec_lang, "check", lambda spec: checked.append(spec) or check(spec))
    result = run(SPECS / "mini", "-t", "schema", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert len(checked) == 1


def test_json_output(run, tmp_path):
    result = run(SPECS / "mini", "--target", "schema", "-o", tmp_path, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(report["files"]) == [
        "schema/output.regex",
        "schema/output.schema.json",
        "schema/self_harm.regex",
        "schema/self_harm.schema.json",
        "schema/weapons.regex",
        "schema/weapons.schema.json",
    ]
    assert report["spec"]["name"] == "mini" and report["diagnostics"] == []


def test_a_spec_with_errors_exits_1_and_prints_them(run, tmp_path):
    result = run(SPECS / "broken", "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "PS102" in result.output and "no_such_style" in result.output
    assert not (tmp_path / "out").exists()
    result = run(SPECS / "broken", "-o", tmp_path / "out", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["diagnostics"][0]["code"] == "PS102"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-t", "sft"], "needs a transcripts file"),
        (["-t", "sft-gen", "--prompts", "missing.csv"], "missing.csv: cannot read"),
        (["-t", "rubric", "--templates", "nowhere"], "nowhere: no such templates folder"),
        (["-t", "nope"], "Invalid value"),
    ],
)
def test_unusable_input_exits_2(run, tmp_path, args, message):
    result = run(SPECS / "mini", "-o", tmp_path, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_an_output_folder_that_cannot_be_written_exits_2(run, tmp_path):
    (tmp_path / "file").write_text("")
    result = run(SPECS / "mini", "-t", "schema", "-o", tmp_path / "file" / "out")
    assert result.exit_code == 2
    assert "cannot write" in result.output
