"""Text to syntax tree with lark, and syntax errors in words.

spec_lang/policy.lark is the language's definition (docs/language.md shows it).
lark reads it LALR with its contextual lexer and builds the tree inline: each
rule's callback in `_Build` makes its node as the rule is reduced, so no parse
tree is ever built. `lark-cython` (the `fast` extra) is used when installed.

A file that does not parse is read again with recovery (`parse_all`): every
syntax error is reported once, a missing string, name or brace is supplied, and
anything else is skipped to the next line, where the next statement starts.
"""

from __future__ import annotations

import gc
import json
import os
import re
import textwrap
import threading
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from copy import copy
from pathlib import Path
from typing import NamedTuple

from lark import Lark, Token, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from core.diagnostics import Diagnostic, did_you_mean
from spec_lang import ast
from spec_lang.diagnostics import SpecSyntaxError
from spec_lang.text import excerpt

SYNTAX_ERROR = "PS001"
GRAMMAR = Path(__file__).with_name("policy.lark")

# What each terminal is, in words, for syntax errors; a keyword is shown quoted.
WORDS = {
    "SPEC_ID": "a spec name",
    "CATEGORY_ID": "a category ID",
    "RULE_ID": "a rule ID (like SH-2)",
    "STYLE_ID": "a style ID",
    "DECISION": "a decision (such as comply, safe_complete or refuse)",
    "AUTHORITY": "an authority (platform, developer or user)",
    "ANSWER_KIND": "what a decision asks of the answer (comply, safe_complete, refuse or none)",
    "SEVERITY": "a severity (low, medium, high or critical, or one the spec declares)",
    "ROLE": "a message role (user, assistant, system, developer or tool)",
    "ATTRIBUTE": "an attribute of the conversation (declared with `attribute`)",
    "VALUE": "a value of the attribute",
    "EXPORT_CODE": "an export code (like S9)",
    "TOOL_ID": "a tool name",
    "ARGUMENT": "an argument name",
    "LANGUAGE": "a language (user, or a code such as en)",
    "COUNTRY": "a country code (ISO 3166-1, such as GB) or any",
    "STRING": "a quoted string",
    "REGEX": "a /pattern/",
    "INT": "a whole number",
}
NAME_KINDS = frozenset(WORDS) - {"STRING", "REGEX", "INT"}
_NOT_EXPECTED = frozenset({"COMMENT", "WORD", "$END"})

# A NamedTuple's own constructor is a Python function: calling tuple.__new__ directly
# builds the ~150,000 spans of a 10,000-rule spec in half the time.
_new_span = tuple.__new__
_SpanType = ast.SourceSpan


MAX_WHOLE_NUMBER = 10**9
_SURROGATE = re.compile("[\ud800-\udfff]")


class Comment(NamedTuple):
    line: int
    text: str


def string_value(literal: str) -> str:
    """The value of a string literal: triple-quoted text is raw and dedented, short text is JSON."""
    if not literal.startswith('"""'):
        return literal[1:-1] if "\\" not in literal else json.loads(literal, strict=False)
    # As in a Python docstring (PEP 257): closing quotes on a line of their own add
    # nothing, and the margin is taken from the lines after the first.
    body = literal[3:-3]
    above, newline, last_line = body.rpartition("\n")
    if newline and not last_line.strip(" \t"):
        body = above
    if body.startswith("\n"):
        return textwrap.dedent(body[1:])
    first, newline, rest = body.partition("\n")
    return first + newline + textwrap.dedent(rest)


