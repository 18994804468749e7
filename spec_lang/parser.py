"""Text to syntax tree: a scanner, a recursive-descent parser, and errors in words.

The grammar is in docs/language.md; each of its productions is one method below.
A comment may stand wherever a statement may start or end. Keywords are words
that open a statement, and only there: `category style "..."` names a category
`style`.

The parser was lark's LALR until a 10,000-rule spec (~200,000 tokens) took 1.3 s
in lark's lexer and driver alone, before building a node; this one reads the
same language several times faster (benchmarks/spec_scale.py).
"""

from __future__ import annotations

import gc
import json
import re
import textwrap
from bisect import bisect_left
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from spec_lang import ast
from spec_lang.diagnostics import Diagnostic, Level, SpecSyntaxError, did_you_mean
from spec_lang.text import excerpt

SYNTAX_ERROR = "PS001"

_STRING = (
    r'"""[^"]*+(?:"(?!"")[^"]*+)*+"""'  # raw text; possessive: no backtracking when unclosed
    r'|"(?!"")[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"'  # a short string with JSON escapes
    r'|""(?!")'
)
_TOKEN = re.compile(
    r"[ \t\f\r\n]*+(?:"
    r"(?P<comment>#[^\n]*)"
    rf"|(?P<string>{_STRING})"
    r"|(?P<regex>/(?![/*])[^/\\\n]*+(?:\\.[^/\\\n]*+)*+/[A-Za-z]*)"
    r"|(?P<int>[0-9]+(?![A-Za-z_]))"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)"
    r"|(?P<open>\{)|(?P<close>\})|(?P<comma>,)|(?P<less><)"
    r"|(?P<stray>.))",
    re.DOTALL,
)
_STRING_PATTERN = re.compile(_STRING)
# A NamedTuple's own constructor is a Python function: calling tuple.__new__ directly
# builds the ~150,000 spans of a 10,000-rule spec in half the time.
_new_span = tuple.__new__


# A token is a plain tuple (kind, text, start, end), with offsets into the file's text and
# the end exclusive: a 10,000-rule spec has 200,000 of them, and a plain tuple is built
# in half the time of a named one. Kinds are the scanner's group names, and "end".
Token = tuple[str, str, int, int]
KIND, TEXT, START, END = range(4)


class Comment(NamedTuple):
    line: int
    text: str


# What each kind of value is, in words, for syntax errors.
SPEC_ID = "a spec name"
CATEGORY_ID = "a category ID"
RULE_ID = "a rule ID (like SH-2)"
STYLE_ID = "a style ID"
DECISION = "a decision (such as comply, safe_complete or refuse)"
AUTHORITY = "an authority (platform, developer or user)"
SEVERITY = "a severity (low, medium, high or critical)"
ROLE = "a message role (user, assistant or system)"
STRING = "a quoted string"
REGEX = "a /pattern/"
INT = "a whole number"


def _scan(text: str) -> list[Token]:
    tokens = [
        (match.lastgroup, match[match.lastgroup], match.start(match.lastgroup), match.end())
        for match in _TOKEN.finditer(text)
    ]
    end = len(text.rstrip())
    tokens.append(("end", "", end, end))
    return tokens


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


def reads_as_one_string(literal: str) -> bool:
    """Whether the scanner would read `literal` back as exactly one string."""
    return _STRING_PATTERN.fullmatch(literal) is not None


