"""Completion read from the grammar: what it offers where, and that no cursor anywhere in
a file (nor in a half-typed one) makes it fail."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import spec_lang
from tests.pets import CATS
from tests.workbench.specs import DOGS, write_pets
from workbench.completion import suggestions

TEXTS = (CATS, DOGS)


def offered(text: str, spec=None) -> set[str]:
    return {s.label for s in suggestions(text, len(text), spec)}


def test_statements_by_block_and_names_by_kind(tmp_path):
    spec = spec_lang.load(write_pets(tmp_path / "pets"))
    rule_body = 'category x "X" {\n  rule A-1 refuse "t" {\n    '
    assert "severity SEVERITY" in offered(rule_body, spec)
    assert 'summary "…"' not in offered(rule_body, spec)  # a category's, not a rule's
    assert offered('category x "X" {\n  ', spec) >= {'summary "…"', 'rule RULE_ID DECISION "…" { }'}
    assert offered(rule_body + "overrides ", spec) == {"C-1", "C-2", "D-1"}
    assert offered(rule_body + "overrides C-1, ", spec) == {"C-1", "C-2", "D-1"}
    assert offered(rule_body + "style ", spec) == {"hard"}
    assert offered(rule_body + "example ", spec) == {"comply", "safe_complete", "refuse"}
    assert offered(rule_body + "severity ", spec) == {"low", "medium", "high", "critical"}
    assert offered("category ", spec) == set()  # a new name: nothing to offer
    assert offered(rule_body + 'example comply "half a str', spec) == set()
    assert offered(rule_body + "# a comment ", spec) == set()


def test_the_word_being_typed_is_completed(tmp_path):
    spec = spec_lang.load(write_pets(tmp_path / "pets"))
    text = 'category x "X" {\n  rule A-1 refuse "t" {\n    overrides C-'
    assert {"C-1", "C-2", "D-1"} == offered(text, spec)  # the client filters by the prefix


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(TEXTS), st.data())
def test_any_cursor_in_a_file_gives_an_answer(text, data):
    offset = data.draw(st.integers(0, len(text)))
    junk = data.draw(st.text(alphabet='{}"#/ \nabc-1,<', max_size=8))
    edited = text[:offset] + junk
    for suggestion in suggestions(edited, len(edited), None):
        assert suggestion.label and suggestion.kind
