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

import functools
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Matchers:
    """Which rules' matches fire on a text."""

    regex_set: object | None
    rule_of_entry: tuple[str, ...]
    order: dict[str, int]
    errors: dict[int, tuple[ast.Pattern, str]]
    sources: tuple[str, ...] = ()  # each entry's regex, in the set's order

    @classmethod
    def for_spec(cls, spec: Spec) -> Matchers:
        """Compile every live rule's matches into one set.

        A pattern RE2 cannot run is left out and recorded in `errors` (the checker
        reports them), so each pattern is parsed once, not once to check and once to use.
        """
        regex_set = re2.Set.SearchSet(_OPTIONS)
        owners: list[str] = []
        sources: list[str] = []
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
                sources.append(source)
        if owners:
            regex_set.Compile()
        return cls(
            regex_set if owners else None, tuple(owners), spec.rule_order, errors, tuple(sources)
        )

    def fired(self, text: str) -> tuple[str, ...]:
        """IDs of the rules with a match in `text`, in declaration order."""
        if self.regex_set is None:
            return ()
        hits = {self.rule_of_entry[i] for i in self.regex_set.Match(normalize(text)) or ()}
        return tuple(sorted(hits, key=self.order.__getitem__))

    def spans(self, normalized: str, rule_id: str) -> list[tuple[int, int]]:
        """Where the rule's matches hit in an already normalised text (slower than
        `fired`: one regex per match statement; for the few rules that fired)."""
        found = []
        for source, owner in zip(self.sources, self.rule_of_entry, strict=True):
            if owner == rule_id:
                found += [m.span() for m in _compiled(source).finditer(normalized)]
        return sorted(found)


@functools.lru_cache(maxsize=1024)
def _compiled(source: str) -> object:
    return re2.compile(source, _OPTIONS)
