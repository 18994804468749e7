"""Checking what you are editing: any file of a spec, the current folder, a stray file."""

from typer.testing import CliRunner

from policyspec.cli import app
from tests.pets import CATS

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_a_file_of_a_spec_checks_that_spec_its_findings_first(write_spec):
    folder = write_spec(
        cats__policy=CATS.replace("style hard\n", "style hrad\n"),
        pets__policy='spec pets "Pet policy" {\n  include "cats.policy"\n  default nope\n}\n',
    )
    result = run("check", folder / "cats.policy")
    assert result.exit_code == 1
    assert "no spec header" not in result.output
    lines = [line for line in result.stdout.splitlines() if "error[" in line]
    assert "cats.policy" in lines[0] and "pets.policy" in lines[-1]
    assert "pets: 2 errors" in result.stdout


def test_a_file_in_a_folder_below_the_root_finds_it(write_spec):
    folder = write_spec()
    (folder / "more").mkdir()
    (folder / "more" / "birds.policy").write_text('category birds "Birds" {}\n')
    result = run("check", folder / "more" / "birds.policy")
    assert "pets:" in result.stdout and "birds.policy is in the spec folder" in result.stdout


def test_check_with_no_argument_checks_the_current_folder(write_spec, monkeypatch):
    monkeypatch.chdir(write_spec())
    result = run("check")
    assert result.exit_code == 0
    assert result.stdout.strip() == "pets: 0 errors, 0 warnings (2 rules in 2 files)"


def test_one_file_is_not_files(write_spec):
    folder = write_spec(pets__policy='spec pets "P" {}\n' + CATS.split("\n\nstyle")[0] + "\n")
    result = run("check", folder)
    assert "in 1 file)" in result.stdout and "1 files" not in result.stdout


def test_a_file_of_no_spec_gets_its_syntax_errors_and_a_note(tmp_path):
    (tmp_path / ".git").mkdir()  # the top of a repository: the search stops here
    stray = tmp_path / "stray.policy"
    stray.write_text('category c "C" {\n  rule R refuse "t" { severty high }\n  summary 3\n}\n')
    result = run("check", stray)
    assert result.exit_code == 1
    assert result.stdout.count("error[PS001]") == 2
    assert "info[PS010]" in result.stdout and "belongs to no spec" in result.stdout


def test_fmt_dot_inside_a_spec_folder(write_spec, monkeypatch):
    folder = write_spec(cats__policy=CATS.replace("  rule C-2", "      rule C-2"))
    monkeypatch.chdir(folder)
    result = run("fmt", ".")
    assert result.exit_code == 0, result.output
    assert "\n  rule C-2" in (folder / "cats.policy").read_text()
    result = run("fmt", "cats.policy")
    assert result.exit_code == 0, result.output
