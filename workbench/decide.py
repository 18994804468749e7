"""One input through a spec, with the reasons: which match statements fire on which
words, which rules the overrides drop and by whom, and what the rest decide.

The decision is `spec_lang.decide`'s, on the rules whose matches fire, as
`policyspec test` and the verifier reach it; this module only says why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice

import re2

from core.diagnostics import SourceSpan
from spec_lang import ast
from spec_lang.loader import Spec
from spec_lang.matchers import Matchers, statement_regex
from spec_lang.semantics import Decision, decide
from spec_lang.text import normalize_mapped, readings_mapped

MAX_WORDS_SHOWN = 5  # matched passages shown per match statement
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


def statement_label(statement: ast.Matcher) -> str:
    """A match statement as it is written: `keyword "..."` or `pattern /.../flags`, and
    whose words it reads when not the user's (`in last assistant`)."""
    if isinstance(statement, ast.MatchKeyword):
        label = f'keyword "{statement.keyword}"'
    else:
        label = f"pattern {statement.pattern}"
    return f"{label} {statement.reads}" if statement.reads else label


@dataclass(frozen=True)
class Hit:
    rule: str
    statement: str
    span: SourceSpan
    words: tuple[str, ...]  # what it matched, as the conversation writes it
    condition: bool  # an exception's `unless` condition, not a match


@dataclass(frozen=True)
class Dropped:
    rule: str
    by: tuple[str, ...]  # the applying rules that override it, directly or through a chain


@dataclass(frozen=True)
class Explanation:
    messages: tuple[tuple[str, str], ...]
    hits: tuple[Hit, ...]
    suspended: tuple[str, ...]  # exceptions whose `unless` holds: they override nothing
    dropped: tuple[Dropped, ...]
    decision: Decision

    def to_json(self) -> dict:
        decision = self.decision
        return {
            "messages": [{"role": role, "content": content} for role, content in self.messages],
            "fired": [_hit_json(h) for h in self.hits if not h.condition],
            "conditions": [_hit_json(h) for h in self.hits if h.condition],
            "suspended": list(self.suspended),
            "overridden": [{"rule": d.rule, "by": list(d.by)} for d in self.dropped],
            "applied": list(decision.applied),
            "decision": decision.decision,
            "style": decision.style,
            "winner": decision.winner,
        }


def _hit_json(hit: Hit) -> dict:
    return {"rule": hit.rule, "match": hit.statement, "at": str(hit.span), "words": list(hit.words)}


def explain_decision(
    spec: Spec,
    messages: tuple[tuple[str, str], ...],
    matchers: Matchers,
    attributes: Mapping[str, str] | None = None,
) -> Explanation:
    """Why `spec` decides what it does for a conversation of (role, content) pairs."""
    hits = []
    for hit in matchers.fired_statements(messages, attributes):
        words = matched_words(statement_regex(hit.statement), hit.text)
        label = statement_label(hit.statement)
        hits.append(Hit(hit.rule, label, hit.statement.span, words, hit.is_condition))
    scanned = matchers.scan(messages, attributes)
    decision = decide(spec, scanned.fired, scanned.suspended)
    sources = [r for r in scanned.fired if r not in scanned.suspended]
    dropped = tuple(
        Dropped(rule, tuple(r for r in sources if rule in spec.overridden_by(r)))
        for rule in decision.overridden
    )
    suspended = tuple(sorted(scanned.suspended, key=spec.rule_order.__getitem__))
    return Explanation(messages, tuple(hits), suspended, dropped, decision)


def matched_words(regex: str, text: str) -> tuple[str, ...]:
    """The passages of `text` a regex finds in its normalised form or a de-obfuscated
    reading of it, as `text` writes them (`ﬁnd méth` for a match on `find meth`, `m 3 t h`
    for one on `meth`)."""
    compiled = re2.compile(regex, _OPTIONS)
    spans: dict[tuple[int, int], None] = {}
    for reading in (normalize_mapped(text), *readings_mapped(text)):
        for match in compiled.finditer(reading.text):
            spans.setdefault(reading.original_span(*match.span()))
    return tuple(text[start:end] for start, end in islice(spans, MAX_WORDS_SHOWN))


def explanation_text(explanation: Explanation) -> str:
    lines = [f"{role:<10}{content!r}" for role, content in explanation.messages]
    if not any(not h.condition for h in explanation.hits):
        lines.append("fired     - (no match statement fires)")
    for hit in explanation.hits:
        words = ", ".join(repr(w) for w in hit.words)
        what = "unless" if hit.condition else "fired"
        lines.append(f"{what:<10}{hit.rule:<10}{hit.statement}  on {words}  ({hit.span})")
    for rule in explanation.suspended:
        lines.append(f"suspended {rule:<10}its overrides do not apply here (unless)")
    for dropped in explanation.dropped:
        lines.append(f"dropped   {dropped.rule:<10}overridden by {', '.join(dropped.by)}")
    decision = explanation.decision
    winner = f"rule {decision.winner}" if decision.winner else "the spec's default"
    lines.append(f"decision  {decision.decision} (by {winner})")
    lines.append(f"style     {decision.style or '-'}")
    return "\n".join(lines)
