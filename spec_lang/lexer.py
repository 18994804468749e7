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


def master_pattern(lexer_conf) -> re.Pattern:
    """One alternation of the grammar's own terminals, so the grammar stays their only source.

    Keywords and punctuation are left out: they come back as IDENTIFIER or
    PUNCTUATION and are told apart by value. OTHER catches any stray character.
    """
    by_name = {t.name: t.pattern.to_regexp() for t in lexer_conf.terminals}
    punctuation = sorted(
        t.pattern.value
        for t in lexer_conf.terminals
        if t.pattern.type == "str" and not t.pattern.value.isidentifier()
    )
    alternatives = {
        "SPACE": "|".join(by_name[name] for name in lexer_conf.ignore),
        "COMMENT": by_name["COMMENT"],
        "STRING": by_name["STRING"],
        "REGEX": by_name["REGEX"],
        "INT": by_name["INT"] + "(?![A-Za-z_])",
        "IDENTIFIER": by_name[IDENTIFIER_TERMINALS[0]],
        "PUNCTUATION": "|".join(re.escape(p) for p in punctuation),
        "OTHER": ".",
    }
    return re.compile("|".join(f"(?P<{k}>{v})" for k, v in alternatives.items()), re.DOTALL)


class PolicyLexer(Lexer):
    __future_interface__ = 2  # lark passes the parser state to lex()

    def __init__(self, lexer_conf) -> None:
        self.master = master_pattern(lexer_conf)
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
        for match in self.master.finditer(text):
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
