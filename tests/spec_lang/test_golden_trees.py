"""lark builds the trees, spans and comments the hand-written parser built.

The golden dumps were written by the hand-written parser before it was replaced
(tests/spec_lang/tree_dump.py says how), from every .policy file the repository had
then and the specs benchmarks/specgen.py wrote; those sources are kept beside them
(corpus.json.gz), parsed again and compared.
"""

import functools
import gzip
import json

import pytest

from spec_lang import parser
from tests.spec_lang import tree_dump

SOURCES = tree_dump.corpus()


@functools.cache
def golden(group: str) -> dict:
    with gzip.open(tree_dump.GOLDEN / f"{group}.json.gz", "rt", encoding="utf-8") as stored:
        return json.load(stored)


@pytest.mark.parametrize("group", sorted(SOURCES))
def test_every_file_is_dumped(group):
    assert sorted(golden(group)) == sorted(SOURCES[group])


@pytest.mark.parametrize(
    ("group", "name"), [(group, name) for group in sorted(SOURCES) for name in SOURCES[group]]
)
def test_tree_spans_and_comments_are_the_hand_written_parsers(group, name):
    expected = golden(group)[name]
    found = json.loads(json.dumps(tree_dump.dump_text(SOURCES[group][name], name)))
    assert found == expected


@pytest.mark.parametrize("name", sorted(SOURCES["repository"]))
def test_plain_lark_builds_the_same_trees(name):
    """Files that parse are read by lark-cython where it is installed, files that do not
    by plain lark (with recovery): both build one tree."""
    lark, build = parser.PARSERS.python
    text = SOURCES["repository"][name]
    tree = parser._run(lark, build, text, name)
    assert json.loads(json.dumps(tree_dump.dump(tree))) == golden("repository")[name]


def test_content_hashes_are_unchanged():
    expected = json.loads((tree_dump.GOLDEN / "content_hashes.json").read_text())
    assert tree_dump.content_hashes(SOURCES) == expected


def test_the_docs_show_the_grammar_file():
    docs = (tree_dump.ROOT / "docs" / "language.md").read_text()
    shown = docs.split("```lark\n", 1)[1].split("```\n", 1)[0]
    assert shown == parser.GRAMMAR.read_text()
