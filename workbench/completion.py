"""What may come next at a point of a .policy file, read from the grammar itself.

The text before the cursor is run through an LALR parser built from
spec_lang/policy.lark; where it ends, the parser says which terminals it accepts.
A keyword terminal becomes the statements that start with it, in the shape the
grammar gives them (`rule RULE_ID DECISION "…" { }`); a name terminal becomes the
names of that kind the spec declares. Nothing here lists the language's keywords,
so a statement added to the grammar is offered as soon as it is there.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from functools import cache

from lark import Lark, Token, UnexpectedInput, UnexpectedToken
from lark.parsers.lalr_interactive_parser import InteractiveParser

from spec_lang import ast
from spec_lang.loader import Spec
from spec_lang.parser import GRAMMAR, WORDS

ROLES = ast.MESSAGE_ROLES
# Names a declaration introduces: offering the spec's existing ones there would be wrong.
DECLARED_NAMES = frozenset({"SPEC_ID", "CATEGORY_ID", "RULE_ID", "STYLE_ID"})
_PARTIAL_WORD = re.compile(r"[A-Za-z0-9_-]*\Z")


@dataclass(frozen=True, slots=True)
class Suggestion:
    label: str
    kind: str  # "keyword" (a statement's shape) or the terminal a name fills: "RULE_ID", ...
    detail: str
    snippet: str | None = None  # LSP snippet syntax: ${1:NAME} placeholders, $0 the end


@cache
def grammar_parser() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="contextual", keep_all_tokens=True)


def parser_at(prefix: str) -> InteractiveParser | None:
    """The grammar's parser having read `prefix`; None where the prefix has an error."""
    interactive = grammar_parser().parse_interactive(prefix)
    try:
        interactive.exhaust_lexer()
    except UnexpectedInput:
        return None
    return interactive


def expected_terminals(prefix: str, state: InteractiveParser | None) -> set[str]:
    """The terminals the grammar accepts after `prefix` (`state`: the parser having read it,
    None where it has an error). An error before the end is stepped over (the bad token or
    character dropped), as the author is mid-edit."""
    if state is not None:
        return set(state.accepts())
    found: list[set[str]] = []

    def on_error(error: UnexpectedInput) -> bool:
        if isinstance(error, UnexpectedToken) and error.token.type == "$END":
            found.append(set(error.interactive_parser.accepts()))
            return False
        return True

    parser = grammar_parser()
    with contextlib.suppress(UnexpectedInput):
        parser.parse(prefix, on_error=on_error)
    if found:
        return found[0]
    return set(parser.parse_interactive("").accepts())  # between declarations


def _takes(state: InteractiveParser, terminals: tuple[str, ...], then: str) -> bool | None:
    """Whether, after stand-ins for `terminals`, the grammar takes `then` ("$END": the end
    of the file); None when the terminals themselves do not fit."""
    interactive = state.copy()
    try:
        for terminal in terminals:
            interactive.feed_token(Token(terminal, "x"))
    except UnexpectedInput:
        return None
    try:
        if then == "$END":
            interactive.feed_eof()
        else:
            interactive.feed_token(Token(then, "x"))
    except UnexpectedInput:
        return False
    return True


def _declares(state: InteractiveParser | None, terminal: str) -> bool:
    """Whether a name of `terminal` here would declare something: after a declared name,
    only its title or decision may follow, never the end of a block."""
    if terminal not in DECLARED_NAMES or state is None:
        return False
    return _takes(state, (terminal,), "RBRACE") is False


def _fits(state: InteractiveParser | None, terminals: tuple[str, ...]) -> bool:
    """Whether a whole statement of this shape may stand here: after it, a block may close
    or the file end. (`style ID` opens a style at the top level and names one in a rule.)
    Where the text before has errors nothing can be ruled out, and the shape is offered."""
    if state is None:
        return True
    return bool(_takes(state, terminals, "RBRACE") or _takes(state, terminals, "$END"))


def in_string_or_comment(line_prefix: str) -> bool:
    """Whether a cursor after `line_prefix` (its line up to the cursor) is inside a short
    string or a comment, where nothing is offered."""
    quoted = False
    for index, char in enumerate(line_prefix):
        if char == '"' and (index == 0 or line_prefix[index - 1] != "\\"):
            quoted = not quoted
        elif char == "#" and not quoted:
            return True
    return quoted


