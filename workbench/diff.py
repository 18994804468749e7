"""`policyspec diff OLD NEW`: what changed between two versions of a spec, by meaning.

Rules are compared by content hash: the rule's tree as JSON (spans and comments are
not part of it, so reformatting changes nothing), without its ID and `renamed_from`
(so a rename alone is a rename, not a change). A rule is renamed when the new spec
has it under an ID whose `renamed_from` names an ID the old spec used. The spec's
examples (of both versions) are decided under both versions to show where an
override or a decision changed which rule wins. Data that cites a rule removed or
changed in meaning is stale: its labels were made under the old rule.
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from core.diagnostics import InputError
from spec_lang import ast
from spec_lang.examples import applying_rules, example_hits
from spec_lang.loader import Spec, load
from spec_lang.matchers import Matchers
from spec_lang.semantics import Decision, decide


def rule_hash(rule: ast.Rule) -> str:
    """sha256 of what a rule says: its tree without spans, comments, ID or former IDs."""
    meaning = rule.model_dump(mode="json")
    del meaning["id"]
    meaning["statements"] = [s for s in meaning["statements"] if s["kind"] != "renamed_from"]
    return (
        "sha256:" + hashlib.sha256(orjson.dumps(meaning, option=orjson.OPT_SORT_KEYS)).hexdigest()
    )


@dataclass(frozen=True)
class WinnerChange:
    """An example the two versions decide differently (decision, or the rule that wins)."""

    location: str
    text: str
    expected: str
    old: Decision
    new: Decision


@dataclass(frozen=True)
class SpecDiff:
    added: tuple[str, ...]
    removed: tuple[str, ...]
    renamed: tuple[tuple[str, str], ...]  # (old ID, new ID)
    changed: tuple[str, ...]  # new IDs whose meaning changed
    winners: tuple[WinnerChange, ...]

    @property
    def stale_ids(self) -> frozenset[str]:
        """IDs data may cite for a rule removed or changed: old and new names alike."""
        old_of = {new: old for old, new in self.renamed}
        changed = {*self.changed, *(old_of[c] for c in self.changed if c in old_of)}
        return frozenset({*self.removed, *changed})

    def to_json(self) -> dict:
        return {
            "added": list(self.added),
            "removed": list(self.removed),
            "renamed": [{"from": old, "to": new} for old, new in self.renamed],
            "changed": list(self.changed),
            "winners_changed": [
                {
                    "at": w.location,
                    "text": w.text,
                    "expected": w.expected,
                    "old": {"decision": w.old.decision, "winner": w.old.winner},
                    "new": {"decision": w.new.decision, "winner": w.new.winner},
                }
                for w in self.winners
            ],
        }


def compare(old: Spec, new: Spec) -> SpecDiff:
    renamed = tuple(
        (previous.value, rule.id)
        for rule in new.rule_by_id.values()
        for previous in rule.renamed_from
        if previous.value in old.rule_by_id and previous.value not in new.rule_by_id
    )
    new_id = {**{r: r for r in old.rule_by_id if r in new.rule_by_id}, **dict(renamed)}
    removed = tuple(r for r in old.rule_by_id if r not in new_id)
    added = tuple(r for r in new.rule_by_id if r not in set(new_id.values()))
    changed = tuple(
        new_id[r]
        for r, rule in old.rule_by_id.items()
        if r in new_id and rule_hash(rule) != rule_hash(new.rule_by_id[new_id[r]])
    )
    return SpecDiff(added, removed, renamed, changed, tuple(_winners(old, new, dict(renamed))))


def _winners(old: Spec, new: Spec, renamed: dict[str, str]) -> Iterator[WinnerChange]:
    """Examples whose decision or winning rule differs (a renamed winner is the same rule)."""
    old_matchers, new_matchers = Matchers.for_spec(old), Matchers.for_spec(new)
    former = {new_id: old_id for old_id, new_id in renamed.items()}
    seen: set[tuple[str, str, tuple[str, ...]]] = set()
    for spec in (new, old):
        for rule in spec.rule_by_id.values():
            old_id = former.get(rule.id, rule.id) if spec is new else rule.id
            for example in rule.examples:
                key = (example.text, example.decision.value, tuple(n.value for n in example.cites))
                if key in seen:
                    continue
                seen.add(key)
                before = _decided(old, old_matchers, old_id, example)
                after = _decided(new, new_matchers, renamed.get(old_id, old_id), example)
                winner = renamed.get(before.winner, before.winner)
                if (before.decision, winner) != (after.decision, after.winner):
                    yield WinnerChange(
                        str(example.span), example.text, example.decision.value, before, after
                    )


def _decided(spec: Spec, matchers: Matchers, owner_id: str, example: ast.Example) -> Decision:
    """What `spec` decides for an example written in rule `owner_id` of either version."""
    current = spec.resolve(owner_id)
    owner = spec.rule_by_id[current] if current else None
    hits = example_hits(spec, matchers, example)
    return decide(spec, applying_rules(spec, owner, example, hits.fired), hits.suspended)


@dataclass(frozen=True)
class StaleRecord:
    file: str
    line: int
    record_id: str | None
    cites: tuple[str, ...]


def stale_records(files: list[Path], stale: frozenset[str]) -> Iterator[StaleRecord]:
    """Records of JSONL files (SFT records, transcripts) that cite a stale rule: in a
    `rule` field, or a `rules` or `cites` list, at any depth."""
    for path in files:
        for number, line in enumerate(_lines(path), start=1):
            if not line.strip():
                continue
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise InputError(f"{path}:{number}: not JSON ({error})") from None
            cited = tuple(dict.fromkeys(r for r in _cited(record) if r in stale))
            if cited:
                record_id = record.get("id") if isinstance(record, dict) else None
                yield StaleRecord(str(path), number, record_id, cited)


def _lines(path: Path) -> list[bytes]:
    try:
        return path.read_bytes().splitlines()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None


def _cited(value) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "rule" and isinstance(item, str):
                yield item
            elif key in ("rules", "cites") and isinstance(item, list):
                yield from (i for i in item if isinstance(i, str))
            else:
                yield from _cited(item)
    elif isinstance(value, list):
        for item in value:
            yield from _cited(item)


@contextmanager
def spec_at(where: str) -> Iterator[Spec]:
    """The spec at a folder or file, or at `REV:PATH` in the git repository here (read from
    `git archive` into a temporary folder)."""
    if Path(where).exists() or ":" not in where:
        yield load(where)
        return
    revision, _, path = where.partition(":")
    prefix = _git("rev-parse", "--show-prefix").decode().strip()
    archive = _git("archive", "--format=tar", revision, "--", path or ".")
    with tempfile.TemporaryDirectory(prefix="policyspec-diff-") as folder:
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        yield load(Path(folder) / prefix / path)


def _git(*args: str) -> bytes:
    try:
        done = subprocess.run(["git", *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError("git is not installed: give two folders instead") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise InputError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return done.stdout


def diff_text(difference: SpecDiff, stale: list[StaleRecord] | None) -> str:
    lines = []
    for label, ids in (("added", difference.added), ("removed", difference.removed)):
        lines.extend(f"{label:<9}{rule_id}" for rule_id in ids)
    lines.extend(f"renamed  {old} -> {new}" for old, new in difference.renamed)
    lines.extend(f"changed  {rule_id}" for rule_id in difference.changed)
    for change in difference.winners:
        before, after = _shown(change.old), _shown(change.new)
        lines.append(f"winner   {change.location}: {change.text!r}: {before} -> {after}")
    if stale is not None:
        for record in stale:
            named = f" ({record.record_id})" if record.record_id else ""
            cites = ", ".join(record.cites)
            lines.append(f"stale    {record.file}:{record.line}{named} cites {cites}")
    return "\n".join(lines) if lines else "no change in meaning"


def _shown(decision: Decision) -> str:
    return f"{decision.decision} by {decision.winner or 'default'}"
