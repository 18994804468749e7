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


def expected_terminals(prefix: str) -> set[str]:
    """The terminals the grammar accepts after `prefix`. A syntax error before the end is
    stepped over (the bad token or character dropped), as the author is mid-edit."""
    parser = grammar_parser()
    found: list[set[str]] = []

    def on_error(error: UnexpectedInput) -> bool:
        if isinstance(error, UnexpectedToken) and error.token.type == "$END":
            found.append(set(error.interactive_parser.accepts()))
            return False
        return True

    with contextlib.suppress(UnexpectedInput):
        parser.parse(prefix, on_error=on_error)
    if found:
        return found[0]
    return set(parser.parse_interactive("").accepts())  # between declarations


def _after(prefix: str, terminals: tuple[str, ...]) -> set[str] | None:
    """What the grammar accepts after `prefix` and then stand-ins for `terminals`; None
    when they do not fit there (or the prefix itself does not parse)."""
    interactive = grammar_parser().parse_interactive(prefix)
    try:
        interactive.exhaust_lexer()
        for terminal in terminals:
            interactive.feed_token(Token(terminal, "x"))
    except UnexpectedInput:
        return None
    return set(interactive.accepts())


def _declares(prefix: str, terminal: str) -> bool:
    """Whether a name of `terminal` at the end of `prefix` would declare something: after
    a declared name, only its title or decision may follow, never the end of a block."""
    if terminal not in DECLARED_NAMES:
        return False
    accepted = _after(prefix, (terminal,))
    return accepted is not None and "RBRACE" not in accepted


def _fits(prefix: str, terminals: tuple[str, ...]) -> bool:
    """Whether a whole statement of this shape may stand here: after it, a block may close
    or the file end. (`style ID` opens a style at the top level and names one in a rule.)
    Where the prefix has errors nothing can be ruled out, and the shape is offered."""
    if _after(prefix, ()) is None:
        return True
    accepted = _after(prefix, terminals)
    return accepted is not None and bool(accepted & {"RBRACE", "$END"})


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
    found: list[Suggestion] = []
    for terminal in sorted(expected_terminals(prefix)):
        if terminal in _keyword_shapes():
            found.extend(s for s, parts in _keyword_shapes()[terminal] if _fits(prefix, parts))
        elif terminal in WORDS and not _declares(prefix, terminal):
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
    them: optional parts (lists, a block's statements) left out, each shape once."""
    parser = grammar_parser()
    terminals = {t.name: t for t in parser.terminals}
    shapes: dict[str, dict[str, tuple[Suggestion, tuple[str, ...]]]] = {}
    for rule in parser.rules:
        first = rule.expansion[0] if rule.expansion else None
        if first is None or not first.is_term or terminals[first.name].pattern.type != "str":
            continue
        if not terminals[first.name].pattern.value.isidentifier():
            continue  # punctuation: `{`, `<`
        parts = [terminals[s.name] for s in rule.expansion if s.is_term]
        label = " ".join(_shown(t.name, t.pattern) for t in parts)
        snippet = _snippet(parts)
        shape = Suggestion(label, "keyword", label, snippet)
        names = tuple(t.name for t in parts)
        shapes.setdefault(first.name, {}).setdefault(label, (shape, names))
    return {name: list(found.values()) for name, found in shapes.items()}


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
