"""safeguard: a gpt-oss-safeguard style policy prompt per category.

A rule whose decision is the weakest one (comply, by default) describes safe
content; any stricter rule describes violating content. Examples come from the
rules' own examples.
"""

from __future__ import annotations

import json
from pathlib import Path

from compiler import scope
from compiler.render import render
from spec_lang import Spec

OUTPUT_FORMAT = (
    '{"violation": 0 or 1, "decision": "<decision>", "rule_ids": ["<rule ID>"], '
    '"rationale": "<one sentence>"}'
)


def policy_prompt(spec: Spec, category: str, templates: Path | None = None) -> str:
    """The policy prompt (the system message) for one category."""
    weakest = spec.decisions[0]
    rules = scope.rules(spec, category)
    return render(
        "safeguard.j2",
        templates,
        spec=spec,
        category=scope.category(spec, category),
        code=scope.export_codes(spec).get(category),
        violating=[rule for rule in rules if rule.decision.value != weakest],
        safe=[rule for rule in rules if rule.decision.value == weakest],
        examples=[
            {
                "text": example.text.replace("\n", " / "),
                "output": json.dumps(
                    {
                        "violation": int(example.decision.value != weakest),
                        "decision": example.decision.value,
                        "rule_ids": _cited(rule.id, rule.decision.value, example),
                    }
                ),
            }
            for rule in rules
            for example in rule.examples
        ],
        output_format=OUTPUT_FORMAT,
    )


def _cited(rule_id: str, decision: str, example) -> list[str]:
    """The rules an example names: its own (when it shows the rule's decision) and its cites."""
    own = [rule_id] if example.decision.value == decision else []
    return list(dict.fromkeys(own + [name.value for name in example.cites]))