class _Build:
    """The tree, built inline: one method per grammar rule, called with its children
    (keywords and braces included: keep_all_tokens) as lark reduces it."""

    def __init__(self) -> None:
        self.path = "<string>"
        self.source = ""
        self.errors: list[Diagnostic] = []

    def span(self, first, last) -> ast.SourceSpan:
        """From the start of token `first` to the end of token `last`."""
        return _new_span(
            _SpanType, (self.path, first.line, first.column, last.end_line, last.end_column)
        )

    def until(self, first, node: ast.Node) -> ast.SourceSpan:
        """From the start of token `first` to the end of `node`."""
        end = node.span
        return _new_span(
            _SpanType, (self.path, first.line, first.column, end.end_line, end.end_column)
        )

    def name(self, token) -> ast.Name:
        return ast.Name(value=token.value, span=self.span(token, token))

    def string(self, token) -> str:
        try:
            value = string_value(token.value)
        except json.JSONDecodeError as error:
            hint = 'escape a backslash as \\\\ and a quote as \\", or use """raw text"""'
            message = f"invalid escape in string: {error.msg}"
            self.errors.append(
                Diagnostic(SYNTAX_ERROR, message, self.span(token, token), hint=hint)
            )
            return ""
        lone = _SURROGATE.search(value)
        if lone is not None:
            message = (
                f"invalid escape in string: \\u{ord(lone.group()):04x} is half of a surrogate "
                "pair, not a character"
            )
            hint = "write the character itself, or escape both halves of the pair"
            self.errors.append(
                Diagnostic(SYNTAX_ERROR, message, self.span(token, token), hint=hint)
            )
            return ""
        return value

    def whole_number(self, token) -> int:
        """A count (max_sentences, max_words): a 5,000-digit one is a typo, and Python
        refuses to convert one of over 4,300 digits."""
        if len(token.value.lstrip("0")) > len(str(MAX_WHOLE_NUMBER)) - 1:
            message = f"number too large: {token.value[:12]}... has {len(token.value):,} digits"
            hint = f"a count here is at most {MAX_WHOLE_NUMBER - 1:,}"
            self.errors.append(
                Diagnostic(SYNTAX_ERROR, message, self.span(token, token), hint=hint)
            )
            return 0
        return int(token.value)

    # Lists: `x: x item | item`, kept as one Python list that grows.

    def items(self, children: list) -> list:
        item = children[-1]
        if not isinstance(item, ast.Node):
            item = Comment(item.line, item.value.rstrip())
        if len(children) == 1:
            return [item]
        found = children[0]
        found.append(item)
        return found

    file_items = spec_items = category_items = rule_items = example_items = style_items = items

    # The file and its blocks

    def start(self, children: list) -> ast.PolicyFile:
        items = children[0] if children else []
        text = self.source
        header = _file_header(items)
        declarations, _, end_comments = _attach_comments(items[len(header) :], open_line=0)
        span = (self.path, 1, 1, text.count("\n") + 1, len(text) - text.rfind("\n"))
        return ast.PolicyFile(
            path=self.path,
            comments=tuple(c.text for c in header),
            declarations=declarations,
            end_comments=end_comments,
            span=_new_span(_SpanType, span),
        )

    def block(self, node_type, children: list, **head):
        """`keyword ID [DECISION] "Title" { ... }`: the title is the token before `{`."""
        keyword, block_id = children[0], children[1]
        close = children[-1]
        if type(children[-2]) is list:
            items, title = children[-2], children[-4]
        else:
            items, title = [], children[-3]
        statements, trailing, end_comments = _attach_comments(items, title.end_line)
        return node_type(
            id=block_id.value,
            id_span=self.span(block_id, block_id),
            title=self.string(title),
            statements=statements,
            trailing_comment=trailing,
            end_comments=end_comments,
            span=self.span(keyword, close),
            **head,
        )

    def spec(self, children: list) -> ast.SpecHeader:
        return self.block(ast.SpecHeader, children)

    def category(self, children: list) -> ast.Category:
        return self.block(ast.Category, children)

    def style(self, children: list) -> ast.Style:
        return self.block(ast.Style, children)

    def rule(self, children: list) -> ast.Rule:
        return self.block(ast.Rule, children, decision=self.name(children[2]))

    def example(self, children: list) -> ast.Example:
        keyword, decision_token = children[0], children[1]
        decision = self.name(decision_token)
        if children[2].type != "STRING":
            close = children[-1]
            items = children[3] if len(children) == 5 else []
            statements, trailing, end_comments = _attach_comments(items, decision.span.line)
            return ast.Example(
                decision=decision,
                block=True,
                statements=statements,
                trailing_comment=trailing,
                end_comments=end_comments,
                span=self.span(keyword, close),
            )
        prompt = children[2]
        prompt_span = self.span(prompt, prompt)
        message = ast.Message(
            role=ast.Name(value="user", span=prompt_span),
            content=self.string(prompt),
            span=prompt_span,
        )
        if len(children) == 4:
            cites = children[3]
            return ast.Example(
                decision=decision,
                block=False,
                statements=(message, cites),
                span=self.until(keyword, cites),
            )
        return ast.Example(
            decision=decision, block=False, statements=(message,), span=self.span(keyword, prompt)
        )

    # Statements

    def text(self, children: list) -> ast.Text:
        token = children[0]
        return ast.Text(value=self.string(token), span=self.span(token, token))

    def message(self, children: list) -> ast.Message:
        role, content = children
        return ast.Message(
            role=self.name(role), content=self.string(content), span=self.span(role, content)
        )

    def cites(self, children: list) -> ast.Cites:
        rules = tuple(self.name(t) for t in children[1::2])
        return ast.Cites(rules=rules, span=self.span(children[0], children[-1]))

    def version(self, children: list) -> ast.Version:
        keyword, value = children
        return ast.Version(value=self.string(value), span=self.span(keyword, value))

    def decisions(self, children: list) -> ast.Decisions:
        labels = tuple(self.name(t) for t in children[1::2])
        return ast.Decisions(labels=labels, span=self.span(children[0], children[-1]))

    def default(self, children: list) -> ast.Default:
        keyword, decision, *styled = children  # `default comply` or `default comply style X`
        style = self.name(styled[1]) if styled else None
        last = styled[1] if styled else decision
        return ast.Default(decision=self.name(decision), style=style, span=self.span(keyword, last))

    def answer(self, children: list) -> ast.Answer:
        keyword, decision, kind = children
        return ast.Answer(
            decision=self.name(decision), answer=self.name(kind), span=self.span(keyword, kind)
        )

    def include(self, children: list) -> ast.Include:
        keyword, path = children
        return ast.Include(path=self.string(path), span=self.span(keyword, path))

    def extends(self, children: list) -> ast.Extends:
        keyword, path = children
        return ast.Extends(path=self.string(path), span=self.span(keyword, path))

    def tool(self, children: list) -> ast.Tool:
        keyword, name, description, *arguments = children  # `arguments a, b` is optional
        return ast.Tool(
            name=self.name(name),
            description=self.string(description),
            arguments=tuple(self.name(t) for t in arguments[1::2]),
            span=self.span(keyword, children[-1]),
        )

    def match_tool(self, children: list) -> ast.MatchTool:
        keyword, _, tool, *how = children  # `pattern /re/`, `keyword "..."` or nothing
        found = {}
        if how and how[1].type == "REGEX":
            found["pattern"] = self.pattern(how[1])
        elif how:
            found["keyword"] = self.string(how[1])
        return ast.MatchTool(tool=self.name(tool), span=self.span(keyword, children[-1]), **found)

    def floor(self, children: list) -> ast.Floor:
        keyword, decision = children
        return ast.Floor(decision=self.name(decision), span=self.span(keyword, decision))

    def call(self, children: list) -> ast.Call:
        keyword, tool, arguments = children
        return ast.Call(
            tool=self.name(tool),
            arguments=self.string(arguments),
            span=self.span(keyword, arguments),
        )

    def authority(self, children: list) -> ast.AuthorityStatement:
        keyword, level = children
        return ast.AuthorityStatement(level=self.name(level), span=self.span(keyword, level))

    def summary(self, children: list) -> ast.Summary:
        keyword, value = children
        return ast.Summary(value=self.string(value), span=self.span(keyword, value))

    def define(self, children: list) -> ast.Define:
        keyword, term, value = children
        return ast.Define(
            term=self.string(term), value=self.string(value), span=self.span(keyword, value)
        )

    def deprecated(self, children: list) -> ast.Deprecated:
        keyword, reason = children
        return ast.Deprecated(reason=self.string(reason), span=self.span(keyword, reason))

    def style_ref(self, children: list) -> ast.StyleRef:
        keyword, style = children
        return ast.StyleRef(style=self.name(style), span=self.span(keyword, style))

    def severity(self, children: list) -> ast.SeverityStatement:
        keyword, level = children
        return ast.SeverityStatement(level=self.name(level), span=self.span(keyword, level))

    def overrides(self, children: list) -> ast.Overrides:
        rules = tuple(self.name(t) for t in children[1::2])
        return ast.Overrides(rules=rules, span=self.span(children[0], children[-1]))

    def match_keyword(self, children: list) -> ast.MatchKeyword:
        return self.unless_keyword(children[1:], first=children[0])

    def match_pattern(self, children: list) -> ast.MatchPattern:
        return self.unless_pattern(children[1:], first=children[0])

    def unless_keyword(self, children: list, first=None) -> ast.MatchKeyword:
        """`keyword "x" [in ROLE]`, after `match` (which `first` is) or `unless`."""
        _, value, *reads = children
        span = self.until(first or children[0], reads[0]) if reads else None
        return ast.MatchKeyword(
            keyword=self.string(value),
            reads=reads[0] if reads else None,
            span=span or self.span(first or children[0], value),
        )

    def unless_pattern(self, children: list, first=None) -> ast.MatchPattern:
        _, pattern, *reads = children
        span = self.until(first or children[0], reads[0]) if reads else None
        return ast.MatchPattern(
            pattern=self.pattern(pattern),
            reads=reads[0] if reads else None,
            span=span or self.span(first or children[0], pattern),
        )

    def reads(self, children: list) -> ast.Reads:
        keyword, role = children[0], children[-1]
        return ast.Reads(
            role=self.name(role), last=len(children) == 3, span=self.span(keyword, role)
        )

    def attribute_test(self, children: list) -> ast.AttributeTest:
        attribute, value = children
        return ast.AttributeTest(
            attribute=self.name(attribute), value=self.name(value), span=self.span(attribute, value)
        )

    def when(self, children: list) -> ast.When:
        keyword, test = children
        return ast.When(test=test, span=self.until(keyword, test))

    def unless(self, children: list) -> ast.Unless:
        keyword, condition = children
        return ast.Unless(condition=condition, span=self.until(keyword, condition))

    def example_with(self, children: list) -> ast.ExampleWith:
        keyword, test = children
        return ast.ExampleWith(test=test, span=self.until(keyword, test))

    def severities(self, children: list) -> ast.Severities:
        labels = tuple(self.name(t) for t in children[1::2])
        return ast.Severities(labels=labels, span=self.span(children[0], children[-1]))

    def attribute(self, children: list) -> ast.Attribute:
        keyword, name, *values = children
        return ast.Attribute(
            name=self.name(name),
            values=tuple(self.name(t) for t in values[::2]),
            span=self.span(keyword, children[-1]),
        )

    def category_code(self, children: list) -> ast.CategoryCode:
        keyword, code = children
        return ast.CategoryCode(code=self.name(code), span=self.span(keyword, code))

    def category_renamed_from(self, children: list) -> ast.RenamedFrom:
        return self.renamed_from(children)

    def pattern(self, token) -> ast.Pattern:
        source, _, flags = token.value[1:].rpartition("/")
        return ast.Pattern(source=source, flags=flags, span=self.span(token, token))

    def renamed_from(self, children: list) -> ast.RenamedFrom:
        keyword, old = children
        return ast.RenamedFrom(old_id=self.name(old), span=self.span(keyword, old))

    def max_sentences(self, children: list) -> ast.MaxSentences:
        keyword, value = children
        return ast.MaxSentences(value=self.whole_number(value), span=self.span(keyword, value))

    def max_words(self, children: list) -> ast.MaxWords:
        keyword, value = children
        return ast.MaxWords(value=self.whole_number(value), span=self.span(keyword, value))

    def language(self, children: list) -> ast.Language:
        keyword, value = children
        return ast.Language(value=self.name(value), span=self.span(keyword, value))

    def country(self, children: list) -> ast.Country:
        keyword, country, pattern = children
        return ast.Country(
            country=self.name(country),
            pattern=self.pattern(pattern),
            span=self.span(keyword, pattern),
        )

    def opens(self, children: list) -> ast.Opens:
        keyword, pattern = children
        return ast.Opens(pattern=self.pattern(pattern), span=self.span(keyword, pattern))

    def require(self, children: list) -> ast.Require:
        keyword, pattern = children
        return ast.Require(pattern=self.pattern(pattern), span=self.span(keyword, pattern))

    def forbid(self, children: list) -> ast.Forbid:
        keyword, pattern = children
        return ast.Forbid(pattern=self.pattern(pattern), span=self.span(keyword, pattern))


