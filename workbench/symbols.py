"""Every place a spec names a rule, category, style or decision: where each is declared
and where it is used, across all the spec's files. Go to definition, find references,
rename and the documentation site's links read this one index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from core.diagnostics import SourceSpan
from spec_lang import ast
from spec_lang.loader import Spec
from spec_lang.parser import GRAMMAR

# A name, as the grammar's WORD terminal reads one (SH-2, self_harm, C-1-a).
_WORD = re.search(r"^WORD: /(.*)/$", GRAMMAR.read_text(), re.MULTILINE)[1]  # type: ignore[index]
_IDENTIFIER = re.compile(_WORD)


def is_identifier(text: str) -> bool:
    return _IDENTIFIER.fullmatch(text) is not None


class Kind(StrEnum):
    RULE = "rule"
    CATEGORY = "category"
    STYLE = "style"
    DECISION = "decision"
    ATTRIBUTE = "attribute"


class Role(StrEnum):
    DEFINITION = "definition"
    REFERENCE = "reference"
    RENAMED_FROM = "renamed_from"  # a rule's former ID: it names the rule, but is history


@dataclass(frozen=True, slots=True)
class Occurrence:
    kind: Kind
    name: str  # as written
    target: str  # what it names: a renamed rule ID resolved to the current one
    span: SourceSpan
    role: Role

    def contains(self, file: str, line: int, column: int) -> bool:
        """Whether the 1-based position lies on the name (its end included, as an editor's
        cursor just after a word is on it)."""
        span = self.span
        return span.file == file and span.line == line and span.column <= column <= span.end_column


def name_span(span: SourceSpan, name: str) -> SourceSpan:
    """The span of a name written on one line, from a span that starts where it starts."""
    return span._replace(end_line=span.line, end_column=span.column + len(name))


def occurrences(spec: Spec) -> list[Occurrence]:
    """Every declaration and use of a name in the spec, file by file in include order."""
    return list(_occurrences(spec))


def _occurrences(spec: Spec) -> Iterator[Occurrence]:
    header = spec.header
    if header.decisions:
        for label in header.decisions.labels:
            yield _name(Kind.DECISION, label, Role.DEFINITION, label.value)
    for name in (header.default, *(a.decision for a in header.answers)):
        if name is not None:
            yield _name(Kind.DECISION, name, Role.REFERENCE, name.value)
    if header.default_style is not None:
        yield _style(header.default_style)
    for attribute in header.attributes:
        yield _name(Kind.ATTRIBUTE, attribute.name, Role.DEFINITION, attribute.name.value)
    for category in spec.categories:
        yield _declared(Kind.CATEGORY, category)
        for old in category.renamed_from:
            yield _name(Kind.CATEGORY, old, Role.RENAMED_FROM, category.id)
        for rule in category.rules:
            yield from _rule(spec, rule)
    for style in spec.styles:
        yield _declared(Kind.STYLE, style)


def _rule(spec: Spec, rule: ast.Rule) -> Iterator[Occurrence]:
    yield _declared(Kind.RULE, rule)
    yield _name(Kind.DECISION, rule.decision, Role.REFERENCE, rule.decision.value)
    if rule.style is not None:
        yield _style(rule.style)
    for old in rule.renamed_from:
        yield _name(Kind.RULE, old, Role.RENAMED_FROM, rule.id)
    for name in rule.overrides:
        yield _rule_reference(spec, name)
    tests = [*rule.when, *(c for c in rule.unless if isinstance(c, ast.AttributeTest))]
    for example in rule.examples:
        yield _name(Kind.DECISION, example.decision, Role.REFERENCE, example.decision.value)
        for name in example.cites:
            yield _rule_reference(spec, name)
        tests += [s.test for s in example.statements if isinstance(s, ast.ExampleWith)]
    for test in tests:
        yield _name(Kind.ATTRIBUTE, test.attribute, Role.REFERENCE, test.attribute.value)


def _declared(kind: Kind, node: ast.Rule | ast.Category | ast.Style) -> Occurrence:
    return Occurrence(kind, node.id, node.id, name_span(node.id_span, node.id), Role.DEFINITION)


def _name(kind: Kind, name: ast.Name, role: Role, target: str) -> Occurrence:
    return Occurrence(kind, name.value, target, name_span(name.span, name.value), role)


def _style(name: ast.Name) -> Occurrence:
    return _name(Kind.STYLE, name, Role.REFERENCE, name.value)


def _rule_reference(spec: Spec, name: ast.Name) -> Occurrence:
    return _name(Kind.RULE, name, Role.REFERENCE, spec.resolve(name.value) or name.value)


@dataclass
class SymbolIndex:
    """The occurrences of one loaded spec, with the look-ups an editor asks for."""

    spec: Spec
    found: list[Occurrence]

    @classmethod
    def of(cls, spec: Spec) -> SymbolIndex:
        return cls(spec, occurrences(spec))

    def at(self, file: str, line: int, column: int) -> Occurrence | None:
        return next((o for o in self.found if o.contains(file, line, column)), None)

    def definitions(self, occurrence: Occurrence) -> list[Occurrence]:
        return [o for o in self.related(occurrence) if o.role is Role.DEFINITION]

    def related(self, occurrence: Occurrence) -> list[Occurrence]:
        """Every occurrence that names the same thing, declarations included."""
        key = (occurrence.kind, occurrence.target)
        return [o for o in self.found if (o.kind, o.target) == key]
