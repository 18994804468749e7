"""Text to syntax tree: one lark LALR parser, a tree-less transformer, and errors in words."""

from __future__ import annotations

import gc
import json
import re
import textwrap
import threading
from contextlib import contextmanager
from importlib import resources

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from spec_lang import ast
from spec_lang.diagnostics import Diagnostic, Level, SpecSyntaxError
from spec_lang.lexer import PolicyLexer

SYNTAX_ERROR = "PS001"

# What each named terminal is, in words, for syntax errors.
TERMINAL_WORDS = {
    "SPEC_ID": "a spec name",
    "CATEGORY_ID": "a category ID",
    "RULE_ID": "a rule ID (like SH-2)",
    "STYLE_ID": "a style ID",
    "DECISION": "a decision (such as comply, safe_complete or refuse)",
    "AUTHORITY": "an authority (platform, developer or user)",
    "SEVERITY": "a severity (low, medium, high or critical)",
    "ROLE": "a message role (user, assistant or system)",
    "STRING": "a quoted string",
    "REGEX": "a /pattern/",
    "INT": "a whole number",
}


# Tokens a callback receives; keywords and punctuation only give the statement its span.
_VALUE_TOKENS = frozenset({*TERMINAL_WORDS, "COMMENT"})


def _start(child) -> tuple[int, int]:
    return (
        (child.line, child.column)
        if isinstance(child, Token)
        else (child.span.line, child.span.column)
    )


def _end(child) -> tuple[int, int]:
    if isinstance(child, Token):
        return child.end_line, child.end_column
    return child.span.end_line, child.span.end_column


def _statement(method):
    """Give a callback the span of everything it matched, and only the children that carry values.

    lark's tree-less (inline) transformer cannot pass positions, so the grammar is
    built with keep_all_tokens and the span is taken from the first and last token.
    """

    def callback(self, children):
        if children:
            (line, column), (end_line, end_column) = _start(children[0]), _end(children[-1])
        else:
            line, column, end_line, end_column = 1, 1, 1, 1
        span = ast.SourceSpan(
            file=self.path, line=line, column=column, end_line=end_line, end_column=end_column
        )
        values = [c for c in children if not isinstance(c, Token) or c.type in _VALUE_TOKENS]
        return method(self, span, values)

    callback.__name__ = method.__name__
    return callback


def _token_span(path: str, token: Token) -> ast.SourceSpan:
    return ast.SourceSpan(
        file=path,
        line=token.line,
        column=token.column,
        end_line=token.end_line,
        end_column=token.end_column,
    )


_CLOSING_LINE = re.compile(r"\n[ \t]*\Z")


def string_value(token: str) -> str:
    """The value of a STRING token: triple-quoted text is raw and dedented, short text is JSON."""
    if not token.startswith('"""'):
        return json.loads(token, strict=False)
    # As in a Python docstring (PEP 257): closing quotes on a line of their own add
    # nothing, and the margin is taken from the lines after the first.
    body = _CLOSING_LINE.sub("", token[3:-3])
    if body.startswith("\n"):
        return textwrap.dedent(body[1:])
    first, newline, rest = body.partition("\n")
    return first + newline + textwrap.dedent(rest)


