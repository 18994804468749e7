"""Properties over generated specs and arbitrary text."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec_lang import SpecSyntaxError, ast, format_file, parse

SPAN = ast.SourceSpan(file="g.policy", line=1, column=1, end_line=1, end_column=1)
KEYWORDS = {
    "spec", "version", "decisions", "default", "include", "category", "authority", "summary",
    "define", "rule", "style", "severity", "overrides", "match", "keyword", "pattern",
    "deprecated", "renamed_from", "example", "cites", "max_sentences", "max_words", "require",
    "forbid", "severities", "attribute", "code", "in", "last", "when", "unless", "with",
    "language", "country", "opens",
}  # fmt: skip

identifiers = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,8}([-.][A-Za-z0-9_]{1,3}){0,2}\Z").filter(
    lambda s: s not in KEYWORDS
)
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
prose = st.one_of(
    texts,
    st.lists(st.text(string.printable, max_size=20), max_size=4).map("\n".join),
)
comment_text = string.printable.translate({ord(c): None for c in "\n\r\x0b\x0c"})
comment = st.text(comment_text, max_size=15).map(lambda s: ("# " + s).rstrip())
comments = st.lists(comment, max_size=2)
patterns = st.builds(
    lambda source, flags: ast.Pattern(source=source, flags=flags, span=SPAN),
    st.from_regex(r"\A[a-z \\.()|+*?]{0,10}[a-z]\Z").filter(
        lambda s: s[0] not in "/*" and not s.endswith("\\")
    ),
    st.sampled_from(["", "i", "is", "m"]),
)


def name(value):
    return ast.Name(value=value, span=SPAN)


def statement(kind, **fields):
    return st.builds(
        lambda c, t, f: kind(comments=tuple(c), trailing_comment=t, span=SPAN, **f),
        comments,
        st.none() | comment,
        st.fixed_dictionaries(fields),
    )


def block(kind, statements, **fields):
    return st.builds(
        lambda c, t, closing, end, body, f: kind(
            comments=tuple(c),
            trailing_comment=t,
            closing_comment=closing,
            end_comments=tuple(end),
            statements=tuple(body),
            span=SPAN,
            **f,
        ),
        comments,
        st.none() | comment,
        st.none() | comment,
        comments,
        st.lists(statements, max_size=4),
        st.fixed_dictionaries(fields),
    )


names = identifiers.map(name)
readers = st.none() | st.builds(
    lambda role, last: ast.Reads(role=role, last=last, span=SPAN),
    st.sampled_from(ast.READER_ROLES).map(name),
    st.booleans(),
)


def bare(kind, **fields):
    """A statement nested in another (an `unless` condition): it has no comments of its own."""
    return st.builds(lambda f: kind(span=SPAN, **f), st.fixed_dictionaries(fields))


attribute_tests = bare(ast.AttributeTest, attribute=names, value=names)
matcher_fields = (
    (ast.MatchKeyword, {"keyword": texts, "reads": readers}),
    (ast.MatchPattern, {"pattern": patterns, "reads": readers}),
)
matchers = st.one_of(*(statement(kind, **fields) for kind, fields in matcher_fields))
conditions = st.one_of(attribute_tests, *(bare(kind, **fields) for kind, fields in matcher_fields))
examples = st.one_of(
    st.builds(
        lambda d, text, cites: ast.Example(
            decision=d,
            block=False,
            statements=(ast.Message(role=name("user"), content=text, span=SPAN),)
            + ((ast.Cites(rules=tuple(cites), span=SPAN),) if cites else ()),
            span=SPAN,
        ),
        names,
        texts,
        st.lists(names, max_size=2),
    ),
    block(
        ast.Example,
        st.one_of(
            statement(ast.Message, role=names, content=texts),
            statement(ast.Cites, rules=st.lists(names, min_size=1, max_size=3).map(tuple)),
            statement(ast.ExampleWith, test=attribute_tests),
        ),
        decision=names,
        block=st.just(True),
    ),
)
rule_statements = st.one_of(
    statement(ast.Text, value=prose),
    statement(ast.StyleRef, style=names),
    statement(ast.SeverityStatement, level=names),
    statement(ast.Overrides, rules=st.lists(names, min_size=1, max_size=3).map(tuple)),
    matchers,
    statement(ast.When, test=attribute_tests),
    statement(ast.Unless, condition=conditions),
    statement(ast.Deprecated, reason=texts),
    statement(ast.RenamedFrom, old_id=names),
    examples,
)
rules = block(
    ast.Rule, rule_statements, id=identifiers, id_span=st.just(SPAN), decision=names, title=texts
)
category_statements = st.one_of(
    statement(ast.AuthorityStatement, level=names),
    statement(ast.Summary, value=prose),
    statement(ast.Define, term=texts, value=prose),
    statement(ast.CategoryCode, code=names),
    statement(ast.RenamedFrom, old_id=names),
    rules,
)
style_statements = st.one_of(
    statement(ast.Text, value=prose),
    statement(ast.MaxSentences, value=st.integers(0, 10**6)),
    statement(ast.MaxWords, value=st.integers(0, 10**6)),
    statement(ast.Language, value=names),
    statement(ast.Country, country=names, pattern=patterns),
    statement(ast.Opens, pattern=patterns),
    statement(ast.Require, pattern=patterns),
    statement(ast.Forbid, pattern=patterns),
)
spec_statements = st.one_of(
    statement(ast.Version, value=texts),
    statement(ast.Decisions, labels=st.lists(names, min_size=1, max_size=4).map(tuple)),
    statement(ast.Default, decision=names),
    statement(ast.Severities, labels=st.lists(names, min_size=1, max_size=4).map(tuple)),
    statement(ast.Attribute, name=names, values=st.lists(names, min_size=1, max_size=3).map(tuple)),
    statement(ast.Include, path=texts),
)
declarations = st.one_of(
    block(ast.SpecHeader, spec_statements, id=identifiers, id_span=st.just(SPAN), title=texts),
    block(ast.Category, category_statements, id=identifiers, id_span=st.just(SPAN), title=texts),
    block(ast.Style, style_statements, id=identifiers, id_span=st.just(SPAN), title=texts),
)
files = st.builds(
    lambda header, decls, end: ast.PolicyFile(
        path="g.policy",
        comments=tuple(header) if decls else (),  # a header needs a declaration to stand apart from
        declarations=tuple(decls),
        end_comments=tuple(end),
        span=SPAN,
    ),
    comments,
    st.lists(declarations, max_size=3),
    comments,
)

SLOW = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW
@given(files)
def test_parse_of_format_is_the_same_tree(tree):
    assert parse(format_file(tree), "g.policy") == tree


@SLOW
@given(files)
def test_format_is_idempotent(tree):
    once = format_file(tree)
    assert format_file(parse(once, "g.policy")) == once


def parses_or_fails_cleanly(text: str) -> None:
    try:
        parse(text, "junk.policy")
    except SpecSyntaxError as error:
        span = error.diagnostic.span
        assert span.file == "junk.policy" and span.line >= 1 and span.column >= 1


@SLOW
@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_syntax_errors(text):
    parses_or_fails_cleanly(text)


@SLOW
@given(st.binary(max_size=300))
def test_binary_junk_only_raises_syntax_errors(data):
    parses_or_fails_cleanly(data.decode("utf-8", errors="surrogateescape"))


punctuation = ["{", "}", "<", ",", "/", '"', '"""', "\n", "# c\n"]
vocabulary = st.sampled_from([*KEYWORDS, *punctuation, '"s"', '"""t"""', "/p/i", "12", "SH-1"])


@SLOW
@given(st.lists(vocabulary, max_size=60))
def test_token_soup_only_raises_syntax_errors(words):
    parses_or_fails_cleanly(" ".join(words))


def test_deep_nesting_and_huge_input_fail_cleanly():
    parses_or_fails_cleanly("{" * 100_000)
    parses_or_fails_cleanly('category c "C" {' * 20_000)
    parses_or_fails_cleanly('"' + "x" * 5_000_000)
    parses_or_fails_cleanly("example comply " * 50_000)