def _lark(fast: bool) -> tuple[Lark, _Build]:
    build = _Build()
    options = {}
    if fast:
        import lark_cython

        options["_plugins"] = lark_cython.plugins
    parser = Lark(
        GRAMMAR.read_text(),
        parser="lalr",
        lexer="contextual",
        transformer=build,
        keep_all_tokens=True,
        **options,
    )
    # The contextual lexer reads, in each state, only the terminals the parser can take
    # there, and WORD: any name where no name fits, so that `stylex` is one word (an
    # error) rather than the keyword `style` and an `x`. (What a postlexer's
    # always_accept does; lark-cython takes no postlexer.)
    frontend = parser.parser
    states = {i: list(t) for i, t in frontend.parser._parse_table.states.items()}
    frontend.lexer = type(frontend.lexer)(frontend.lexer_conf, states, always_accept=("WORD",))
    return parser, build


def _has_lark_cython() -> bool:
    """Whether lark-cython is installed, and not turned off (POLICYSPEC_LARK_CYTHON=0,
    as benchmarks/spec_scale.py does to measure plain lark)."""
    if os.environ.get("POLICYSPEC_LARK_CYTHON") == "0":
        return False
    try:
        import lark_cython  # noqa: F401
    except ImportError:
        return False
    return True


class _Parsers:
    """The lark parsers, built on first use: `fast` (lark-cython where installed) reads
    files that parse; `python` (plain lark) reads again with recovery those that don't."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._python: tuple[Lark, _Build] | None = None
        self._fast: tuple[Lark, _Build] | None = None
        self.use_cython = _has_lark_cython()

    @property
    def python(self) -> tuple[Lark, _Build]:
        if self._python is None:
            self._python = _lark(fast=False)
        return self._python

    @property
    def fast(self) -> tuple[Lark, _Build]:
        if self._fast is None:
            self._fast = _lark(fast=True) if self.use_cython else self.python
        return self._fast


PARSERS = _Parsers()


def _string_pattern() -> re.Pattern:
    grammar = GRAMMAR.read_text()
    source = re.search(r"^STRING: /(.*)/$", grammar, re.MULTILINE)[1]  # type: ignore[index]
    return re.compile(source)


_STRING_PATTERN = _string_pattern()


def reads_as_one_string(literal: str) -> bool:
    """Whether the lexer would read `literal` back as exactly one string."""
    return _STRING_PATTERN.fullmatch(literal) is not None


# Errors


def _end_of_text(text: str) -> int:
    return len(text.rstrip())


class _Position(NamedTuple):
    line: int
    column: int


def _position(text: str, offset: int) -> _Position:
    """Line and column of an offset, counting lines at \\n only, as the lexer does."""
    line = text.count("\n", 0, offset) + 1
    return _Position(line, offset - text.rfind("\n", 0, offset))


def _in_words(expected) -> str:
    """Named kinds first, then keywords in alphabetical order: 'a, b or c'."""
    words = sorted(set(expected), key=lambda w: (w.startswith("'"), w))
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _expected_words(parser: Lark, accepts) -> list[str]:
    words = []
    for name in accepts:
        if name in _NOT_EXPECTED:
            continue
        if name in WORDS:
            words.append(WORDS[name])
        else:
            words.append(f"'{parser.get_terminal(name).pattern.value}'")
    return words


def _found(token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "STRING":
        return "a string"
    if token.type == "COMMENT":
        return "a comment"
    return f"'{excerpt(token.value, 40)}'"


class _Recovery:
    """Reads a file that has syntax errors: each error is reported once, then the
    parser is repaired (a missing token supplied) or the rest of the line skipped."""

    def __init__(self, parser: Lark, build: _Build, text: str, path: str) -> None:
        self.parser = parser
        self.build = build
        self.text = text
        self.path = path
        self.keywords = {
            t.pattern.value: t.name
            for t in parser.terminals
            if t.pattern.type == "str" and t.pattern.value.isidentifier()
        }
        self.errors: list[Diagnostic] = []
        self.substitutions: dict[int, str] = {}
        self.skipped_to = -1  # while skipping, errors before this offset are echoes

    def span(self, start: int, end: int) -> ast.SourceSpan:
        first, last = _position(self.text, start), _position(self.text, end)
        return _SpanType(self.path, first.line, first.column, last.line, last.column)

    def report(self, start: int, width: int, message: str, hint: str | None = None) -> None:
        """Report an error; later errors on its line are taken for echoes of it."""
        newline = self.text.find("\n", start)
        self.skipped_to = max(self.skipped_to, len(self.text) if newline < 0 else newline + 1)
        if len(self.errors) == MAX_ERRORS:
            raise _TooMany
        span = self.span(start, start)
        span = span._replace(end_column=span.column + max(1, width))
        self.errors.append(Diagnostic(SYNTAX_ERROR, message, span, hint=hint))

    # lark's on_error: True goes on reading after the bad token or character

    def __call__(self, error: UnexpectedInput) -> bool:
        if isinstance(error, UnexpectedCharacters):
            return self.on_character(error)
        if isinstance(error, UnexpectedToken):
            return self.on_token(error)
        return False

    def on_character(self, error: UnexpectedCharacters) -> bool:
        offset = error.pos_in_stream
        char = self.text[offset]
        stand_in = _stand_in(char)
        if stand_in is not None:
            # Read again with an ASCII character in its place, so that what follows
            # is read as the author meant it, not as a cascade of errors.
            self.report(offset, 1, *_foreign_message(self.text, offset, stand_in))
            self.substitutions = _substitutions(self.text, offset, stand_in)
            raise _ReadAgain
        if offset >= self.skipped_to:
            if self.text.startswith('"""', offset):
                self.report(offset, 3, *_unterminated_text(self.text, offset))
            else:
                expected = self.expected(error)
                self.report(offset, 1, *_stray_message(char, self.text, offset, expected))
        if char == '"':  # the rest of the line is the string's
            self.skip_line(error.interactive_parser, offset)
        return True  # lark goes on after the character

    def expected(self, error: UnexpectedInput) -> list[str]:
        return _expected_words(self.parser, error.interactive_parser.accepts())

    def on_token(self, error: UnexpectedToken) -> bool:
        """Report the error unless it echoes one on its line; then supply what is
        missing before the token, or drop the token."""
        token, interactive = error.token, error.interactive_parser
        end = token.type == "$END"
        start = _end_of_text(self.text) if end else token.start_pos
        repair = self.repair(interactive, token)
        opening = _misread_text(interactive, token)
        if opening is not None and self.skipped_to < len(self.text):
            # A text left open ran on to the next text's opening quotes: say so where it
            # starts, and take nothing after it for a new error.
            self.report(opening.start_pos, 3, *_unterminated_text(self.text, opening.start_pos))
            self.skipped_to = len(self.text)
        elif opening is None and start >= self.skipped_to and not self.quiet(repair, start):
            self.report_token(token, start, interactive)
        if repair is not None:
            for fake in repair:
                interactive.feed_token(fake)
            if not end:
                interactive.feed_token(self.retyped(interactive, token))
            return True
        return not end  # lark goes on after the token: it is dropped

    def quiet(self, repair: list | None, start: int) -> bool:
        """Whether a token that a repair lets the parser read is the first after the
        line of the last error: the statement left unfinished there is finished
        quietly."""
        if repair is None or self.skipped_to < 0:
            return False
        return not self.text[self.skipped_to : start].strip()

    def report_token(self, token, start: int, interactive) -> None:
        expected = self.expected_at(interactive)
        message = f"expected {_in_words(expected)}, found {_found(token)}"
        hint = None
        if token.type == "COMMENT":
            hint = "a comment stands on its own line or at the end of a statement"
        elif token.type not in ("STRING", "REGEX", "INT", "$END") and token.value:
            keywords = [word.strip("'") for word in expected if word.startswith("'")]
            hint = did_you_mean(token.value, keywords)
            if token.value == "include" and "include" not in keywords:
                hint = (
                    "includes belong in the spec header, in the root file: "
                    'spec NAME "Title" { include "file.policy" }'
                )
        width = len(token.value.split("\n", 1)[0]) if token.type != "$END" else 1
        self.report(start, width, message, hint)

    def expected_at(self, interactive) -> list[str]:
        return _expected_words(self.parser, interactive.accepts())

    # Repairs

    def retyped(self, interactive, token):
        """`token` as the lexer would have read it in the parser's state now: a word is
        read as the keyword or the kind of name that fits there."""
        if (
            token.type not in NAME_KINDS
            and token.type != "WORD"
            and token.type not in (self.keywords.values())
        ):
            return token
        choices = interactive.choices()
        keyword = self.keywords.get(token.value)
        if keyword in choices:
            return Token(
                keyword,
                token.value,
                token.start_pos,
                token.line,
                token.column,
                token.end_line,
                token.end_column,
                token.end_pos,
            )
        for kind in NAME_KINDS & choices.keys():
            return Token(
                kind,
                token.value,
                token.start_pos,
                token.line,
                token.column,
                token.end_line,
                token.end_column,
                token.end_pos,
            )
        return token

    def accepted(self, interactive, token) -> bool:
        trial = _trial(interactive)
        try:
            trial.feed_token(self.retyped(trial, token))
        except UnexpectedInput:
            return False
        return True

    def repair(self, interactive, token) -> list | None:
        """The fewest tokens (up to three) that, supplied before `token`, let the
        parser read it: a missing string, name, brace or number."""
        frontier = [(interactive, [])]
        for _ in range(3):
            following = []
            for state, supplied in frontier:
                for name in state.choices():
                    if name not in _SUPPLIABLE:
                        continue
                    fake = _fake(self.parser, name, token)
                    trial = _trial(state)
                    try:
                        trial.feed_token(fake)
                    except UnexpectedInput:
                        continue
                    if token.type == "$END":
                        end_trial = _trial(trial)
                        try:
                            end_trial.feed_eof(token)
                        except UnexpectedInput:
                            following.append((trial, [*supplied, fake]))
                            continue
                        return [*supplied, fake]
                    if self.accepted(trial, token):
                        return [*supplied, fake]
                    following.append((trial, [*supplied, fake]))
            frontier = following[:20]
        return None

    def skip_line(self, interactive, offset: int) -> None:
        """Go on reading at the next line, where the next statement starts."""
        newline = self.text.find("\n", offset)
        target = len(self.text) if newline < 0 else newline + 1
        state = interactive.lexer_thread.state
        position = state.line_ctr.char_pos
        if target > position:
            state.line_ctr.feed(self.text[position:target])
        self.skipped_to = max(self.skipped_to, target)


