"""The decision semantics: which decision and style a set of applying rules requires.

Given the rules R that apply to a conversation (cited by a model, or matched):
drop every rule another rule in R overrides, directly or through a chain (an
exception whose `unless` condition holds in the conversation overrides nothing); the
required decision is the strictest among the rest, and the required style is
the winning rule's (strictest decision, then highest severity, then first
declared). No rule applies: the spec's default decision and style. This is the only place it is
implemented; policy tests, the checker, the compiler and the verifier call it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from spec_lang.loader import Spec


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str
    style: str | None
    winner: str | None
    applied: tuple[str, ...]
    overridden: tuple[str, ...]


def decide(spec: Spec, rule_ids: Iterable[str], suspended: Iterable[str] = ()) -> Decision:
    """The decision and style the given rules require. Unknown IDs raise KeyError.

    `suspended`: exceptions whose `unless` condition holds (`Matchers.scan` finds them);
    they still apply, but drop no other rule."""
    applying = []
    for rule_id in dict.fromkeys(rule_ids):
        current = spec.resolve(rule_id)
        if current is None:
            raise KeyError(rule_id)
        applying.append(current)
    applying = list(dict.fromkeys(applying))
    if not applying:
        return Decision(spec.default_decision, spec.default_style, None, (), ())
    sources = [r for r in applying if r not in suspended] if suspended else applying
    dropped = spec.overridden_among(sources, applying) if len(applying) > 1 else set()
    remaining = [r for r in applying if r not in dropped]
    if not remaining:  # only an override cycle can do this: fail closed, keep them all
        remaining, dropped = applying, set()
    if len(remaining) == 1:  # the common case, spared the precedence lookups
        winner = remaining[0]
    else:
        winner = max(remaining, key=lambda r: _precedence(spec, r))
    rule = spec.rule_by_id[winner]
    return Decision(
        decision=rule.decision.value,
        style=rule.style.value if rule.style else None,
        winner=winner,
        applied=tuple(sorted(remaining, key=spec.rule_order.__getitem__)),
        overridden=tuple(sorted(dropped, key=spec.rule_order.__getitem__)),
    )


def _precedence(spec: Spec, rule_id: str) -> tuple[int, int, int]:
    rule = spec.rule_by_id[rule_id]
    return (
        spec.strictness.get(rule.decision.value, len(spec.decisions)),  # unknown: strictest
        spec.severity_rank[spec.severity(rule_id)],
        -spec.rule_order[rule_id],
    )
