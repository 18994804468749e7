"""Every syntax error of a file in one run, each said once, and the mistakes authors
make named as what they are (each was found by making it)."""

import re

import pytest

from core.diagnostics import render
from spec_lang import check, load
from spec_lang.parser import parse_all
from tests.pets import CATS

NO_TERMINAL_NAMES = re.compile(r"\b[A-Z]+_[A-Z_]+\b|__ANON|\$END|\bSEVERITY\b|\bSTRING\b")


def errors(text: str) -> list:
    _, found = parse_all(text, "t.policy")
    for diagnostic in found:
        assert diagnostic.code == "PS001"
        assert not NO_TERMINAL_NAMES.search(diagnostic.message), diagnostic.message
    return found


def where(diagnostic) -> tuple[int, int]:
    return diagnostic.span.line, diagnostic.span.column


THREE_ERRORS = """spec a "A" {
  version 1
}
category c "C" {
  rule R-1 comply "t" {
    severty high
    match keyword "x"
  }
  rule R-2 refuse {
    severity low
  }
}
"""


def test_three_separate_errors_are_exactly_three():
    found = errors(THREE_ERRORS)
    assert [where(d) for d in found] == [(2, 11), (6, 5), (9, 19)]
    assert found[0].message == "expected a quoted string, found '1'"
    assert found[1].hint == "did you mean 'severity'?"
    assert found[2].message == "expected a quoted string, found '{'"


def test_the_tree_of_a_file_with_errors_keeps_what_could_be_read():
    tree, _ = parse_all(THREE_ERRORS, "t.policy")
    (category,) = [d for d in tree.declarations if d.id == "c"]
    assert [r.id for r in category.rules] == ["R-1", "R-2"]
    assert category.rules[0].matches[0].keyword == "x"
    assert category.rules[1].severity.value == "low"


def test_a_missing_brace_is_one_error():
    text = 'category c "C" {\n  rule A refuse "T" {\n    severity high\n'
    text += '  rule B comply "U" {\n  }\n}\n'
    (found,) = errors(text)
    assert where(found) == (4, 3) and "or '}', found 'rule'" in found.message


def test_a_file_that_parses_has_no_errors():
    tree, found = parse_all(CATS, "cats.policy")
    assert found == [] and tree.declarations[0].id == "cats"


UNCLOSED_TEXT = """category c "C" {
  rule A refuse "T" {
    \"\"\"
    Never closed.
    severity high
  }
  rule B comply "U" {
    \"\"\"
    Responses must be calm.
    \"\"\"
  }
}
"""


def test_an_unclosed_text_is_reported_where_it_opens():
    (found,) = errors(UNCLOSED_TEXT)
    assert where(found) == (3, 5)
    assert "never closed" in found.message and "line 3" in found.message
    assert "Responses" not in found.message


def test_a_mistake_after_a_closed_text_is_not_taken_for_an_unclosed_text():
    text = 'category c "C" {\n  rule A refuse "T" {\n    """\n    Fine text.\n    """\n'
    text += "    severty high\n  }\n}\n"
    (found,) = errors(text)
    assert where(found) == (6, 5) and found.hint == "did you mean 'severity'?"


def test_an_unclosed_text_at_the_end_is_reported_where_it_opens():
    (found,) = errors('category c "C" {\n  summary """never closed\n}\n')
    assert where(found) == (2, 11) and "never closed" in found.message


@pytest.mark.parametrize(
    ("char", "name", "ascii"),
    [
        ("\u2011", "U+2011 NON-BREAKING HYPHEN", "-"),
        ("\u2013", "U+2013 EN DASH", "-"),
        ("\u2010", "U+2010 HYPHEN", "-"),
        ("\u041d", "U+041D CYRILLIC CAPITAL LETTER EN", "H"),
    ],
)
def test_look_alike_characters_are_named_with_the_ascii_to_use(char, name, ascii):
    text = f'category c "C" {{\n  rule S{char}1 refuse "T" {{\n    severity hgh\n  }}\n}}\n'
    found = errors(text)
    assert name in found[0].message and f"use '{ascii}'" in found[0].message
    assert where(found[0]) == (2, 9)
    # read on as if the ASCII character were there: the next error is the real one
    assert [where(d) for d in found] == [(2, 9)]