class _Parser:
    """One file's tokens, read left to right; one method per production."""

    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.tokens = _scan(text)
        self.index = 0
        self.breaks = [-1, *(m.start() for m in re.finditer("\n", text))]

    # Positions and spans

    def span(self, start: int, end: int) -> ast.SourceSpan:
        """The span between two offsets; `breaks` puts offset -1 before line 1, so the
        number of breaks before an offset is its line, and the last one fixes its column."""
        breaks = self.breaks
        line = bisect_left(breaks, start)
        end_line = bisect_left(breaks, end, line)
        where = (self.path, line, start - breaks[line - 1], end_line, end - breaks[end_line - 1])
        return _new_span(ast.SourceSpan, where)

    def line(self, offset: int) -> int:
        return bisect_left(self.breaks, offset)

    def since(self, first: Token) -> ast.SourceSpan:
        """The span from `first` to the last token read."""
        return self.span(first[START], self.tokens[self.index - 1][END])

    # Reading tokens

    def take(self, kind: str, expected: str) -> Token:
        token = self.tokens[self.index]
        if token[KIND] != kind:
            raise self.unexpected(token, [expected])
        self.index += 1
        return token

    def take_if(self, kind: str, text: str | None = None) -> Token | None:
        token = self.tokens[self.index]
        if token[KIND] != kind or (text is not None and token[TEXT] != text):
            return None
        self.index += 1
        return token

    def name(self, expected: str) -> ast.Name:
        token = self.take("word", expected)
        return ast.Name(value=token[TEXT], span=self.span(token[START], token[END]))

    def names(self, expected: str, separator: str) -> tuple[ast.Name, ...]:
        names = [self.name(expected)]
        while self.take_if(separator):
            names.append(self.name(expected))
        return tuple(names)

    def string(self) -> str:
        token = self.take("string", STRING)
        try:
            return string_value(token[TEXT])
        except json.JSONDecodeError as error:
            raise SpecSyntaxError(
                Diagnostic(
                    SYNTAX_ERROR,
                    Level.ERROR,
                    f"invalid escape in string: {error.msg}",
                    self.span(token[START], token[END]),
                    'escape a backslash as \\\\ and a quote as \\", or use """raw text"""',
                )
            ) from None

    def pattern(self) -> ast.Pattern:
        token = self.take("regex", REGEX)
        source, _, flags = token[TEXT][1:].rpartition("/")
        return ast.Pattern(source=source, flags=flags, span=self.span(token[START], token[END]))

    # The file and its blocks

    def file(self) -> ast.PolicyFile:
        children: list = []
        while (token := self.tokens[self.index])[KIND] != "end":
            if token[KIND] == "comment":
                children.append(self.comment(token))
            elif token[KIND] == "word" and token[TEXT] in _DECLARATIONS:
                self.index += 1
                children.append(_DECLARATIONS[token[TEXT]](self, token))
            else:
                raise self.unexpected(token, [f"'{word}'" for word in _DECLARATIONS])
        header = _file_header(children)
        declarations, _, end_comments = _attach_comments(children[len(header) :], open_line=0)
        return ast.PolicyFile(
            path=self.path,
            comments=tuple(c.text for c in header),
            declarations=declarations,
            end_comments=end_comments,
            span=self.span(0, len(self.text)),
        )

    def comment(self, token: Token) -> Comment:
        self.index += 1
        return Comment(self.line(token[START]), token[TEXT].rstrip())

    def body(self, statements: dict[str, Callable], text: bool = False, other_word=None):
        """The statements and comments of a `{ ... }` body, after its opening brace.

        `text`: a bare string is a Text statement; `other_word`: what reads a
        statement that opens with a word that is not a keyword here.
        """
        children: list = []
        while True:
            token = self.tokens[self.index]
            kind = token[KIND]
            if kind == "close":
                self.index += 1
                return children
            if kind == "comment":
                children.append(self.comment(token))
            elif kind == "word" and token[TEXT] in statements:
                self.index += 1
                children.append(statements[token[TEXT]](self, token))
            elif kind == "word" and other_word:
                children.append(other_word(self, token))
            elif kind == "string" and text:
                children.append(ast.Text(value=self.string(), span=self.since(token)))
            else:
                expected = [f"'{word}'" for word in statements] + ["'}'"]
                expected += [STRING] if text else []
                expected += [ROLE] if other_word else []
                raise self.unexpected(token, expected)

    def block(self, node_type, keyword: Token, id_kind: str, statements, text=False, decided=False):
        """A declaration or a rule: `keyword ID "Title" { ... }`, a rule with its DECISION
        after the ID (`decided`)."""
        block_id = self.take("word", id_kind)
        head = {"decision": self.name(DECISION)} if decided else {}
        title = self.string()
        title_line = self.line(self.tokens[self.index - 1][END])
        self.take("open", "'{'")
        children = self.body(statements, text)
        statements, trailing, end_comments = _attach_comments(children, title_line)
        return node_type(
            id=block_id[TEXT],
            id_span=self.span(block_id[START], block_id[END]),
            title=title,
            statements=statements,
            trailing_comment=trailing,
            end_comments=end_comments,
            span=self.since(keyword),
            **head,
        )

    def spec(self, keyword: Token) -> ast.SpecHeader:
        return self.block(ast.SpecHeader, keyword, SPEC_ID, _SPEC_STATEMENTS)

    def category(self, keyword: Token) -> ast.Category:
        return self.block(ast.Category, keyword, CATEGORY_ID, _CATEGORY_STATEMENTS)

    def style(self, keyword: Token) -> ast.Style:
        return self.block(ast.Style, keyword, STYLE_ID, _STYLE_STATEMENTS, text=True)

    def rule(self, keyword: Token) -> ast.Rule:
        return self.block(ast.Rule, keyword, RULE_ID, _RULE_STATEMENTS, text=True, decided=True)

    def example(self, keyword: Token) -> ast.Example:
        decision = self.name(DECISION)
        if self.take_if("open"):
            children = self.body({"cites": _Parser.cites}, other_word=_Parser.message)
            statements, trailing, end_comments = _attach_comments(children, decision.span.line)
            return ast.Example(
                decision=decision,
                block=True,
                statements=statements,
                trailing_comment=trailing,
                end_comments=end_comments,
                span=self.since(keyword),
            )
        prompt = self.tokens[self.index]
        if prompt[KIND] != "string":
            raise self.unexpected(prompt, [STRING, "'{'"])
        prompt_span = self.span(prompt[START], prompt[END])
        message = ast.Message(
            role=ast.Name(value="user", span=prompt_span), content=self.string(), span=prompt_span
        )
        cites = self.take_if("word", "cites")
        statements = (message, self.cites(cites)) if cites else (message,)
        return ast.Example(
            decision=decision, block=False, statements=statements, span=self.since(keyword)
        )

    # Statements

    def message(self, role: Token) -> ast.Message:
        role_name = self.name(ROLE)
        return ast.Message(role=role_name, content=self.string(), span=self.since(role))

    def cites(self, keyword: Token) -> ast.Cites:
        return ast.Cites(rules=self.names(RULE_ID, "comma"), span=self.since(keyword))

    def version(self, keyword: Token) -> ast.Version:
        return ast.Version(value=self.string(), span=self.since(keyword))

    def decisions(self, keyword: Token) -> ast.Decisions:
        return ast.Decisions(labels=self.names(DECISION, "less"), span=self.since(keyword))

    def default(self, keyword: Token) -> ast.Default:
        return ast.Default(decision=self.name(DECISION), span=self.since(keyword))

    def include(self, keyword: Token) -> ast.Include:
        return ast.Include(path=self.string(), span=self.since(keyword))

    def authority(self, keyword: Token) -> ast.AuthorityStatement:
        return ast.AuthorityStatement(level=self.name(AUTHORITY), span=self.since(keyword))

    def summary(self, keyword: Token) -> ast.Summary:
        return ast.Summary(value=self.string(), span=self.since(keyword))

    def define(self, keyword: Token) -> ast.Define:
        term = self.string()
        return ast.Define(term=term, value=self.string(), span=self.since(keyword))

    def deprecated(self, keyword: Token) -> ast.Deprecated:
        return ast.Deprecated(reason=self.string(), span=self.since(keyword))

    def style_ref(self, keyword: Token) -> ast.StyleRef:
        return ast.StyleRef(style=self.name(STYLE_ID), span=self.since(keyword))

    def severity(self, keyword: Token) -> ast.SeverityStatement:
        return ast.SeverityStatement(level=self.name(SEVERITY), span=self.since(keyword))

    def overrides(self, keyword: Token) -> ast.Overrides:
        return ast.Overrides(rules=self.names(RULE_ID, "comma"), span=self.since(keyword))

    def match(self, keyword: Token) -> ast.MatchKeyword | ast.MatchPattern:
        if self.take_if("word", "keyword"):
            return ast.MatchKeyword(keyword=self.string(), span=self.since(keyword))
        if self.take_if("word", "pattern"):
            return ast.MatchPattern(pattern=self.pattern(), span=self.since(keyword))
        raise self.unexpected(self.tokens[self.index], ["'keyword'", "'pattern'"])

    def renamed_from(self, keyword: Token) -> ast.RenamedFrom:
        return ast.RenamedFrom(old_id=self.name(RULE_ID), span=self.since(keyword))

    def whole_number(self) -> int:
        return int(self.take("int", INT)[TEXT])

    def max_sentences(self, keyword: Token) -> ast.MaxSentences:
        return ast.MaxSentences(value=self.whole_number(), span=self.since(keyword))

    def max_words(self, keyword: Token) -> ast.MaxWords:
        return ast.MaxWords(value=self.whole_number(), span=self.since(keyword))

    def require(self, keyword: Token) -> ast.Require:
        return ast.Require(pattern=self.pattern(), span=self.since(keyword))

    def forbid(self, keyword: Token) -> ast.Forbid:
        return ast.Forbid(pattern=self.pattern(), span=self.since(keyword))

    # Errors

    def unexpected(self, token: Token, expected: list[str]) -> SpecSyntaxError:
        """A syntax error at `token`, saying in words what would have fit there."""
        at = self.span(token[START], token[START])
        width = max(1, len(token[TEXT].split("\n", 1)[0]))
        hint = None
        if token[KIND] == "stray" and token[TEXT] == '"':
            message = "unterminated string"
            hint = 'close it with " on the same line, or use """ for text over several lines'
        elif token[KIND] == "stray" and token[TEXT] == "/":
            message = "unterminated or empty /pattern/"
            hint = "a pattern is written /regex/flags on one line"
        elif token[KIND] == "stray":
            message = f"unexpected character {token[TEXT]!r}; expected {_in_words(expected)}"
        else:
            message = f"expected {_in_words(expected)}, found {_found(token)}"
            if token[KIND] == "word":
                keywords = [word.strip("'") for word in expected if word.startswith("'")]
                hint = did_you_mean(token[TEXT], keywords)
            elif token[KIND] == "comment":
                hint = "a comment stands on its own line or at the end of a statement"
        span = at._replace(end_column=at.column + width)
        return SpecSyntaxError(Diagnostic(SYNTAX_ERROR, Level.ERROR, message, span, hint))


