"""The language commands as a user runs them: output, exit codes, and what is left on disk."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policyspec.cli import LAZY_COMMANDS, app
from tests.pets import CATS

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_check_clean_spec(write_spec):
    result = run("check", write_spec())
    assert result.exit_code == 0
    assert result.stdout.strip() == "pets: 0 errors, 0 warnings (2 rules in 2 files)"


def test_check_reports_errors_with_caret_and_exits_1(write_spec):
    folder = write_spec(cats__policy=CATS.replace("style hard\n", "style hrad\n"))
    result = run("check", folder)
    assert result.exit_code == 1
    assert "cats.policy:7:11: error[PS102]: undefined style 'hrad'" in result.stdout
    assert "= help: did you mean 'hard'?" in result.stdout
    assert "pets: 1 error, 1 warning" in result.stdout  # the now-unused style warns too


def test_check_json(write_spec):
    folder = write_spec(cats__policy=CATS.replace("rule C-2 comply", "rule C-2 complie"))
    result = run("check", folder, "--format", "json")
    payload = json.loads(result.stdout)
    assert result.exit_code == 1
    assert payload["errors"] == 1
    (finding,) = payload["diagnostics"]
    assert finding["code"] == "PS103" and finding["span"]["line"] == 14 and finding["hint"]


def test_syntax_error_is_a_finding_not_a_crash(write_spec):
    result = run("check", write_spec(cats__policy=CATS.replace("rule C-2 comply", "rule C-2")))
    assert result.exit_code == 1
    assert "error[PS001]: expected a decision" in result.stdout


def test_warnings_alone_exit_0(write_spec):
    result = run("check", write_spec(stray__policy='category s "S" { summary """x""" }'))
    assert result.exit_code == 0
    assert "warning[PS013]" in result.stdout


def bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no policies here")
    latin = tmp_path / "latin"
    latin.mkdir()
    (latin / "root.policy").write_bytes(b'spec a "caf\xe9" {}\n')
    escape = tmp_path / "escape"
    escape.mkdir()
    (escape / "root.policy").write_text('spec a "A" {\n  include "../outside.policy"\n}\n')
    (tmp_path / "outside.policy").write_text('category o "O" {}\n')
    return {
        "missing": (tmp_path / "nope", "no such file or folder"),
        "empty": (empty, "no .policy files in this folder"),
        "latin": (latin, "not UTF-8 text (byte 0xe9 at offset 11); save it as UTF-8"),
        "escape": (escape, "leaves the spec folder"),
    }


@pytest.mark.parametrize("case", ["missing", "empty", "latin", "escape"])
@pytest.mark.parametrize("command", ["check", "test"])
def test_bad_input_one_line_exit_2(tmp_path, case, command):
    path, message = bad_inputs(tmp_path)[case]
    before = snapshot(tmp_path)
    result = run(command, path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(tmp_path) == before


def test_fmt_check_and_diff_change_nothing(write_spec):
    folder = write_spec(cats__policy=CATS.replace("  rule C-2", "      rule C-2"))
    before = snapshot(folder)
    checked = run("fmt", "--check", folder)
    diffed = run("fmt", "--diff", folder)
    assert checked.exit_code == diffed.exit_code == 1
    assert "would reformat" in checked.stderr and "cats.policy" in checked.stderr
    assert "-      rule C-2" in diffed.stdout and "+  rule C-2" in diffed.stdout
    assert snapshot(folder) == before


def test_fmt_rewrites_and_is_then_clean(write_spec):
    folder = write_spec(cats__policy=CATS.replace("  rule C-2", "      rule C-2") + "# kept\n")
    assert run("fmt", folder).exit_code == 0
    assert run("fmt", "--check", folder).exit_code == 0
    text = (folder / "cats.policy").read_text()
    assert "\n  rule C-2" in text and text.endswith("# kept\n")
    assert not [p for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_fmt_leaves_a_file_that_does_not_parse(write_spec):
    broken = CATS.replace("rule C-2 comply", "rule C-2")
    folder = write_spec(cats__policy=broken)
    result = run("fmt", folder)
    assert result.exit_code == 1
    assert "error[PS001]" in result.stdout
    assert (folder / "cats.policy").read_text() == broken


def test_explain_rule(write_spec):
    result = run("explain", "C-1", "--spec", write_spec())
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "rule C-1: Harming a feline"
    assert "  decision       refuse" in lines
    assert "  category       cats (authority platform)" in lines
    assert any("near miss" in line and "away from poison" in line for line in lines)


def test_explain_shows_what_overrides_a_rule(write_spec):
    folder = write_spec(
        cats__policy=CATS.replace(
            '"""Help with everyday cat care."""', '"""Care."""\n    overrides C-1'
        )
    )
    info = json.loads(run("explain", "C-1", "--spec", folder, "--format", "json").stdout)
    assert info["overridden_by"] == ["C-2"]
    assert json.loads(run("explain", "C-2", "--spec", folder, "--format", "json").stdout)[
        "overrides"
    ] == ["C-1"]


EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_explain_says_whether_a_rule_comes_from_the_base_or_the_layer():
    deployment = EXAMPLES / "deployment"
    base_rule = run("explain", "ERO-2", "--spec", deployment).stdout.splitlines()
    assert "  from           baseline 1.0.0, the base of adult_fiction" in base_rule
    assert "  overridden by  ERO-1, ERO-5, DEP-1" in base_rule
    info = json.loads(run("explain", "DEP-1", "--spec", deployment, "--format", "json").stdout)
    assert info["from"] == "adult_fiction 0.1.0" and info["overrides"] == ["ERO-2"]


def test_explain_shows_tool_matches():
    info = json.loads(
        run("explain", "AG-1", "--spec", EXAMPLES / "agent", "--format", "json").stdout
    )
    assert info["matches"] == [
        r"tool shell pattern /\b(rm|rmdir|shred|unlink)\s/",
        "tool delete_file",
    ]


def test_explain_unknown_id(write_spec):
    result = run("explain", "C-3", "--spec", write_spec())
    assert result.exit_code == 2
    assert "did you mean 'C-2'?" in result.stderr


def test_test_command_passes_and_fails(write_spec):
    assert run("test", write_spec()).exit_code == 0
    contradicted = CATS.replace(
        "How do I keep my cat away from poison?", "Is it illegal to poison a cat?"
    )
    result = run("test", write_spec(cats__policy=contradicted), "--format", "json")
    assert result.exit_code == 1


def test_every_command_help_shows_an_example():
    for command in ("check", "fmt", "explain", "test"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example: policyspec" in result.stdout


HEAVY_PACKAGES = {"compiler", "runtime", "verifier", "judge", "torch", "transformers"}


def test_help_lists_every_command_and_imports_none_of_their_heavy_modules():
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from policyspec.cli import app\n"
        "print(CliRunner().invoke(app, ['--help']).stdout)\n"
        "print(*sys.modules, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    commands = ("check", "compile", "generate", "verify", "eval", "judge")
    assert all(name in done.stdout for name in commands)
    assert not HEAVY_PACKAGES & {module.split(".")[0] for module in done.stderr.split()}


@pytest.mark.parametrize("name", LAZY_COMMANDS)
def test_lazy_command_summary_is_its_docstring(name):
    command = LAZY_COMMANDS[name].load(name)
    assert " ".join(command.help.split("\n\n")[0].split()) == LAZY_COMMANDS[name].summary
