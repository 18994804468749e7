"""Trees as plain JSON, spans and comments included, for the golden parse test.

The golden files under tests/spec_lang/golden/ were written by the hand-written
parser (commit 7520483, the last that has it) before lark replaced it:

    PYTHONPATH=. python -m tests.spec_lang.tree_dump

They are not to be rewritten by the parser they check; a change to the tree or
its spans is a change to the language, made here by hand and said in the commit.
"""

from __future__ import annotations

import gzip
import json
import sys
import tempfile
from pathlib import Path

from spec_lang import SpecSyntaxError, ast, parse

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
sys.path.insert(0, str(ROOT / "benchmarks"))
from specgen import write_spec  # noqa: E402

# Generated specs: (rules, rules per category).
GENERATED = ((40, 10), (23, 7))


def dump(value):
    """A node as [type, field values...] in field order; spans as lists. A field the
    language gained later is dumped only when set (`default ... style`), so trees of
    sources written before it compare with the dumps made then."""
    if isinstance(value, ast.Node):
        fields = [
            dump(getattr(value, name))
            for name, field in type(value).model_fields.items()
            if field.exclude_if is None or not field.exclude_if(getattr(value, name))
        ]
        return [type(value).__name__, *fields]
    if isinstance(value, ast.SourceSpan):
        return list(value)
    if isinstance(value, tuple):
        return [dump(v) for v in value]
    return value


def dump_text(text: str, path: str):
    """The tree of `text`, or its syntax error as [code, message, span, hint]."""
    try:
        return dump(parse(text, path))
    except SpecSyntaxError as error:
        d = error.diagnostic
        return ["error", d.code, d.message, list(d.span), d.hint]


def repository_files() -> dict[str, str]:
    """Every .policy file in the repository that git knows, by path from the root."""
    import subprocess

    names = subprocess.run(
        ["git", "ls-files", "*.policy"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return {name: (ROOT / name).read_text() for name in names}


def generated_files() -> dict[str, str]:
    found = {}
    with tempfile.TemporaryDirectory() as scratch:
        for rules, per in GENERATED:
            folder = write_spec(Path(scratch) / f"gen-{rules}-{per}", rules, per)
            for path in sorted(folder.glob("*.policy")):
                found[f"gen-{rules}-{per}/{path.name}"] = path.read_text()
    return found


def sources() -> dict[str, dict[str, str]]:
    return {"repository": repository_files(), "generated": generated_files()}


SPEC_FOLDERS = (
    "policies",
    "examples/moderation",
    "tests/compiler/specs/mini",
    "tests/verifier/specs/baseline",
)


def corpus() -> dict[str, dict[str, str]]:
    """The sources the golden trees were dumped from, frozen beside them: the repository's
    .policy files and the generated specs as they were when the hand-written parser ran,
    so the comparison holds while the repository's specs change."""
    with gzip.open(GOLDEN / "corpus.json.gz", "rt", encoding="utf-8") as stored:
        return json.load(stored)


def content_hashes(files: dict[str, dict[str, str]]) -> dict[str, str]:
    """The content hash of every spec folder of the corpus, loaded from a scratch copy."""
    from spec_lang import load

    folders = {f"repository/{folder}": (files["repository"], folder) for folder in SPEC_FOLDERS}
    for name in files["generated"]:
        folder = name.split("/")[0]
        folders[folder] = (files["generated"], folder)
    hashes = {}
    with tempfile.TemporaryDirectory() as scratch:
        for key, (group, folder) in folders.items():
            target = Path(scratch) / key
            for name, text in group.items():
                if name.startswith(folder + "/"):
                    path = target / name[len(folder) + 1 :]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text)
            hashes[key.removeprefix("repository/")] = load(target).content_hash
    return hashes


def main() -> None:
    """Write the corpus from the repository as it is now, and its trees, spans and hashes."""
    GOLDEN.mkdir(exist_ok=True)
    files = sources()
    data = json.dumps(files, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    with gzip.open(GOLDEN / "corpus.json.gz", "wt", encoding="utf-8") as out:
        out.write(data)
    hashes = json.dumps(content_hashes(files), indent=1, sort_keys=True)
    (GOLDEN / "content_hashes.json").write_text(hashes + "\n")
    for group, group_files in files.items():
        trees = {name: dump_text(text, name) for name, text in group_files.items()}
        data = json.dumps(trees, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
        with gzip.open(GOLDEN / f"{group}.json.gz", "wt", encoding="utf-8") as out:
            out.write(data)


if __name__ == "__main__":
    main()