def _trial(interactive):
    """A copy of the parser to try tokens on: it shares the values built so far, so it
    must not build more (lark's own copy deep-copies them: all of the tree)."""
    conf = copy(interactive.parser_state.parse_conf)
    conf.callbacks = {}
    trial = interactive.copy(deepcopy_values=False)
    trial.parser_state.parse_conf = conf
    return trial


MAX_ERRORS = 100  # per file: past this, the file is not worth reading on


class _TooMany(Exception):
    pass


_SUPPLIABLE = frozenset({"STRING", "RBRACE", "INT", "REGEX", *NAME_KINDS})
_FILLER = {"STRING": '""', "RBRACE": "}", "INT": "0", "REGEX": "//"}


def _fake(parser: Lark, name: str, at):
    value = _FILLER.get(name, "_")
    if at.type == "$END":
        return Token(
            name, value, at.start_pos, at.line, at.column, at.end_line, at.end_column, at.end_pos
        )
    return Token(name, value, at.start_pos, at.line, at.column, at.line, at.column, at.start_pos)


class _ReadAgain(Exception):
    """Raised by the recovery to read the file again with `substitutions` made."""


# Characters that look like ASCII ones the language uses, and the ASCII they stand for.
_LOOK_ALIKES = {
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d", "-"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\uff02", '"'),
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032", "'"),
    **dict.fromkeys("\u00a0\u2000\u2001\u2002\u2003\u2007\u2009\u200a\u202f\u3000", " "),
    "\uff5b": "{",
    "\uff5d": "}",
    "\uff0c": ",",
    "\uff1c": "<",
}
# Cyrillic and Greek capitals and small letters drawn like Latin ones.
_LOOK_ALIKES.update(zip("АВЕКМНОРСТХУасеорху", "ABEKMHOPCTXYaceopxy", strict=True))
_LOOK_ALIKES.update(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧο", "ABEZHIKMNOPTYXo", strict=True))


def _stand_in(char: str) -> str | None:
    """The ASCII character read in place of `char`: its look-alike, or `_` for any
    other letter or digit (a name's letters are ASCII); None for anything else."""
    if char in _LOOK_ALIKES:
        return _LOOK_ALIKES[char]
    if not char.isascii() and (char.isalnum() or unicodedata.category(char) == "Mn"):
        return "_"
    return None


def _character(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'UNNAMED')}"


