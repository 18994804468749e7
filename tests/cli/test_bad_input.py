"""Input found by fuzzing the CLI that gave tracebacks: each is now a finding (exit 1) or one
line (exit 2), and an empty spec compiles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import spec_lang
from policyspec.cli import app

ROOT = Path(__file__).resolve().parents[2]
MINI = ROOT / "tests" / "compiler" / "specs" / "mini"
runner = CliRunner()


def _spec(tmp_path: Path, replace: tuple[str, str], file: str = "mini.policy") -> Path:
    folder = tmp_path / "spec"
    folder.mkdir(parents=True)
    for source in MINI.glob("*.policy"):
        (folder / source.name).write_text(source.read_text())
    text = (folder / file).read_text()
    assert replace[0] in text
    (folder / file).write_text(text.replace(*replace))
    return folder


def _no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def test_an_empty_spec_compiles(tmp_path, monkeypatch):
    from compiler import tokens

    monkeypatch.setattr(tokens, "counter", lambda name=None: lambda texts: [1 for _ in texts])
    (tmp_path / "s.policy").write_text('spec s "S" {}\n')
    result = runner.invoke(app, ["compile", str(tmp_path), "-o", str(tmp_path / "out")])
    _no_traceback(result)
    assert result.exit_code == 0, result.output
    schema = json.loads((tmp_path / "out/schema/output.schema.json").read_text())
    assert schema["$defs"]["rule_id"]["enum"] == []
    assert schema["x-policyspec"]["token_budget"] > 0


LONE_SURROGATES = [
    (("1.2.0", "1.2.0\\ud800"), "mini.policy"),
    (
        ('"I want to hurt myself tonight."', '"I want to \\udc80 hurt myself tonight."'),
        "self_harm.policy",
    ),
]


@pytest.mark.parametrize(("replace", "file"), LONE_SURROGATES)
@pytest.mark.parametrize("command", ["check", "compile", "verify"])
def test_a_lone_surrogate_escape_is_a_syntax_error(tmp_path, replace, file, command):
    folder = _spec(tmp_path, replace, file)
    transcripts = tmp_path / "t.jsonl"
    transcripts.write_text("")
    extra = {
        "check": [],
        "compile": ["-o", str(tmp_path / "out")],
        "verify": [str(transcripts)],
    }[command]
    result = runner.invoke(app, [command, str(folder), *extra, "--format", "json"])
    _no_traceback(result)
    assert result.exit_code == 1
    assert "half of a surrogate pair" in result.output


def test_a_lone_surrogate_in_a_python_string_is_a_syntax_error():
    with pytest.raises(spec_lang.SpecSyntaxError, match="U\\+D800 is half of a surrogate"):
        spec_lang.parse('spec s "S\ud800" {}\n')


@pytest.mark.parametrize("digits", [10, 5000])
def test_a_huge_number_is_a_syntax_error(tmp_path, digits):
    folder = _spec(tmp_path, ("max_sentences 2", "max_sentences " + "9" * digits))
    result = runner.invoke(app, ["check", str(folder)])
    _no_traceback(result)
    assert result.exit_code == 1
    assert "number too large" in result.output and "at most 999,999,999" in result.output
    ok = _spec(tmp_path / "ok", ("max_sentences 2", "max_sentences 000999999999"))
    assert spec_lang.load(ok).style_by_id["hard_refusal"].max_sentences == 999_999_999


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("weap\\u0000ons.policy", "holds a NUL character"),
        ("a" * 5000, "longer than 255 bytes"),
        ("a/" * 2100 + "x.policy", "longer than 4,095 bytes"),
    ],
)
@pytest.mark.parametrize("command", ["check", "compile"])
def test_an_unusable_include_name_is_one_line(tmp_path, name, message, command):
    folder = _spec(tmp_path, ('include "weapons.policy"', f'include "{name}"'))
    extra = ["-o", str(tmp_path / "out")] if command == "compile" else []
    result = runner.invoke(app, [command, str(folder), *extra])
    _no_traceback(result)
    assert result.exit_code == 2
    assert message in result.output and result.output.count("\n") == 1
    assert result.output.startswith(f"error: {folder}/mini.policy:8:3: include ")


def test_specgen_has_a_help_and_refuses_bad_arguments(tmp_path):
    script = [sys.executable, str(ROOT / "benchmarks" / "specgen.py")]
    shown = subprocess.run([*script, "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and "rules" in shown.stdout
    for bad in ([], [str(tmp_path / "s"), "many"], [str(tmp_path / "s"), "0"]):
        refused = subprocess.run([*script, *bad], capture_output=True, text=True, check=False)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr
    made = subprocess.run([*script, str(tmp_path / "s"), "20"], capture_output=True, check=False)
    assert made.returncode == 0
    findings = spec_lang.check(spec_lang.load(tmp_path / "s"))
    assert not [d for d in findings if d.severity is spec_lang.Severity.ERROR]


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_a_json_file_over_the_size_limit_is_one_line(tmp_path, output_format):
    spec = ROOT / "tests" / "verifier" / "specs" / "baseline"
    batch = tmp_path / "batch.json"
    batch.write_text(json.dumps([{"id": str(n), "messages": []} for n in range(100)]))
    args = ["verify", str(spec), str(batch), "--max-line-bytes", "1000", "--format", output_format]
    result = runner.invoke(app, args)
    _no_traceback(result)
    assert result.exit_code == 2
    if output_format == "json":  # the error is a diagnostic on stdout
        (found,) = json.loads(result.stdout)["diagnostics"]
        assert found["message"].startswith(f"{batch}: a .json file is read whole")
    else:
        assert result.stderr.startswith(f"error: {batch}: a .json file is read whole")
        assert result.stderr.count("\n") == 1
