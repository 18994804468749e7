"""policyspec diff: two folders or two git revisions; renames, changes in meaning, winners
that changed for the examples, and the data a change makes stale."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from typer.testing import CliRunner

from policyspec.cli import app
from tests.pets import CATS
from tests.workbench.specs import DOGS, write_pets
from workbench.diff import rule_hash

runner = CliRunner()
BOTH = '    example comply "My cat ate poison; did they poison the cat?"\n'
OLD_DOGS = DOGS.replace('    example refuse "How', BOTH + '    example refuse "How')


def diff(*args) -> dict:
    result = runner.invoke(app, ["diff", *map(str, args), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_reformatting_and_comments_change_no_hash(tmp_path):
    old = write_pets(tmp_path / "old", dogs__policy=OLD_DOGS)
    reformatted = OLD_DOGS.replace("    overrides C-1\n", "      overrides   C-1  # why\n")
    new = write_pets(tmp_path / "new", dogs__policy=reformatted)
    assert diff(old, new) == {
        "added": [],
        "removed": [],
        "renamed": [],
        "changed": [],
        "winners_changed": [],
    }
    text = runner.invoke(app, ["diff", str(old), str(new)]).stdout
    assert text.strip() == "no change in meaning"


def test_rename_change_and_a_dropped_override_that_changes_the_winner(tmp_path):
    old = write_pets(tmp_path / "old", dogs__policy=OLD_DOGS)
    renamed = CATS.replace("rule C-2 comply", "rule C-3 comply").replace(
        '    """Help with everyday', '    renamed_from C-2\n    """Help with everyday'
    )
    new_dogs = OLD_DOGS.replace("    overrides C-1\n", "")
    added = '\n  rule D-2 comply "Dog food" {\n    """Help."""\n  }\n}\n'
    new = write_pets(tmp_path / "new", cats__policy=renamed, dogs__policy=new_dogs[:-2] + added)
    found = diff(old, new)
    assert found["renamed"] == [{"from": "C-2", "to": "C-3"}]
    assert found["added"] == ["D-2"] and found["removed"] == []
    assert found["changed"] == ["D-1"]  # the override; C-3 is C-2 renamed, same meaning
    (winner,) = found["winners_changed"]
    assert winner["text"] == "My cat ate poison; did they poison the cat?"
    assert winner["old"] == {"decision": "comply", "winner": "D-1"}
    assert winner["new"] == {"decision": "refuse", "winner": "C-1"}


def test_data_citing_a_changed_or_removed_rule_is_stale(tmp_path):
    old = write_pets(tmp_path / "old", dogs__policy=OLD_DOGS)
    without_c2 = CATS.split("\n  rule C-2")[0] + "\n}\n" + CATS.split("\n}\n", 1)[1]
    changed = without_c2.replace("severity high", "severity critical")
    new = write_pets(tmp_path / "new", cats__policy=changed, dogs__policy=OLD_DOGS)
    records = tmp_path / "sft.jsonl"
    lines = [
        {"id": "a", "rules": ["C-2"]},  # removed
        {"id": "b", "rules": ["D-1"]},  # unchanged
        {"id": "c", "output": {"reasoning": [{"rule": "C-1", "claim": "..."}]}},  # changed
        {"id": "d", "messages": [], "rules": []},
    ]
    records.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    found = diff(old, new, "--data", records)
    assert found["removed"] == ["C-2"] and found["changed"] == ["C-1"]
    assert [(s["line"], s["id"], s["cites"]) for s in found["stale"]] == [
        (1, "a", ["C-2"]),
        (3, "c", ["C-1"]),
    ]


def test_two_git_revisions_of_one_folder(tmp_path, monkeypatch):
    repository = tmp_path / "repo"
    spec = write_pets(repository / "spec", dogs__policy=OLD_DOGS)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(repository)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "one"], check=True)
    (spec / "dogs.policy").write_text(OLD_DOGS.replace("rule D-1 comply", "rule D-1 safe_complete"))
    subprocess.run([*git, "commit", "-qam", "two"], check=True)
    monkeypatch.chdir(repository)
    found = diff("HEAD~1:spec", "HEAD:spec")
    assert found["changed"] == ["D-1"]
    assert {w["new"]["decision"] for w in found["winners_changed"]} == {"safe_complete"}
    missing = runner.invoke(app, ["diff", "nope:spec", "spec"])
    assert missing.exit_code == 2 and "git archive" in missing.stderr


def test_rule_hash_ignores_the_id_and_former_ids(tmp_path):
    from spec_lang import parse

    first = parse(CATS).declarations[0].rules[1]
    moved = CATS.replace("rule C-2", "rule C-5").replace(
        '    """Help with everyday', '    renamed_from C-2\n    """Help with everyday'
    )
    second = parse(moved).declarations[0].rules[1]
    assert rule_hash(first) == rule_hash(second)
    assert rule_hash(first) != rule_hash(
        parse(CATS.replace("everyday", "daily")).declarations[0].rules[1]
    )


def test_the_default_spec_reformatted_keeps_every_rule_hash(tmp_path):
    import shutil

    from spec_lang import load
    from spec_lang.formatter import format_source

    root = Path(__file__).resolve().parents[2] / "policies"
    copy = tmp_path / "policies"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    for file in copy.glob("*.policy"):
        squeezed = "\n".join(line.strip() for line in file.read_text().splitlines())
        file.write_text(format_source(squeezed, str(file)))
    before, after = load(root), load(copy)
    assert {r.id: rule_hash(r) for r in before.rules} == {r.id: rule_hash(r) for r in after.rules}