class _ToTree(Transformer):
    """Builds ast nodes while the LALR parser runs (no intermediate parse tree)."""

    def __init__(self) -> None:
        super().__init__()
        self.path = "<string>"

    # Leaves

    def STRING(self, token: Token) -> Token:
        try:
            token.value = string_value(token.value)
        except json.JSONDecodeError as error:
            raise SpecSyntaxError(
                Diagnostic(
                    SYNTAX_ERROR,
                    Level.ERROR,
                    f"invalid escape in string: {error.msg}",
                    _token_span(self.path, token),
                    'escape a backslash as \\\\ and a quote as \\", or use """raw text"""',
                )
            ) from None
        return token

    def _name(self, token: Token) -> ast.Name:
        return ast.Name(value=token.value, span=_token_span(self.path, token))

    def _pattern(self, token: Token) -> ast.Pattern:
        source, _, flags = token.value[1:].rpartition("/")
        return ast.Pattern(source=source, flags=flags, span=_token_span(self.path, token))

    # Statements

    @_statement
    def version(self, span, children):
        return ast.Version(value=children[0].value, span=span)

    @_statement
    def decisions(self, span, children):
        labels = tuple(self._name(t) for t in children)
        return ast.Decisions(labels=labels, span=span)

    @_statement
    def default(self, span, children):
        return ast.Default(decision=self._name(children[0]), span=span)

    @_statement
    def include(self, span, children):
        return ast.Include(path=children[0].value, span=span)

    @_statement
    def authority(self, span, children):
        level = self._name(children[0])
        return ast.AuthorityStatement(level=level, span=span)

    @_statement
    def summary(self, span, children):
        return ast.Summary(value=children[0].value, span=span)

    @_statement
    def define(self, span, children):
        term, value = children
        return ast.Define(term=term.value, value=value.value, span=span)

    @_statement
    def text(self, span, children):
        return ast.Text(value=children[0].value, span=span)

    @_statement
    def style_ref(self, span, children):
        return ast.StyleRef(style=self._name(children[0]), span=span)

    @_statement
    def severity(self, span, children):
        level = self._name(children[0])
        return ast.SeverityStatement(level=level, span=span)

    @_statement
    def overrides(self, span, children):
        rules = tuple(self._name(t) for t in children)
        return ast.Overrides(rules=rules, span=span)

    @_statement
    def match_keyword(self, span, children):
        return ast.MatchKeyword(keyword=children[0].value, span=span)

    @_statement
    def match_pattern(self, span, children):
        pattern = self._pattern(children[0])
        return ast.MatchPattern(pattern=pattern, span=span)

    @_statement
    def deprecated(self, span, children):
        return ast.Deprecated(reason=children[0].value, span=span)

    @_statement
    def renamed_from(self, span, children):
        return ast.RenamedFrom(old_id=self._name(children[0]), span=span)

    @_statement
    def message(self, span, children):
        role, content = children
        return ast.Message(role=self._name(role), content=content.value, span=span)

    @_statement
    def cites(self, span, children):
        rules = tuple(self._name(t) for t in children)
        return ast.Cites(rules=rules, span=span)

    @_statement
    def max_sentences(self, span, children):
        return ast.MaxSentences(value=int(children[0]), span=span)

    @_statement
    def max_words(self, span, children):
        return ast.MaxWords(value=int(children[0]), span=span)

    @_statement
    def require(self, span, children):
        return ast.Require(pattern=self._pattern(children[0]), span=span)

    @_statement
    def forbid(self, span, children):
        return ast.Forbid(pattern=self._pattern(children[0]), span=span)

    # Blocks

    @_statement
    def short_example(self, span, children):
        decision, prompt, *cites = children
        message = ast.Message(
            role=ast.Name(value="user", span=_token_span(self.path, prompt)),
            content=prompt.value,
            span=_token_span(self.path, prompt),
        )
        return ast.Example(
            decision=self._name(decision),
            block=False,
            statements=(message, *cites),
            span=span,
        )

    @_statement
    def block_example(self, span, children):
        decision, *body = children
        statements, trailing, end_comments = _attach_comments(body, decision.end_line)
        return ast.Example(
            decision=self._name(decision),
            block=True,
            statements=statements,
            trailing_comment=trailing,
            end_comments=end_comments,
            span=span,
        )

    @_statement
    def rule(self, span, children):
        rule_id, decision, title, *body = children
        statements, trailing, end_comments = _attach_comments(body, title.end_line)
        return ast.Rule(
            id=rule_id.value,
            id_span=_token_span(self.path, rule_id),
            decision=self._name(decision),
            title=title.value,
            statements=statements,
            trailing_comment=trailing,
            end_comments=end_comments,
            span=span,
        )

    def _block(self, node_type, span, children):
        decl_id, title, *body = children
        statements, trailing, end_comments = _attach_comments(body, title.end_line)
        return node_type(
            id=decl_id.value,
            id_span=_token_span(self.path, decl_id),
            title=title.value,
            statements=statements,
            trailing_comment=trailing,
            end_comments=end_comments,
            span=span,
        )

    @_statement
    def spec(self, span, children):
        return self._block(ast.SpecHeader, span, children)

    @_statement
    def category(self, span, children):
        return self._block(ast.Category, span, children)

    @_statement
    def style(self, span, children):
        return self._block(ast.Style, span, children)

    @_statement
    def start(self, span, children):
        header = _file_header(children)
        declarations, _, end_comments = _attach_comments(children[len(header) :], open_line=0)
        return ast.PolicyFile(
            path=self.path,
            comments=tuple(c.value.rstrip() for c in header),
            declarations=declarations,
            end_comments=end_comments,
            span=span,
        )


