"""How well a spec's examples exercise it: hits per match statement, the statements no
example fires, and the rules missing an example of their own decision or a near miss
(the checker's PS401 and PS402).

Coverage is the share of live match statements that fire on at least one example's
request: a statement no example reaches is a guess nobody has tried.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from core.diagnostics import Diagnostic, SourceSpan
from spec_lang.examples import ExampleResult, conversation
from spec_lang.matchers import Matchers
from workbench.decide import statement_label

MISSING_OWN, MISSING_NEAR_MISS = "PS401", "PS402"


@dataclass(frozen=True)
class StatementHits:
    rule: str
    statement: str
    span: SourceSpan
    hits: int  # examples whose request it fires on


@dataclass(frozen=True)
class Coverage:
    statements: tuple[StatementHits, ...]
    missing_own: tuple[str, ...]
    missing_near_miss: tuple[str, ...]

    @property
    def never_fired(self) -> tuple[StatementHits, ...]:
        return tuple(s for s in self.statements if s.hits == 0)

    @property
    def percent(self) -> float:
        """Share of match statements some example fires; 100 when there are none."""
        if not self.statements:
            return 100.0
        return 100.0 * (len(self.statements) - len(self.never_fired)) / len(self.statements)

    def to_json(self) -> dict:
        return {
            "percent": round(self.percent, 1),
            "statements": [
                {"rule": s.rule, "match": s.statement, "at": str(s.span), "hits": s.hits}
                for s in self.statements
            ],
            "never_fired": [f"{s.rule} {s.statement}" for s in self.never_fired],
            "missing_own_example": list(self.missing_own),
            "missing_near_miss": list(self.missing_near_miss),
        }


def measure(
    matchers: Matchers,
    results: Iterable[ExampleResult],
    findings: Iterable[Diagnostic],
    rules: set[str],
) -> Coverage:
    """Coverage of the match statements of `rules` by the examples in `results`; the rules
    missing examples come from the checker's `findings`."""
    counts: Counter[int] = Counter()
    for result in results:
        example = result.example
        for hit in matchers.fired_statements(conversation(example), example.attributes):
            if not hit.is_condition:
                counts[id(hit.statement)] += 1
    statements = tuple(
        StatementHits(rule, statement_label(statement), statement.span, counts[id(statement)])
        for rule, statement in matchers.statements()
        if rule in rules
    )
    findings = list(findings)

    def missing(code: str) -> tuple[str, ...]:
        return tuple(d.rule for d in findings if d.code == code and d.rule in rules)

    return Coverage(statements, missing(MISSING_OWN), missing(MISSING_NEAR_MISS))


def coverage_text(coverage: Coverage) -> str:
    lines = ["coverage:"]
    for s in coverage.statements:
        lines.append(f"  {s.hits:>4}  {s.rule:<10}{s.statement}  ({s.span})")
    for s in coverage.never_fired:
        lines.append(f"  never fires: {s.rule} {s.statement}")
    for rule in coverage.missing_own:
        lines.append(f"  no example of its own decision: {rule}")
    for rule in coverage.missing_near_miss:
        lines.append(f"  no near miss: {rule}")
    fired = len(coverage.statements) - len(coverage.never_fired)
    lines.append(
        f"  {coverage.percent:.1f}% of match statements fire on an example "
        f"({fired} of {len(coverage.statements)})"
    )
    return "\n".join(lines)