_DECLARATIONS = {"category": _Parser.category, "spec": _Parser.spec, "style": _Parser.style}
_SPEC_STATEMENTS = {
    "decisions": _Parser.decisions,
    "default": _Parser.default,
    "include": _Parser.include,
    "version": _Parser.version,
}
_CATEGORY_STATEMENTS = {
    "authority": _Parser.authority,
    "define": _Parser.define,
    "deprecated": _Parser.deprecated,
    "rule": _Parser.rule,
    "summary": _Parser.summary,
}
_RULE_STATEMENTS = {
    "deprecated": _Parser.deprecated,
    "example": _Parser.example,
    "match": _Parser.match,
    "overrides": _Parser.overrides,
    "renamed_from": _Parser.renamed_from,
    "severity": _Parser.severity,
    "style": _Parser.style_ref,
}
_STYLE_STATEMENTS = {
    "deprecated": _Parser.deprecated,
    "forbid": _Parser.forbid,
    "max_sentences": _Parser.max_sentences,
    "max_words": _Parser.max_words,
    "require": _Parser.require,
}


def _in_words(expected: list[str]) -> str:
    """Named kinds first, then keywords in alphabetical order: 'a, b or c'."""
    words = sorted(set(expected), key=lambda w: (w.startswith("'"), w))
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _found(token: Token) -> str:
    if token[KIND] == "end":
        return "the end of the file"
    if token[KIND] == "string":
        return "a string"
    if token[KIND] == "comment":
        return "a comment"
    return f"'{excerpt(token[TEXT], 40)}'"


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


def parse(text: str, path: str = "<string>") -> ast.PolicyFile:
    """Parse one .policy file. Raises SpecSyntaxError (and nothing else) on bad text."""
    with gc_paused():
        return _Parser(text, path).file()
