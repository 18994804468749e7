"""safeguard: a gpt-oss-safeguard policy per category, sent as the policy (system) message.

Two forms. `compact` (the default) follows the model's prompt guide: a policy of 400 to
600 tokens, a reasoning-effort line, the criteria by rule title, 4 examples whose
answers carry the `rationale` the output format asks for, and no front matter (the
file is the message). `full` adds the definitions, every rule's text and every example. Violating
content (violation 1) is what a guard flags (scope.flagged: a refusal, or a
classifier's label); a rule whose decision is a safe completion is content the
assistant answers with care, listed under safe content (violation 0).
"""

from __future__ import annotations

import json
from itertools import chain, zip_longest
from pathlib import Path
from typing import Literal

from compiler import scope
from compiler.render import render
from spec_lang import Spec, ast

Form = Literal["compact", "full"]
REASONING_EFFORT = "medium"
# The prompt guide's budget for a policy, in tokens, and its number of examples.
TOKEN_BUDGET = (400, 600)
COMPACT_EXAMPLES = 4
OUTPUT_FORMAT = (
    '{"violation": 0 or 1, "decision": "<decision>", "rule_ids": ["<rule ID>"], '
    '"rationale": "<one sentence>"}'
)


def policy_prompt(
    spec: Spec, category: str, templates: Path | None = None, form: Form = "compact"
) -> str:
    """The policy message for one category, in the given form."""
    rules = scope.rules(spec, category)
    violating = [rule for rule in rules if scope.flagged(spec, rule)]
    safe = [rule for rule in rules if not scope.flagged(spec, rule)]
    examples = [_example(spec, rule, example) for rule in rules for example in rule.examples]
    if form == "compact":
        examples = _few(spec, violating, safe)
    return render(
        "safeguard.j2",
        templates,
        spec=spec,
        form=form,
        reasoning_effort=REASONING_EFFORT,
        category=scope.category(spec, category),
        code=scope.export_codes(spec).get(category),
        violating=violating,
        safe=safe,
        examples=examples,
        output_format=OUTPUT_FORMAT,
    )


def _few(spec: Spec, violating: list[ast.Rule], safe: list[ast.Rule]) -> list[dict]:
    """Up to COMPACT_EXAMPLES examples, alternating violating and safe rules, each rule's
    examples of its own decision first, shortest first: both labels, within the budget."""

    def firsts_then_rest(rules: list[ast.Rule]) -> list[dict]:
        shortest_first = [
            [
                (r, e)
                for e in sorted(
                    r.examples,
                    key=lambda e: (e.decision.value != r.decision.value, len(e.text.encode())),
                )
            ]
            for r in rules
        ]
        return [
            _example(spec, *pair)
            for pair in chain.from_iterable(zip_longest(*shortest_first))
            if pair
        ]

    mixed = zip_longest(firsts_then_rest(violating), firsts_then_rest(safe))
    return [e for e in chain.from_iterable(mixed) if e][:COMPACT_EXAMPLES]


def _example(spec: Spec, rule: ast.Rule, example) -> dict:
    """An example as content and the answer it gets, rationale included."""
    violation = example.decision.value == rule.decision.value and scope.flagged(spec, rule)
    cited = _cited(rule.id, rule.decision.value, example)
    if violation:
        rationale = f"{rule.id} applies, no exception does."
    elif cited:
        rationale = f"Only {', '.join(cited)} applies."
    else:
        rationale = "No violating rule applies."
    answer = {
        "violation": int(violation),
        "decision": example.decision.value,
        "rule_ids": cited,
        "rationale": rationale,
    }
    return {"text": example.text.replace("\n", " / "), "output": json.dumps(answer)}


def _cited(rule_id: str, decision: str, example) -> list[str]:
    """The rules an example names: its own (when it shows the rule's decision) and its cites."""
    own = [rule_id] if example.decision.value == decision else []
    return list(dict.fromkeys(own + [name.value for name in example.cites]))