def test_curly_quotes_are_named_once():
    (found,) = errors("category c \u201cC\u201d {\n}\n")
    assert "U+201C LEFT DOUBLE QUOTATION MARK" in found.message and "use '\"'" in found.message
    assert where(found) == (1, 12)


def test_a_non_ascii_letter_in_an_id_is_pointed_at_and_named():
    text = 'category c "C" {\n  rule SH\u00e9-1 refuse "T" {\n  }\n}\n'
    (found,) = errors(text)
    assert where(found) == (2, 10)
    assert "U+00E9 LATIN SMALL LETTER E WITH ACUTE in the name 'SH\u00e9-1'" in found.message
    assert "expected a decision" not in found.message


@pytest.mark.parametrize(
    "text",
    ['category c "C" {\n  include "x.policy"\n}\n', 'include "x.policy"\ncategory c "C" {}\n'],
)
def test_include_outside_the_header_says_where_includes_go(text):
    (found,) = errors(text)
    assert "includes belong in the spec header" in found.hint


def test_a_line_separator_in_a_text_does_not_shift_the_line_shown():
    text = 'category c "C" {\n  summary """a\u2028b"""\n  rule X refuse "T" { severty high }\n}\n'
    (found,) = errors(text)
    assert where(found) == (3, 23)
    shown = render(found, {"t.policy": text})
    assert '3 |   rule X refuse "T" { severty high }' in shown


def test_hyphenated_decisions_are_suggested_for_their_parts(write_spec):
    folder = write_spec(
        pets__policy='spec pets "P" {\n  include "cats.policy"\n'
        "  decisions safe < unsafe-low < unsafe-high\n}\n",
        cats__policy=CATS.replace("refuse", "unsafe").replace("comply", "safe"),
    )
    found = [d for d in check(load(folder)) if d.code == "PS103"]
    assert found and all(d.message == "unknown decision 'unsafe'" for d in found)
    assert {d.hint for d in found} == {"did you mean 'unsafe-low' or 'unsafe-high'?"}


def test_a_three_rule_cycle_is_named_in_full(write_spec):
    rules = "\n".join(
        f'  rule S1-{a} comply "{a}" {{\n    """T."""\n    overrides S1-{b}\n'
        f'    example comply "x{a}"\n  }}'
        for a, b in (("a", "b"), ("b", "c"), ("c", "a"))
    )
    folder = write_spec(
        pets__policy='spec pets "P" {\n  include "cats.policy"\n  include "s1.policy"\n}\n',
        s1__policy=f'category s1 "S" {{\n  summary """S."""\n{rules}\n}}\n',
    )
    (found,) = [d for d in check(load(folder)) if d.code == "PS201"]
    assert found.message == "override cycle: S1-a → S1-b → S1-c → S1-a"


def test_a_rule_overriding_itself_is_said_so(write_spec):
    folder = write_spec(
        cats__policy=CATS.replace("severity high", "severity high\n    overrides C-1")
    )
    (found,) = [d for d in check(load(folder)) if d.code == "PS201"]
    assert found.message == "override cycle: 'C-1' overrides itself"


@pytest.mark.parametrize("used", ["felines", "feline"])
def test_a_definition_used_in_an_inflected_form_is_used(write_spec, used):
    folder = write_spec(
        cats__policy=CATS.replace('define "feline"', 'define "house feline"').replace(
            "Harming a feline", f"Harming house {used}"
        )
    )
    assert [d for d in check(load(folder)) if d.code == "PS602"] == []


def test_syntax_errors_of_every_file_are_reported_and_other_files_checked(write_spec):
    folder = write_spec(
        pets__policy='spec pets "P" {\n  version 1\n  include "cats.policy"\n'
        '  include "dogs.policy"\n}\n',
        cats__policy=CATS.replace("rule C-2 comply", "rule C-2").replace(
            "severity high", "severty high"
        ),
        dogs__policy='category dogs "Dogs" {\n  summary """Dogs."""\n  rule D-1 refuse "D" {\n'
        '    """Refuse."""\n    style nope\n    example refuse "hurt a dog"\n'
        '    example comply "walk a dog"\n  }\n}\n',
    )
    found = check(load(folder))
    syntax = [(d.span.file.rsplit("/", 1)[1], d.span.line) for d in found if d.code == "PS001"]
    assert syntax == [("cats.policy", 8), ("cats.policy", 14), ("pets.policy", 2)]
    assert [d.message for d in found if d.code == "PS102"] == ["undefined style 'nope'"]