def _foreign_message(text: str, offset: int, stand_in: str) -> tuple[str, str]:
    char = text[offset]
    if stand_in != "_":
        return (
            f"{_character(char)} looks like {stand_in!r} but is not; use {stand_in!r}",
            f"the language is written in ASCII outside strings: type {stand_in!r} instead",
        )
    start = offset
    while start and (text[start - 1].isalnum() or text[start - 1] in "_-"):
        start -= 1
    end = offset + 1
    while end < len(text) and (text[end].isalnum() or text[end] in "_-"):
        end += 1
    return (
        f"{_character(char)} in the name '{text[start:end]}'; a name is ASCII letters, "
        "digits, '_' and '-'",
        "use ASCII letters in IDs and names; any text may go in a quoted string",
    )


def _substitutions(text: str, offset: int, stand_in: str) -> dict[int, str]:
    """Where to read ASCII in place of the character at `offset`: there, and for a
    curly quote at the next one on its line too (its partner)."""
    found = {offset: stand_in}
    if stand_in in "\"'":
        newline = text.find("\n", offset)
        line_end = len(text) if newline < 0 else newline
        for index in range(offset + 1, line_end):
            if _LOOK_ALIKES.get(text[index]) == stand_in:
                found[index] = stand_in
                break
    return found


def _unterminated_text(text: str, offset: int) -> tuple[str, str]:
    line = _position(text, offset).line
    return (
        f'unterminated string: the text opened by """ on line {line} is never closed',
        'close it with """; the next """ in the file would open a text, not close this one',
    )