def suggestions(text: str, offset: int, spec: Spec | None) -> list[Suggestion]:
    """What may be written at `offset` of `text` (a file of `spec`, when it loads)."""
    line_start = text.rfind("\n", 0, offset) + 1
    if in_string_or_comment(text[line_start:offset]):
        return []
    prefix = text[:offset]
    prefix = prefix[: _PARTIAL_WORD.search(prefix).start()]
    state = parser_at(prefix)
    found: list[Suggestion] = []
    for terminal in sorted(expected_terminals(prefix, state)):
        if terminal in _keyword_shapes():
            found.extend(s for s, parts in _keyword_shapes()[terminal] if _fits(state, parts))
        elif terminal in WORDS and not _declares(state, terminal):
            found.extend(_names(terminal, spec))
    return found


def _names(terminal: str, spec: Spec | None) -> list[Suggestion]:
    kind = terminal
    if terminal == "RULE_ID" and spec is not None:
        return [Suggestion(r.id, kind, f"{r.decision.value}: {r.title}") for r in spec.rules]
    if terminal == "STYLE_ID" and spec is not None:
        return [Suggestion(s.id, kind, s.title) for s in spec.styles]
    if terminal == "CATEGORY_ID" and spec is not None:
        return [Suggestion(c.id, kind, c.title) for c in spec.categories]
    attributes = spec.attributes if spec is not None else {}
    values = {
        "DECISION": spec.decisions if spec is not None else ast.DEFAULT_DECISIONS,
        "SEVERITY": spec.severities if spec is not None else [s.value for s in ast.Severity],
        "AUTHORITY": [a.value for a in ast.Authority],
        "ANSWER_KIND": list(ast.ANSWER_KINDS),
        "ROLE": list(ROLES),
        "ATTRIBUTE": list(attributes),
        "VALUE": list(dict.fromkeys(v for values in attributes.values() for v in values)),
    }.get(terminal, ())
    return [Suggestion(value, kind, WORDS[terminal]) for value in values]


@cache
def _keyword_shapes() -> dict[str, list[tuple[Suggestion, tuple[str, ...]]]]:
    """Each keyword terminal to the statements that start with it, as the grammar writes
    them: the parts they are made of spelt out, optional lists (a block's statements,
    `, ID` repeats) left out, each shape once."""
    parser = grammar_parser()
    shapes: dict[str, dict[str, tuple[Suggestion, tuple[str, ...]]]] = {}
    for rule in parser.rules:
        first = rule.expansion[0] if rule.expansion else None
        if first is None or not first.is_term or not _is_keyword(first.name):
            continue
        for parts in _spelt_out(rule.expansion, 0):
            label = " ".join(_shown(t.name, t.pattern) for t in parts)
            shape = Suggestion(label, "keyword", label, _snippet(parts))
            names = tuple(t.name for t in parts)
            shapes.setdefault(first.name, {}).setdefault(label, (shape, names))
    return {name: list(found.values()) for name, found in shapes.items()}


MAX_DEPTH = 4  # nesting spelt out in a shape (`unless keyword "…" in last ROLE` is 2)


def _is_keyword(name: str) -> bool:
    pattern = _terminals()[name].pattern
    return pattern.type == "str" and pattern.value.isidentifier()


@cache
def _terminals() -> dict:
    return {t.name: t for t in grammar_parser().terminals}


@cache
def _rules_of() -> dict[str, list]:
    found: dict[str, list] = {}
    for rule in grammar_parser().rules:
        found.setdefault(rule.origin.name, []).append(rule.expansion)
    return found


def _spelt_out(symbols, depth: int) -> list[list]:
    """Every sequence of terminals `symbols` can be, lists and repeats left out."""
    sequences: list[list] = [[]]
    for symbol in symbols:
        if symbol.is_term:
            options = [[_terminals()[symbol.name]]]
        elif symbol.name.endswith("_items") or symbol.name.startswith("__") or depth > MAX_DEPTH:
            options = [[]]
        else:
            options = [
                option
                for expansion in _rules_of()[symbol.name]
                for option in _spelt_out(expansion, depth + 1)
            ]
        sequences = [sequence + option for sequence in sequences for option in options]
    return sequences


def _shown(name: str, pattern) -> str:
    if pattern.type == "str":
        return pattern.value
    return {"STRING": '"…"', "REGEX": "/…/", "INT": "N"}.get(name, name)


def _snippet(parts) -> str:
    pieces, number = [], 0
    for terminal in parts:
        if terminal.pattern.type == "str":
            if terminal.name == "LBRACE":
                pieces.append("{\n\t$0")
            elif terminal.name == "RBRACE":
                pieces.append("\n}")
            else:
                pieces.append(terminal.pattern.value)
            continue
        number += 1
        placeholder = {"STRING": f'"${number}"', "REGEX": f"/${number}/"}
        pieces.append(placeholder.get(terminal.name, f"${{{number}:{terminal.name}}}"))
    return " ".join(pieces).replace(" \n}", "\n}")
