"""One input through a spec, with the reasons: which match statements fire on which
words, which rules the overrides drop and by whom, and what the rest decide.

The decision is `spec_lang.decide`'s, on the rules whose matches fire, as
`policyspec test` and the verifier reach it; this module only says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import re2

from core.diagnostics import SourceSpan
from spec_lang import ast
from spec_lang.loader import Spec
from spec_lang.matchers import Matchers, keyword_regex, pattern_regex
from spec_lang.semantics import Decision, decide
from spec_lang.text import normalize

MAX_WORDS_SHOWN = 5  # matched passages shown per match statement
_OPTIONS = re2.Options()
_OPTIONS.log_errors = False


def statement_label(statement: ast.MatchKeyword | ast.MatchPattern) -> str:
    """A match statement as it is written: `keyword "..."` or `pattern /.../flags`."""
    if isinstance(statement, ast.MatchKeyword):
        return f'keyword "{statement.keyword}"'
    return f"pattern {statement.pattern}"


def statement_regex(statement: ast.MatchKeyword | ast.MatchPattern) -> str:
    """The regex a match statement is run as (one Matchers accepted)."""
    if isinstance(statement, ast.MatchKeyword):
        return keyword_regex(statement.keyword)
    return pattern_regex(statement.pattern)


@dataclass(frozen=True)
class Hit:
    rule: str
    statement: str
    span: SourceSpan
    words: tuple[str, ...]  # what it matched, in the normalised text the matchers read


@dataclass(frozen=True)
class Dropped:
    rule: str
    by: tuple[str, ...]  # the applying rules that override it, directly or through a chain


@dataclass(frozen=True)
class Explanation:
    request: str
    hits: tuple[Hit, ...]
    dropped: tuple[Dropped, ...]
    decision: Decision

    def to_json(self) -> dict:
        decision = self.decision
        return {
            "request": self.request,
            "fired": [
                {
                    "rule": h.rule,
                    "match": h.statement,
                    "at": str(h.span),
                    "words": list(h.words),
                }
                for h in self.hits
            ],
            "overridden": [{"rule": d.rule, "by": list(d.by)} for d in self.dropped],
            "applied": list(decision.applied),
            "decision": decision.decision,
            "style": decision.style,
            "winner": decision.winner,
        }


def explain_decision(spec: Spec, request: str, matchers: Matchers) -> Explanation:
    """Why `spec` decides what it does for `request` (the user's words)."""
    text = normalize(request)
    hits = []
    for entry in matchers.fired_entries(request):
        statement = matchers.statement_of_entry[entry]
        regex = re2.compile(statement_regex(statement), _OPTIONS)
        words = tuple(m.group(0) for m in regex.finditer(text))[:MAX_WORDS_SHOWN]
        label = statement_label(statement)
        hits.append(Hit(matchers.rule_of_entry[entry], label, statement.span, words))
    fired = tuple(dict.fromkeys(h.rule for h in hits))
    decision = decide(spec, fired)
    dropped = tuple(
        Dropped(rule, tuple(r for r in fired if rule in spec.overridden_by(r)))
        for rule in decision.overridden
    )
    return Explanation(request, tuple(hits), dropped, decision)


def explanation_text(explanation: Explanation) -> str:
    lines = [f"request   {explanation.request!r}"]
    if not explanation.hits:
        lines.append("fired     - (no match statement fires)")
    for hit in explanation.hits:
        words = ", ".join(repr(w) for w in hit.words)
        lines.append(f"fired     {hit.rule:<10}{hit.statement}  on {words}  ({hit.span})")
    for dropped in explanation.dropped:
        lines.append(f"dropped   {dropped.rule:<10}overridden by {', '.join(dropped.by)}")
    decision = explanation.decision
    winner = f"rule {decision.winner}" if decision.winner else "the spec's default"
    lines.append(f"decision  {decision.decision} (by {winner})")
    lines.append(f"style     {decision.style or '-'}")
    return "\n".join(lines)