def _misread_text(interactive, token):
    """The STRING token of a text that was left open, when `token` is what follows it:
    the text ran on to the quotes that open the next text, whose words the parser
    now meets. Such quotes stand on a line of their own, before the words."""
    stack = interactive.parser_state.value_stack
    if not stack or token.type in ("$END", "STRING"):
        return None
    last = stack[-1]
    value = getattr(last, "value", None)
    if getattr(last, "type", None) != "STRING" or not value.startswith('"""'):
        return None
    closing_line_start = value.rfind("\n") + 1
    if value[closing_line_start:-3].strip() or token.line <= last.end_line:
        return None  # the closing quotes end a line of text: a real close
    if token.type not in ("WORD", *NAME_KINDS):
        return None
    # and the text swallowed statements: a line that is a brace, or opens like one
    if not _SWALLOWED.search(value):
        return None
    return last


_SWALLOWED = re.compile(
    r"^[ \t]*(?:\}[ \t]*|(?:rule|example|severity|style|overrides|match|renamed_from|summary|"
    r"define|authority|category|deprecated|when|unless|code|severities|attribute|floor|call|"
    r"tool|extends)[ \t]+[A-Za-z_\"/].*)$",
    re.MULTILINE,
)


def _stray_message(char: str, text: str, offset: int, expected: list[str]):
    """The message and hint for a character no token starts with."""
    if char == '"':
        return (
            "unterminated string",
            'close it with " on the same line, or use """ for text over several lines',
        )
    if char == "/":
        return "unterminated or empty /pattern/", "a pattern is written /regex/flags on one line"
    return f"unexpected character {char!r}; expected {_in_words(expected)}", None


