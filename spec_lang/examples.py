"""Running a spec's own examples through its matchers and the decision semantics.

An example written inside rule R asserts a decision for its conversation. When
it expects R's own decision, R applies by the author's word; when it expects a
weaker one it is a near miss, and R must not apply. The rules that apply are
then R (for its own examples), the rules the example cites, and every rule whose
`match` fires on the conversation (with the attributes its `with` lines set) or,
with `match tool`, on a tool call the example makes; an exception whose `unless`
condition holds there overrides nothing. The example passes when they decide what
it expects.
"""

from __future__ import annotations

from dataclasses import dataclass

from spec_lang import ast
from spec_lang.loader import Spec
from spec_lang.matchers import Hits, Matchers
from spec_lang.semantics import Decision, decide


@dataclass(frozen=True, slots=True)
class ExampleResult:
    rule: ast.Rule
    example: ast.Example
    expected: str
    fired: tuple[str, ...]
    suspended: frozenset[str]
    decided: Decision
    matched: Decision  # what the matches alone decide, without the author's word or cites

    @property
    def near_miss(self) -> bool:
        return self.expected != self.rule.decision.value

    @property
    def passed(self) -> bool:
        return self.decided.decision == self.expected


def flagged_too_strictly(spec: Spec, result: ExampleResult) -> bool:
    """A near miss whose matches alone would decide more strictly than it expects:
    the matchers' false positive, whether or not a cite or override rescues it."""
    strictness = spec.strictness
    too_strict = strictness[result.matched.decision] > strictness.get(result.expected, 0)
    return result.near_miss and too_strict


def evaluate_examples(spec: Spec, matchers: Matchers) -> list[ExampleResult]:
    """One result per example of every rule, in declaration order. A layer's are those of
    its own rules: the base's examples state what the base decides, which the layer may
    change; they are the base's tests (`policyspec test BASE`)."""
    results = []
    # an example's matches often decide alone
    decided_by: dict[tuple[tuple[str, ...], frozenset[str]], Decision] = {}

    def decided(rule_ids: tuple[str, ...], suspended: frozenset[str]) -> Decision:
        key = (rule_ids, suspended)
        if key not in decided_by:
            decided_by[key] = decide(spec, rule_ids, suspended)
        return decided_by[key]

    for rule in spec.rule_by_id.values():
        if spec.base is not None and spec.in_base(rule):
            continue
        for example in rule.examples:
            hits = example_hits(spec, matchers, example)
            fired, suspended = hits.fired, hits.suspended
            applying = applying_rules(spec, rule, example, fired)
            results.append(
                ExampleResult(
                    rule,
                    example,
                    example.decision.value,
                    fired,
                    suspended,
                    decided(applying, suspended),
                    decided(fired, suspended),
                )
            )
    return results


def applying_rules(
    spec: Spec, owner: ast.Rule | None, example: ast.Example, fired: tuple[str, ...]
) -> tuple[str, ...]:
    """The rules that apply to an example written in `owner` (None: in no rule of `spec`,
    as when an example of one version of a spec is tried on another): the owner when the
    example expects its decision, the cited rules `spec` knows, and the rules that fired."""
    own = owner is not None and example.decision.value == owner.decision.value
    cited = tuple(c for c in (spec.resolve(name.value) for name in example.cites) if c)
    return tuple(dict.fromkeys(((owner.id,) if own else ()) + cited + fired))


def example_hits(spec: Spec, matchers: Matchers, example: ast.Example) -> Hits:
    """What an example sets off: its conversation's matches (with its attributes), and the
    `match tool` rules its calls fire."""
    hits = matchers.scan(conversation(example), example.attributes)
    if not example.calls:
        return hits
    fired = set(hits.fired)
    for call in example.calls:
        fired.update(matchers.fired_by_call(call.tool.value, call.arguments))
    return hits._replace(fired=tuple(sorted(fired, key=spec.rule_order.__getitem__)))


def conversation(example: ast.Example) -> tuple[tuple[str, str], ...]:
    """An example's messages as (role, content) pairs, what `Matchers.scan` reads."""
    return tuple((m.role.value, m.content) for m in example.messages)