def _file_header(children: list) -> list[Token]:
    """The comments that open a file and stand apart from its first declaration by a blank line."""
    leading = []
    for child in children:
        if not isinstance(child, Token):
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
        if isinstance(child, Token):
            comment = child.value.rstrip()
            if child.line == last_line and not pending:
                if statements:
                    previous = statements[-1]
                    slot = (
                        "closing_comment" if isinstance(previous, ast.Block) else "trailing_comment"
                    )
                    statements[-1] = previous.model_copy(update={slot: comment})
                else:
                    header_trailing = comment
            else:
                pending.append(comment)
            continue
        if pending:
            child = child.model_copy(update={"comments": tuple(pending)})
            pending = []
        statements.append(child)
        last_line = child.span.end_line
    return tuple(statements), header_trailing, tuple(pending)


_transformer = _ToTree()
_parser = Lark(
    resources.files("spec_lang").joinpath("policy.lark").read_text(encoding="utf-8"),
    parser="lalr",
    lexer=PolicyLexer,
    maybe_placeholders=False,
    keep_all_tokens=True,
    transformer=_transformer,
)
_lock = threading.Lock()
_lexer_conf = _parser.parser.lexer_conf
_string_pattern = re.compile(
    next(t.pattern.to_regexp() for t in _lexer_conf.terminals if t.name == "STRING"), re.DOTALL
)


def reads_as_one_string(literal: str) -> bool:
    """Whether the lexer would read `literal` back as exactly one string token."""
    return _string_pattern.fullmatch(literal) is not None


@contextmanager
def gc_paused():
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
    with _lock, gc_paused():
        _transformer.path = path
        try:
            return _parser.parse(text)
        except UnexpectedInput as error:
            raise SpecSyntaxError(_describe(error, text, path)) from None
        except SpecSyntaxError:
            raise
        except Exception as error:  # a transformer callback failed on odd input
            cause = getattr(error, "orig_exc", error)
            if isinstance(cause, SpecSyntaxError):
                raise cause from None
            raise SpecSyntaxError(
                Diagnostic(
                    SYNTAX_ERROR,
                    Level.ERROR,
                    f"cannot parse this file: {cause}",
                    ast.SourceSpan(file=path, line=1, column=1, end_line=1, end_column=2),
                )
            ) from None


def _describe(error: UnexpectedInput, text: str, path: str) -> Diagnostic:
    """Turn a lark error into a diagnostic that says, in words, what was expected."""
    line, column = max(error.line, 1), max(error.column, 1)
    width = 1
    hint = None
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else ""
        if char == '"':
            message = "unterminated string"
            hint = 'close it with " on the same line, or use """ for text over several lines'
        elif char == "/":
            message = "unterminated or empty /pattern/"
            hint = "a pattern is written /regex/flags on one line"
        else:
            message = f"unexpected character {char!r}"
            expected = _expected_words(error.allowed or set())
            if expected:
                message += f"; expected {expected}"
    elif isinstance(error, UnexpectedEOF):
        message = f"unexpected end of file; expected {_expected_words(error.expected)}"
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
    else:
        assert isinstance(error, UnexpectedToken)
        token = error.token
        width = max(1, len(str(token.value).split("\n", 1)[0]))
        found = _found_words(token)
        message = f"expected {_expected_words(error.expected)}, found {found}"
        keywords = [_keyword(name) for name in error.expected if _keyword(name)]
        if token.type in TERMINAL_WORDS or token.type.startswith("__"):
            from spec_lang.diagnostics import did_you_mean

            hint = did_you_mean(str(token.value), keywords)
        if token.type == "COMMENT":
            hint = "a comment stands on its own line or at the end of a statement"
    span = ast.SourceSpan(
        file=path, line=line, column=column, end_line=line, end_column=column + width
    )
    return Diagnostic(SYNTAX_ERROR, Level.ERROR, message, span, hint)


def _keyword(terminal: str) -> str | None:
    """The literal text of a keyword or punctuation terminal, or None for named ones."""
    if terminal in TERMINAL_WORDS or terminal == "COMMENT":
        return None
    try:
        pattern = _parser.get_terminal(terminal).pattern
    except KeyError:
        return None
    return pattern.value if pattern.type == "str" else None


def _expected_words(expected: set[str]) -> str:
    words = sorted(
        {TERMINAL_WORDS.get(name) or f"'{_keyword(name) or name}'" for name in expected}
        - {"'COMMENT'", "'$END'"},
        key=lambda w: (w.startswith("'"), w),
    )
    if not words:
        return "the end of the file"
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _found_words(token: Token) -> str:
    if token.type == "$END":
        return "the end of the file"
    if token.type == "STRING":
        return "a string"
    if token.type == "COMMENT":
        return "a comment"
    return f"'{token.value}'"