@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing allocates many small objects that all live on; cyclic GC passes over them
    would only make parsing time grow faster than the input."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _run(parser: Lark, build: _Build, text: str, path: str, on_error=None):
    build.path, build.source, build.errors = path, text, []
    return parser.parse(text, on_error=on_error) if on_error else parser.parse(text)


def parse_all(text: str, path: str = "<string>") -> tuple[ast.PolicyFile | None, list[Diagnostic]]:
    """Parse one .policy file and report every syntax error in it, in order.

    Returns the tree (with what could not be read left out, when there are errors;
    None when nothing could be recovered) and the syntax errors: what an editor needs.
    """
    lone = _SURROGATE.search(text)  # only from a str built in Python: files are UTF-8
    if lone is not None:
        line = text.count("\n", 0, lone.start()) + 1
        column = lone.start() - text.rfind("\n", 0, lone.start())
        span = _new_span(_SpanType, (path, line, column, line, column + 1))
        message = f"U+{ord(lone.group()):04X} is half of a surrogate pair, not a character"
        return None, [
            Diagnostic(SYNTAX_ERROR, message, span, hint="the text must be valid Unicode")
        ]
    with gc_paused(), PARSERS.lock:
        parser, build = PARSERS.fast
        try:
            tree = _run(parser, build, text, path)
        except UnexpectedInput:
            pass
        else:
            if not build.errors:
                return tree, []
        parser, build = PARSERS.python
        read, substituted = text, []
        while True:
            recovery = _Recovery(parser, build, read, path)
            try:
                tree = _run(parser, build, read, path, on_error=recovery)
            except _ReadAgain:
                # Characters are replaced one for one, so offsets, lines and columns
                # stay those of the file.
                substituted.append(recovery.errors[-1])
                chars = list(read)
                for index, char in recovery.substitutions.items():
                    chars[index] = char
                read = "".join(chars)
                if len(substituted) < MAX_ERRORS:
                    continue
                tree = None
            except (UnexpectedInput, _TooMany):
                tree = None
            break
        errors = substituted + recovery.errors + build.errors
    errors.sort(key=lambda d: (d.span.line, d.span.column))
    return tree, errors


