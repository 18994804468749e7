"""A fast contextual lexer for the .policy grammar.

lark's own contextual lexer tries terminals one state-specific regex at a time
in Python; on a 10,000-rule spec that alone takes seconds. This lexer scans the
text with one compiled master pattern and, like lark's, gives an identifier the
terminal type the LALR parser accepts in its current state: a keyword where a
keyword fits, otherwise the one kind of identifier (rule ID, decision, ...)
that state expects. The grammar file stays the single source of the language:
keyword and punctuation terminals are read from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lark import Token
from lark.exceptions import UnexpectedCharacters
from lark.lexer import Lexer, LexerState

# The identifier terminals of the grammar, all sharing one pattern.
IDENTIFIER_TERMINALS = (
    "SPEC_ID",
    "CATEGORY_ID",
    "RULE_ID",
    "STYLE_ID",
    "DECISION",
    "AUTHORITY",
    "SEVERITY",
    "ROLE",
)

TRIPLE_QUOTED = r'"""(?:[^"]+|"(?!""))*"""'
SHORT_QUOTED = r'"(?!"")(?:[^"\\\n]+|\\.)*"|""(?!")'
_MASTER = re.compile(
    rf"""
    (?P<SPACE>[ \t\f\r\n]+)
  | (?P<COMMENT>\#[^\n]*)
  | (?P<STRING>{TRIPLE_QUOTED}|{SHORT_QUOTED})
  | (?P<REGEX>/(?![/*])(?:[^/\\\n]+|\\.)+/[A-Za-z]*)
  | (?P<INT>[0-9]+(?![A-Za-z_]))
  | (?P<IDENTIFIER>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)
  | (?P<PUNCTUATION>[{{}}<,])
  | (?P<OTHER>.)
    """,
    re.VERBOSE | re.DOTALL,
)
TRIPLE_QUOTED_LITERAL = re.compile(TRIPLE_QUOTED)


class PolicyLexer(Lexer):
    __future_interface__ = 2  # lark passes the parser state to lex()

    def __init__(self, lexer_conf) -> None:
        self.literals = {
            t.pattern.value: t.name for t in lexer_conf.terminals if t.pattern.type == "str"
        }
        self._identifier_type: dict[int, str | None] = {}

    def _identifier_for_state(self, accepted: dict) -> str | None:
        return next((name for name in IDENTIFIER_TERMINALS if name in accepted), None)

    def lex(self, lexer_state: LexerState, parser_state) -> Iterator[Token]:
        text = lexer_state.text.text
        states = parser_state.parse_conf.parse_table.states
        literals = self.literals
        line, line_start = 1, 0
        for match in _MASTER.finditer(text):
            kind = match.lastgroup
            value = match.group()
            start = match.start()
            if kind == "SPACE":
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = start + value.rindex("\n") + 1
                continue
            if kind == "OTHER":
                raise UnexpectedCharacters(text, start, line, start - line_start + 1)
            if kind == "IDENTIFIER":
                accepted = states[parser_state.position]
                keyword = literals.get(value)
                if keyword is not None and keyword in accepted:
                    kind = keyword
                else:
                    kind = self._identifier_type.get(parser_state.position, "")
                    if kind == "":
                        kind = self._identifier_for_state(accepted)
                        self._identifier_type[parser_state.position] = kind
                    kind = kind or keyword or "RULE_ID"
            elif kind == "PUNCTUATION":
                kind = literals[value]
            end_line, end_column = line, start - line_start + 1 + len(value)
            newlines = value.count("\n") if kind == "STRING" else 0
            if newlines:
                end_line = line + newlines
                end_column = len(value) - value.rindex("\n")
            token = Token(
                kind,
                value,
                start,
                line,
                start - line_start + 1,
                end_line,
                end_column,
                match.end(),
            )
            if newlines:
                line, line_start = end_line, start + value.rindex("\n") + 1
            lexer_state.last_token = token
            yield token
