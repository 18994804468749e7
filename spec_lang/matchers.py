"""Every rule's `match` statements compiled into one RE2 set.

Matching text against the whole spec is one linear-time scan, however many
rules it has, and safe on untrusted text (RE2 has no backtracking). Text is
normalised first (`spec_lang.text.normalize`: NFKC, invisible characters removed,
look-alike letters mapped), keywords the same way, and a keyword's word
boundaries are Unicode-aware (RE2's `\b` knows only ASCII letters). Matchers read
what the user said (a transcript's `request`, an example's user messages), never a
system message (which may hold the spec itself) or the assistant's own words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import re2

from spec_lang import ast
from spec_lang.loader import Spec
from spec_lang.text import normalize

PATTERN_FLAGS = frozenset("ims")
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False
_OPTIONS.max_mem = 1 << 30  # a set of ten thousand patterns needs more than the 8 MB default


# Not a letter, digit or underscore of any script: the edge of a keyword that starts or
# ends with a non-ASCII letter. RE2's `\b` knows only ASCII word characters; Unicode
# classes cost memory and time in a set of thousands, so ASCII edges keep `\b`.
_EDGE_BEFORE = r"(?:^|[^\pL\pN_])"
_EDGE_AFTER = r"(?:$|[^\pL\pN_])"


def keyword_regex(keyword: str) -> str:
    """A keyword matches as a whole word or phrase in any script, ignoring case and how it
    is spaced or wrapped across lines."""
    keyword = normalize(keyword)
    escaped = r"\s+".join(re2.escape(word) for word in keyword.split())
    return f"(?i){_edge(keyword[:1], _EDGE_BEFORE)}{escaped}{_edge(keyword[-1:], _EDGE_AFTER)}"


def _edge(character: str, unicode_edge: str) -> str:
    if not (character.isalnum() or character == "_"):
        return ""
    return r"\b" if character.isascii() else unicode_edge


def pattern_regex(pattern: ast.Pattern) -> str:
    return f"(?{pattern.flags}){pattern.source}" if pattern.flags else pattern.source


def pattern_error(pattern: ast.Pattern) -> str | None:
    """Why RE2 cannot run a pattern, or None when it can."""
    unknown = set(pattern.flags) - PATTERN_FLAGS
    if unknown:
        return f"unknown flag {''.join(sorted(unknown))!r} (flags are i, m and s)"
    try:
        re2.compile(pattern_regex(pattern), _OPTIONS)
    except re2.error as error:
        message = error.args[0] if error.args else str(error)
        return message.decode() if isinstance(message, bytes) else str(message)
    return None


def arguments_text(arguments: str | dict | None) -> str:
    """What `match tool` reads of a call's arguments: for a JSON object (as text, as
    OpenAI's chat format carries it, or parsed), one `name: value` line per argument, a
    string value as it is and any other as JSON; for any other text, the text itself."""
    if isinstance(arguments, str):
        try:
            parsed: Any = json.loads(arguments)
        except ValueError:
            return arguments
        if not isinstance(parsed, dict):
            return arguments
        arguments = parsed
    if not arguments:
        return ""
    return "\n".join(
        f"{name}: {value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)}"
        for name, value in arguments.items()
    )


@dataclass(frozen=True)
class ToolMatchers:
    """Which rules' `match tool` statements fire on one tool's calls: the rules that match
    every call of it, and one RE2 set of the patterns and keywords read in its arguments."""

    every_call: tuple[str, ...] = ()
    regex_set: Any = None
    rule_of_entry: tuple[str, ...] = ()

    def fired(self, arguments: str) -> set[str]:
        hits = set(self.every_call)
        if self.regex_set is not None:
            hits.update(self.rule_of_entry[i] for i in self.regex_set.Match(normalize(arguments)) or ())
        return hits


@dataclass(frozen=True)
class Matchers:
    """Which rules' matches fire on a text, and on a tool call."""

    regex_set: object | None
    rule_of_entry: tuple[str, ...]
    order: dict[str, int]
    errors: dict[int, tuple[ast.Pattern, str]]
    tools: dict[str, ToolMatchers] = field(default_factory=dict)

    @classmethod
    def for_spec(cls, spec: Spec) -> Matchers:
        """Compile every live rule's matches into one set.

        A pattern RE2 cannot run is left out and recorded in `errors` (the checker
        reports them), so each pattern is parsed once, not once to check and once to use.
        """
        regex_set = re2.Set.SearchSet(_OPTIONS)
        owners: list[str] = []
        errors: dict[int, tuple[ast.Pattern, str]] = {}
        for rule in spec.rule_by_id.values():
            if rule.deprecated is not None:
                continue
            for statement in rule.matches:
                if isinstance(statement, ast.MatchKeyword):
                    if not statement.keyword:
                        continue
                    source = keyword_regex(statement.keyword)
                elif set(statement.pattern.flags) <= PATTERN_FLAGS:
                    source = pattern_regex(statement.pattern)
                else:
                    errors[id(statement)] = (statement.pattern, pattern_error(statement.pattern))
                    continue
                try:
                    regex_set.Add(source)
                except re2.error:
                    errors[id(statement)] = (statement.pattern, pattern_error(statement.pattern))
                    continue
                owners.append(rule.id)
        if owners:
            regex_set.Compile()
        tools = _tool_matchers(spec, errors)
        return cls(regex_set if owners else None, tuple(owners), spec.rule_order, errors, tools)

    def fired(self, text: str) -> tuple[str, ...]:
        """IDs of the rules with a match in `text`, in declaration order."""
        if self.regex_set is None:
            return ()
        hits = {self.rule_of_entry[i] for i in self.regex_set.Match(normalize(text)) or ()}
        return tuple(sorted(hits, key=self.order.__getitem__))

    def fired_by_call(self, tool: str, arguments: str | dict | None) -> tuple[str, ...]:
        """IDs of the rules whose `match tool` fires on a call of `tool` with `arguments`
        (JSON text or an object), in declaration order."""
        matchers = self.tools.get(tool)
        if matchers is None:
            return ()
        hits = matchers.fired(arguments_text(arguments))
        return tuple(sorted(hits, key=self.order.__getitem__))


def _tool_matchers(
    spec: Spec, errors: dict[int, tuple[ast.Pattern, str]]
) -> dict[str, ToolMatchers]:
    """Every live rule's `match tool` statements, by tool."""
    every_call: dict[str, list[str]] = {}
    entries: dict[str, list[tuple[str, str]]] = {}
    for rule in spec.rule_by_id.values():
        if rule.deprecated is not None:
            continue
        for statement in rule.tool_matches:
            tool = statement.tool.value
            if statement.pattern is not None:
                problem = pattern_error(statement.pattern)
                if problem:
                    errors[id(statement)] = (statement.pattern, problem)
                    continue
                entries.setdefault(tool, []).append((rule.id, pattern_regex(statement.pattern)))
            elif statement.keyword is not None and statement.keyword.strip():
                entries.setdefault(tool, []).append((rule.id, keyword_regex(statement.keyword)))
            elif statement.keyword is None:
                every_call.setdefault(tool, []).append(rule.id)
    tools = {}
    for tool in every_call.keys() | entries.keys():
        regex_set, owners = None, ()
        if entries.get(tool):
            regex_set = re2.Set.SearchSet(_OPTIONS)
            for _, source in entries[tool]:
                regex_set.Add(source)
            regex_set.Compile()
            owners = tuple(rule_id for rule_id, _ in entries[tool])
        tools[tool] = ToolMatchers(tuple(every_call.get(tool, ())), regex_set, owners)
    return tools