def parse(text: str, path: str = "<string>") -> ast.PolicyFile:
    """Parse one .policy file. Raises SpecSyntaxError (and nothing else) on bad text:
    the first error in the file; `parse_all` gives them all."""
    tree, errors = parse_all(text, path)
    if errors:
        raise SpecSyntaxError(errors[0])
    assert tree is not None
    return tree


def _file_header(children: list) -> list[Comment]:
    """The comments that open a file and stand apart from its first declaration by a blank line."""
    leading = []
    for child in children:
        if not isinstance(child, Comment):
            break
        leading.append(child)
    if len(leading) == len(children):  # a file of comments only: they are its end comments
        return []
    next_line = [c.line for c in leading[1:]] + [children[len(leading)].span.line]
    cut = max((i + 1 for i, c in enumerate(leading) if next_line[i] > c.line + 1), default=0)
    return leading[:cut]


def _attach_comments(children: list, open_line: int):
    """Give each comment to the statement it belongs to.

    A comment on the line where the previous statement ends is that statement's
    trailing comment (a block's closing comment); one on the line of the block's
    own header follows its opening brace; any other comment leads the next
    statement; comments after the last statement are the block's end comments.
    Returns (statements, header_trailing_comment, end_comments).
    """
    statements: list[ast.Statement] = []
    pending: list[str] = []
    header_trailing: str | None = None
    last_line = open_line
    for child in children:
        if isinstance(child, Comment):
            if child.line == last_line and not pending:
                if statements:
                    previous = statements[-1]
                    slot = (
                        "closing_comment" if isinstance(previous, ast.Block) else "trailing_comment"
                    )
                    statements[-1] = previous.model_copy(update={slot: child.text})
                else:
                    header_trailing = child.text
            else:
                pending.append(child.text)
            continue
        if pending:
            child = child.model_copy(update={"comments": tuple(pending)})
            pending = []
        statements.append(child)
        last_line = child.span.end_line
    return tuple(statements), header_trailing, tuple(pending)
