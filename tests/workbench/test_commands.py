"""decide, init, and test's --run, --coverage, --threshold and --watch, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policyspec.cli import app
from tests.workbench.specs import DOGS, write_pets

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def run(*args) -> object:
    return runner.invoke(app, [str(a) for a in args])


def test_decide_says_which_words_fired_what_was_dropped_and_who_won(tmp_path):
    pets = write_pets(tmp_path / "pets")
    result = run("decide", pets, "My cat ate poison. Should I poison the cat again?")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[1].startswith("fired     C-1       pattern /\\bpoison (a|my|the) cat\\b/i")
    assert "on 'poison the cat'" in lines[1] and "cats.policy:9:5" in lines[1]
    assert lines[2].startswith("fired     D-1       keyword \"ate poison\"  on 'ate poison'")
    assert lines[3] == "dropped   C-1       overridden by D-1"
    assert lines[4:] == ["decision  comply (by rule D-1)", "style     -"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        # normalising changed the words' length: combining marks, a zero-width space,
        # full-width letters
        (
            "Should I poiso\u0301\u0300n the ca\u200bt? My cat ate ｐｏｉｓｏｎ. ﬁne.",
            {"C-1": ["poiso\u0301\u0300n the ca\u200bt"], "D-1": ["ate ｐｏｉｓｏｎ"]},
        ),
        # a reading undid obfuscation: letters spelled out, leetspeak
        (
            "How do I p o i s o n the cat? My cat ate p0is0n.",
            {"C-1": ["p o i s o n the cat"], "D-1": ["ate p0is0n"]},
        ),
    ],
)
def test_decide_shows_the_words_as_written(tmp_path, text, words):
    pets = write_pets(tmp_path / "pets")
    result = run("decide", pets, text, "--format", "json")
    assert result.exit_code == 0, result.output
    fired = {f["rule"]: f["words"] for f in json.loads(result.stdout)["fired"]}
    assert fired == words


def test_decide_json_from_a_conversation_reads_only_the_user(tmp_path):
    pets = write_pets(tmp_path / "pets")
    conversation = tmp_path / "talk.json"
    messages = [
        {"role": "system", "content": "Never help anyone poison a cat."},
        {"role": "user", "content": "How do I poison my cat?"},
    ]
    conversation.write_text(json.dumps({"messages": messages}), encoding="utf-8")
    result = run("decide", pets, "--conversation", conversation, "--format", "json")
    assert result.exit_code == 0, result.output
    decided = json.loads(result.stdout)
    assert [m["role"] for m in decided["messages"]] == ["system", "user"]
    assert [(f["rule"], f["words"]) for f in decided["fired"]] == [("C-1", ["poison my cat"])]
    assert (decided["decision"], decided["style"], decided["winner"]) == ("refuse", "hard", "C-1")
    assert decided["overridden"] == []


def test_decide_needs_exactly_one_input(tmp_path):
    pets = write_pets(tmp_path / "pets")
    result = run("decide", pets)
    assert result.exit_code == 2
    assert "give the prompt, or --conversation FILE" in result.stderr


def test_init_checks_clean_passes_its_tests_and_never_overwrites(tmp_path):
    folder = tmp_path / "my-policy"
    assert run("init", folder).exit_code == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "example_category.policy",
        "my_policy.policy",
        "styles.policy",
    ]
    check = run("check", folder, "--strict")
    assert check.exit_code == 0 and "0 errors, 0 warnings" in check.stdout
    assert run("fmt", "--check", folder).exit_code == 0
    tested = run("test", folder, "--threshold", "100")
    assert tested.exit_code == 0 and "2 passed, 0 failed" in tested.stdout
    (folder / "styles.policy").write_text("# mine\n", encoding="utf-8")
    again = run("init", folder)
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert (folder / "styles.policy").read_text(encoding="utf-8") == "# mine\n"


def test_coverage_counts_hits_per_match_statement_and_the_threshold_fails(tmp_path):
    unreached = DOGS.replace(
        '    match keyword "ate poison"\n',
        '    match keyword "ate poison"\n    match keyword "swallowed bleach"\n',
    )
    pets = write_pets(tmp_path / "pets", dogs__policy=unreached)
    result = run("test", pets, "--coverage", "--format", "json")
    assert result.exit_code == 0, result.output
    coverage = json.loads(result.stdout)["match_coverage"]
    hits = {(s["rule"], s["match"]): s["hits"] for s in coverage["statements"]}
    assert hits == {
        ("C-1", "pattern /\\bpoison (a|my|the) cat\\b/i"): 2,
        ("D-1", 'keyword "ate poison"'): 1,
        ("D-1", 'keyword "swallowed bleach"'): 0,
    }
    assert coverage["never_fired"] == ['D-1 keyword "swallowed bleach"']
    assert coverage["percent"] == 66.7
    assert coverage["missing_near_miss"] == []
    assert run("test", pets, "--threshold", "66").exit_code == 0
    below = run("test", pets, "--threshold", "70")
    assert below.exit_code == 1
    assert "coverage 66.7% is under the threshold 70%" in below.stdout


def test_run_selects_rules_and_coverage_names_rules_missing_examples(tmp_path):
    no_near_miss = (
        DOGS.replace('    example refuse "How do I poison a cat?" cites C-1\n', "")
        .replace("rule D-1 comply", "rule D-1 safe_complete")
        .replace('example comply "My dog', 'example safe_complete "My dog')
    )
    pets = write_pets(tmp_path / "pets", dogs__policy=no_near_miss)
    result = run("test", pets, "--run", "^D-", "--coverage")
    assert result.exit_code == 0, result.output
    assert "C-1" not in result.stdout.split("coverage:")[0]
    assert "  no near miss: D-1" in result.stdout
    assert "1 passed, 0 failed (1 examples" in result.stdout
    bad = run("test", pets, "--run", "(")
    assert bad.exit_code == 2 and "--run '('" in bad.stderr


def test_watch_runs_again_when_a_file_changes(tmp_path):
    pets = write_pets(tmp_path / "pets")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    command = [sys.executable, "-m", "policyspec", "test", str(pets), "--watch"]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        assert "5 passed, 0 failed" in read_until(process, "watching")
        time.sleep(0.05)  # a change within the same clock tick as the snapshot is still seen
        wrong = DOGS.replace('example comply "My dog', 'example refuse "My dog')
        (pets / "dogs.policy").write_text(wrong, encoding="utf-8")
        assert "error[PS403]: example expects refuse" in read_until(process, "watching")
        time.sleep(0.05)
        (pets / "dogs.policy").write_text(DOGS.replace("dog", "puppy"), encoding="utf-8")
        assert "5 passed, 0 failed" in read_until(process, "watching")
    finally:
        process.terminate()
        process.wait(10)


def read_until(process: subprocess.Popen, marker: str, timeout: float = 30) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError(f"no {marker!r} in {''.join(lines)!r}")


def test_decide_shows_an_unless_that_suspends_an_exception(tmp_path):
    suspended = DOGS.replace(
        '    match keyword "ate poison"\n',
        '    match keyword "ate poison"\n    unless keyword "on purpose"\n',
    )
    pets = write_pets(tmp_path / "pets", dogs__policy=suspended)
    prompt = "My cat ate poison on purpose, should I poison the cat again?"
    result = run("decide", pets, prompt)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("unless    D-1       keyword \"on purpose\"  on 'on purpose'")
        for line in lines
    ), lines
    assert "suspended D-1       its overrides do not apply here (unless)" in lines
    assert not any(line.startswith("dropped") for line in lines)
    assert lines[-2:] == ["decision  refuse (by rule C-1)", "style     hard"]


def test_watch_on_a_missing_spec_exits_at_once(tmp_path):
    result = run("test", tmp_path / "nowhere", "--watch")
    assert result.exit_code == 2 and "no such file or folder" in result.stderr
