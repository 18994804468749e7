"""Parsing: values, spans, comments, and syntax errors that speak in words."""

import re

import pytest

from spec_lang import SpecSyntaxError, ast, parse
from spec_lang.formatter import format_source


def error_of(text: str) -> SpecSyntaxError:
    with pytest.raises(SpecSyntaxError) as caught:
        parse(text, "t.policy")
    return caught.value


def test_rule_without_decision_says_what_was_expected():
    error = error_of('category c "C" {\n  rule C-1 "Title" {}\n}\n')
    assert error.diagnostic.message == (
        "expected a decision (such as comply, safe_complete or refuse), found a string"
    )
    assert (error.diagnostic.span.line, error.diagnostic.span.column) == (2, 12)


def test_misspelt_keyword_gets_did_you_mean():
    error = error_of('category c "C" {\n  rule C-1 comply "T" {\n    severty high\n  }\n}\n')
    assert error.diagnostic.hint == "did you mean 'severity'?"
    assert "found 'severty'" in error.diagnostic.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('spec a "A {\n}', "unterminated string"),
        ('category c "C" { summary """never closed }', "unterminated string"),
        ('spec a "A" {', "or '}', found the end of the file"),
        ('category c "C" { rule R comply "t" { match pattern /abc } }', "unterminated or empty"),
        ('spec a "A" { version "bad \\q escape" }', "invalid escape in string"),
        ("spec a 'A' {}", 'unexpected character "\'"'),
    ],
)
def test_syntax_errors_in_words(text, message):
    diagnostic = error_of(text).diagnostic
    assert message in diagnostic.message
    assert diagnostic.code == "PS001"
    assert not re.search(r"\b[A-Z]+_[A-Z_]+\b|__ANON|\$END", diagnostic.message)


def test_comment_inside_a_statement_is_explained():
    error = error_of('category c "C" {\n  rule R-1 comply "t" {\n    overrides A, # x\n B\n  }\n}')
    assert error.diagnostic.hint == "a comment stands on its own line or at the end of a statement"


def test_triple_quoted_text_is_dedented_like_a_docstring():
    tree = parse('style s "S" {\n  """First line,\n     second line.\n       indented."""\n}\n')
    (style,) = tree.declarations
    assert style.text == "First line,\nsecond line.\n  indented."


def test_short_strings_take_json_escapes():
    tree = parse('spec a "tab\\there \\"quoted\\" \\u00e9" {}')
    assert tree.declarations[0].title == 'tab\there "quoted" é'


def test_comments_are_kept_with_their_statements():
    tree = parse(
        "# leads the spec\n"
        'spec a "A" {  # after the brace\n'
        "  # leads version\n"
        '  version "1"  # after version\n'
        "  # before the closing brace\n"
        "}  # after the closing brace\n"
        "# at the end\n"
    )
    (header,) = tree.declarations
    (version,) = header.statements
    assert header.comments == ("# leads the spec",)
    assert header.trailing_comment == "# after the brace"
    assert header.closing_comment == "# after the closing brace"
    assert header.end_comments == ("# before the closing brace",)
    assert version.comments == ("# leads version",)
    assert version.trailing_comment == "# after version"
    assert tree.end_comments == ("# at the end",)


def test_spans_point_at_the_source():
    tree = parse(
        'category c "C" {\n  rule SH-2 refuse "T" {\n    overrides SH-1\n  }\n}\n', "x.policy"
    )
    rule = tree.declarations[0].rules[0]
    assert str(rule.id_span) == "x.policy:2:8"
    assert (rule.id_span.end_line, rule.id_span.end_column) == (2, 12)
    assert str(rule.overrides[0].span) == "x.policy:3:15"


def test_default_names_a_decision_and_optionally_a_style():
    source = 'spec s "S" {\n  default comply style plain\n}\n'
    header = parse(source).declarations[0]
    assert (header.default.value, header.default_style.value) == ("comply", "plain")
    assert format_source(source, "s.policy") == source
    bare = parse('spec s "S" {\n  default comply\n}\n').declarations[0]
    assert (bare.default.value, bare.default_style) == ("comply", None)


def test_keywords_are_reserved_only_where_a_keyword_fits():
    tree = parse('category style "C" { rule default refuse "T" { style summary } }')
    rule = tree.declarations[0].rules[0]
    assert (tree.declarations[0].id, rule.id, rule.style.value) == ("style", "default", "summary")


def test_equality_ignores_spans_but_not_content():
    one = parse('spec a "A" { version "1" }')
    moved = parse('\n\n   spec   a "A" {\n version "1"\n}')
    other = parse('spec a "A" { version "2" }')
    assert one == moved and one != other
    assert isinstance(one.declarations[0], ast.SpecHeader)


def test_a_copy_never_serves_views_of_the_original():
    """Views are cached on a node; a copy with other statements computes its own."""
    import copy

    tree = parse(
        'category c "C" {\n  rule R-1 refuse "R" {\n    """x"""\n    style hard\n  }\n}\n'
        'style hard "H" {\n  """y"""\n}\n'
    )
    rule = tree.declarations[0].rules[0]
    assert rule.style.value == "hard"  # computed and cached on the original
    assert rule.model_copy(update={"statements": ()}).style is None
    assert copy.copy(rule).style.value == "hard" and copy.deepcopy(rule).style.value == "hard"
