"""Every rule's `match` statements compiled into one RE2 set.

Matching text against the whole spec is one linear-time scan, however many
rules it has, and safe on untrusted text (RE2 has no backtracking). Text is
normalised first (`spec_lang.text.normalize`: NFKC, invisible characters removed,
diacritics folded, look-alike letters mapped), keywords and the letters of patterns
the same way, and a keyword's word boundaries are Unicode-aware (RE2's `\b` knows
only ASCII letters). Text that shows obfuscation ("h a c k", "m3th") is also read as
`spec_lang.text.deobfuscate` reads it, and a match on any reading counts. A match reads
what the user said (every user turn) unless it says whose words it reads (`in
system`, `in last assistant`): a system message may hold the spec itself, so only a
match that asks for it reads one. There is one RE2 set per scope a spec uses, and one
per tool that `match tool` statements name, read in the calls of that tool.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import re2

from spec_lang import ast
from spec_lang.loader import Spec
from spec_lang.text import deobfuscate, deobfuscate_mapped, normalize, normalize_pattern

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
    """A pattern as RE2 reads it, with its flags: as written, for text read as it is (a
    style's patterns, on answers)."""
    return f"(?{pattern.flags}){pattern.source}" if pattern.flags else pattern.source


def match_pattern_regex(pattern: ast.Pattern) -> str:
    """A match pattern as it runs on normalised text: its letters normalised too, so
    `/méthode/` reads `methode`."""
    return normalize_pattern(pattern_regex(pattern))


def statement_regex(statement: ast.MatchKeyword | ast.MatchPattern) -> str:
    """The regex a match statement or `unless` condition runs as."""
    if isinstance(statement, ast.MatchKeyword):
        return keyword_regex(statement.keyword)
    return match_pattern_regex(statement.pattern)


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


# Whose words a scope reads: a match's `in ROLE` names these message roles.
_ROLES_READ = {
    "user": ("user",),
    "assistant": ("assistant",),
    "system": ("system", "developer"),
    "tool": ("tool",),
    "any": ast.MESSAGE_ROLES,
}
USER = ("user", False)  # the default scope: every user turn


def scope_of(matcher: ast.MatchKeyword | ast.MatchPattern) -> tuple[str, bool]:
    """(role, last) of a match: whose words it reads, and whether only the last such turn."""
    reads = matcher.reads
    return (reads.role.value, reads.last) if reads else USER


def scope_text(messages: Sequence[tuple[str, str]], scope: tuple[str, bool]) -> str:
    """The words a scope reads in a conversation of (role, content) pairs: every turn of its
    roles one per line, or the last one alone."""
    role, last = scope
    roles = _ROLES_READ.get(role, ())
    turns = [content for speaker, content in messages if speaker in roles]
    if last:
        return turns[-1] if turns else ""
    return "\n".join(turns)


def describe_scope(scope: tuple[str, bool]) -> str:
    """In words, for prompts: whose words a match reads."""
    role, last = scope
    if role == "any":
        return "the last message" if last else "every message"
    who = "system or developer" if role == "system" else role
    return f"the last {who} message" if last else f"{who} messages"


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
            found = search_readings(self.regex_set, normalize(arguments))
            hits.update(self.rule_of_entry[i] for i in found)
        return hits


class Hits(NamedTuple):
    """What a conversation sets off: the rules whose matches fire (declaration order), and
    the exceptions whose `unless` condition holds (their overrides are suspended)."""

    fired: tuple[str, ...]
    suspended: frozenset[str]


_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class _ScopeSet:
    regex_set: object
    entries: tuple[tuple[str, bool], ...]  # (rule ID, is an `unless` condition) per entry
    statements: tuple[ast.Matcher, ...]  # the match or condition of each entry
    sources: tuple[str, ...]  # each entry's regex


@dataclass(frozen=True)
class StatementHit:
    """One match statement or `unless` condition that fires, and the text it read."""

    rule: str
    statement: ast.Matcher
    is_condition: bool
    text: str  # the words of its scope, as written


@dataclass(frozen=True)
class Matchers:
    """Which rules' matches fire on a conversation, and whose `unless` conditions hold."""

    sets: dict[tuple[str, bool], _ScopeSet]
    order: dict[str, int]
    errors: dict[int, tuple[ast.Pattern, str]]
    when: dict[str, tuple[ast.AttributeTest, ...]]  # rules whose matches need attributes
    unless_attributes: dict[str, tuple[ast.AttributeTest, ...]]
    tools: dict[str, ToolMatchers] = field(default_factory=dict)  # by tool name

    @classmethod
    def for_spec(cls, spec: Spec) -> Matchers:
        """Compile every live rule's matches and `unless` conditions into one set per scope.

        A pattern RE2 cannot run is left out and recorded in `errors` (the checker
        reports them), so each pattern is parsed once, not once to check and once to use.
        """
        regex_sets: dict[tuple[str, bool], tuple[object, list, list]] = {}
        errors: dict[int, tuple[ast.Pattern, str]] = {}
        when: dict[str, tuple[ast.AttributeTest, ...]] = {}
        unless_attributes: dict[str, tuple[ast.AttributeTest, ...]] = {}
        for rule in spec.rule_by_id.values():
            if rule.deprecated is not None:
                continue
            if rule.when:
                when[rule.id] = rule.when
            tests = tuple(c for c in rule.unless if isinstance(c, ast.AttributeTest))
            if tests:
                unless_attributes[rule.id] = tests
            conditions = [c for c in rule.unless if not isinstance(c, ast.AttributeTest)]
            statements = [(m, False) for m in rule.matches] + [(c, True) for c in conditions]
            for statement, is_condition in statements:
                source = _source(statement, errors)
                if source is None:
                    continue
                scope = scope_of(statement)
                if scope not in regex_sets:
                    regex_sets[scope] = (re2.Set.SearchSet(_OPTIONS), [], [], [])
                regex_set, entries, added, sources = regex_sets[scope]
                try:
                    regex_set.Add(source)
                except re2.error:
                    errors[id(statement)] = (statement.pattern, pattern_error(statement.pattern))
                    continue
                entries.append((rule.id, is_condition))
                added.append(statement)
                sources.append(source)
        sets = {}
        for scope, (regex_set, entries, added, sources) in regex_sets.items():
            if entries:
                regex_set.Compile()
                sets[scope] = _ScopeSet(regex_set, tuple(entries), tuple(added), tuple(sources))
        tools = _tool_matchers(spec, errors)
        return cls(sets, spec.rule_order, errors, when, unless_attributes, tools)

    @property
    def reads_beyond_user(self) -> bool:
        """Whether any match or condition reads other words than the user's."""
        return any(scope != USER for scope in self.sets)

    @property
    def rule_of_entry(self) -> frozenset[str]:
        """The rules that have matches of their own."""
        return frozenset(
            r for s in self.sets.values() for r, condition in s.entries if not condition
        )

    def fired(self, text: str) -> tuple[str, ...]:
        """IDs of the rules with a match in `text`, read as the user's words, in declaration
        order (a rule that tests attributes with `when` fires only in `scan`)."""
        return self.scan((("user", text),)).fired

    def scan(
        self, messages: Sequence[tuple[str, str]], attributes: Mapping[str, str] | None = None
    ) -> Hits:
        """What a conversation of (role, content) pairs, with its attributes, sets off."""
        attributes = attributes or {}
        hits: set[str] = set()
        suspended: set[str] = set()
        for rule_id, tests in self.unless_attributes.items():
            if any(attributes.get(t.attribute.value) == t.value.value for t in tests):
                suspended.add(rule_id)
        for scope_set, index, _ in self._matches(messages):
            rule_id, is_condition = scope_set.entries[index]
            (suspended if is_condition else hits).add(rule_id)
        gated = self.when
        if gated:
            hits = {r for r in hits if r not in gated or _holds(gated[r], attributes)}
        fired = tuple(sorted(hits, key=self.order.__getitem__))
        return Hits(fired, frozenset(suspended) if suspended else _NONE)

    def statements(self) -> list[tuple[str, ast.Matcher]]:
        """Every live rule's match statements (not `unless` conditions) with their rule IDs,
        in declaration order."""
        found = [
            (rule_id, statement)
            for scope_set in self.sets.values()
            for (rule_id, condition), statement in zip(
                scope_set.entries, scope_set.statements, strict=True
            )
            if not condition
        ]
        return sorted(found, key=lambda pair: self._place(*pair))

    def fired_statements(
        self, messages: Sequence[tuple[str, str]], attributes: Mapping[str, str] | None = None
    ) -> list[StatementHit]:
        """Each match statement and `unless` condition that fires in a conversation, in
        declaration order: why `scan` says what it says (a rule that `when` gates off
        fires no statement)."""
        attributes = attributes or {}
        found = []
        for scope_set, index, text in self._matches(messages):
            rule_id, is_condition = scope_set.entries[index]
            gated = self.when.get(rule_id)
            if not is_condition and gated and not _holds(gated, attributes):
                continue
            found.append(StatementHit(rule_id, scope_set.statements[index], is_condition, text))
        return sorted(found, key=lambda hit: self._place(hit.rule, hit.statement))

    def _matches(self, messages: Sequence[tuple[str, str]]) -> Iterator[tuple[_ScopeSet, int, str]]:
        """(scope set, index of the entry that fired, the scope's text) for every match
        statement and condition that fires, scope by scope."""
        for scope, scope_set in self.sets.items():
            text = scope_text(messages, scope)
            if text:
                for index in search_readings(scope_set.regex_set, normalize(text)):
                    yield scope_set, index, text

    def _place(self, rule_id: str, statement: ast.Matcher) -> tuple[int, int, int]:
        return (self.order[rule_id], statement.span.line, statement.span.column)

    def spans(self, normalized: str, rule_id: str) -> list[tuple[int, int]]:
        """Where the rule's matches on the user's words hit in an already normalised text,
        or in a reading of it (mapped back to the text), (slower than `scan`: one regex per
        match statement; for the few rules that fired)."""
        scope_set = self.sets.get(USER)
        if scope_set is None:
            return []
        readings = deobfuscate_mapped(normalized)
        found: set[tuple[int, int]] = set()
        for source, (owner, is_condition) in zip(scope_set.sources, scope_set.entries, strict=True):
            if owner == rule_id and not is_condition:
                regex = _compiled(source)
                found.update(m.span() for m in regex.finditer(normalized))
                for reading in readings:
                    found.update(
                        reading.original_span(*m.span()) for m in regex.finditer(reading.text)
                    )
        return sorted(found)

    def fired_by_call(self, tool: str, arguments: str | dict | None) -> tuple[str, ...]:
        """IDs of the rules whose `match tool` fires on a call of `tool` with `arguments`
        (JSON text or an object), in declaration order."""
        matchers = self.tools.get(tool)
        if matchers is None:
            return ()
        hits = matchers.fired(arguments_text(arguments))
        return tuple(sorted(hits, key=self.order.__getitem__))


def search_readings(regex_set: Any, normalized: str) -> list[int]:
    """The entries of an RE2 set that match normalised text or any of its de-obfuscated
    readings, in entry order."""
    found = set(regex_set.Match(normalized) or ())
    for reading in deobfuscate(normalized):
        found.update(regex_set.Match(reading) or ())
    return sorted(found)


@functools.lru_cache(maxsize=1024)
def _compiled(source: str) -> object:
    return re2.compile(source, _OPTIONS)


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
                regex = match_pattern_regex(statement.pattern)
                entries.setdefault(tool, []).append((rule.id, regex))
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


def _holds(tests: tuple[ast.AttributeTest, ...], attributes: Mapping[str, str]) -> bool:
    return all(attributes.get(t.attribute.value) == t.value.value for t in tests)


def _source(
    statement: ast.MatchKeyword | ast.MatchPattern, errors: dict[int, tuple[ast.Pattern, str]]
) -> str | None:
    """The regex of a match or condition, or None (recorded in `errors` when it cannot run)."""
    if isinstance(statement, ast.MatchKeyword) and not statement.keyword:
        return None
    if isinstance(statement, ast.MatchKeyword) or set(statement.pattern.flags) <= PATTERN_FLAGS:
        return statement_regex(statement)
    errors[id(statement)] = (statement.pattern, pattern_error(statement.pattern))
    return None
