"""Item 1: every command with -o refuses an output that is an input, or an existing path
that is not what it writes, with one line and exit 2, and leaves it untouched."""

import os
import shutil
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from policyspec.cli import app
from tests.verifier.factory import SPEC_DIR, consistent, load_spec

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def refused(result, *paths: Path, before: dict) -> None:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    for path in paths:
        assert snapshot(path) == before[path]


def snapshot(path: Path):
    if path.is_dir():
        return {str(p): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}
    return path.read_bytes()


@pytest.fixture
def spec(tmp_path) -> Path:
    folder = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, folder)
    return folder


@pytest.fixture
def transcripts(tmp_path) -> Path:
    path = tmp_path / "runs.jsonl"
    path.write_bytes(orjson.dumps(consistent(load_spec(), ["WP-2"])) + b"\n")
    return path


def test_verify_refuses_its_input_as_output(spec, transcripts):
    before = {transcripts: snapshot(transcripts)}
    refused(run("verify", spec, transcripts, "-o", transcripts), transcripts, before=before)


def test_verify_refuses_a_hard_link_or_symlink_to_an_input(spec, transcripts, tmp_path):
    linked, hard = tmp_path / "linked.jsonl", tmp_path / "hard.jsonl"
    linked.symlink_to(transcripts)
    os.link(transcripts, hard)
    before = {transcripts: snapshot(transcripts)}
    for output in (linked, hard):
        refused(run("verify", spec, transcripts, "-o", output), transcripts, before=before)


def test_verify_refuses_a_spec_file_and_a_file_that_is_not_a_report(spec, transcripts, tmp_path):
    root = next(spec.glob("*.policy"))
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    before = {root: snapshot(root), notes: snapshot(notes)}
    refused(run("verify", spec, transcripts, "-o", root), root, before=before)
    refused(run("verify", spec, transcripts, "-o", notes), notes, before=before)


def test_verify_replaces_an_earlier_report(spec, transcripts, tmp_path):
    report = tmp_path / "report.jsonl"
    assert run("verify", spec, transcripts, "-o", report).exit_code == 0
    first = report.read_bytes()
    assert run("verify", spec, transcripts, "-o", report).exit_code == 0
    assert report.read_bytes() == first


def test_generate_refuses_a_file_that_is_not_transcripts_without_cutting_it(spec, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b'{"a": 1}\nno newline at the end')
    before = {notes: snapshot(notes)}
    refused(run("generate", spec, "--examples", "-o", notes), notes, before=before)


def test_generate_refuses_its_prompts_as_output(spec, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"id": "p1", "prompt": "How do I bake bread?"}\n')
    before = {prompts: snapshot(prompts)}
    refused(run("generate", spec, "--prompts", prompts, "-o", prompts), prompts, before=before)
    other = tmp_path / "other.jsonl"  # another prompts file: not transcripts either
    other.write_bytes(prompts.read_bytes())
    before[other] = snapshot(other)
    refused(run("generate", spec, "--prompts", prompts, "-o", other), other, before=before)


def test_generate_refuses_a_transcripts_file_with_a_bad_line_before_cutting(spec, tmp_path):
    output = tmp_path / "t.jsonl"
    good = orjson.dumps({"id": "a", "messages": [], "output": {}})
    output.write_bytes(good + b"\nnot a transcript\n" + b'{"id": "cut')
    before = {output: snapshot(output)}
    refused(run("generate", spec, "--examples", "-o", output), output, before=before)


def test_compile_refuses_the_spec_folder_a_spec_file_and_foreign_paths(spec, tmp_path):
    root = next(spec.glob("*.policy"))
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "keep.txt").write_text("mine")
    before = {spec: snapshot(spec), notes: snapshot(notes), mine: snapshot(mine)}
    for output in (spec, root, notes, mine):
        result = run("compile", spec, "-t", "schema", "-o", output)
        refused(result, spec, notes, mine, before=before)


def test_compile_into_a_new_or_an_earlier_compile_folder(spec, tmp_path):
    out = tmp_path / "build"
    assert run("compile", spec, "-t", "schema", "-o", out).exit_code == 0
    assert run("compile", spec, "-t", "llamaguard", "-o", out).exit_code == 0
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert set(manifest["targets"]) == {"schema", "llamaguard"}


def test_verify_removes_a_report_temporary_left_by_a_killed_run(spec, transcripts, tmp_path):
    import subprocess
    import sys

    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    left = tmp_path / f".policyspec-{int(child.stdout)}-report.jsonl.k1ll3d.tmp"
    left.write_bytes(b"x" * 1000)
    assert run("verify", spec, transcripts, "-o", tmp_path / "report.jsonl").exit_code == 0
    assert not left.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".policyspec-")]
