"""llamaguard: a Llama Guard 3 style prompt whose unsafe categories are the spec's.

Each category that has a rule stricter than the weakest decision (a category where
everything complies cannot be violated) is listed under its export code: the one it
pins (`code S9`), else S1, S2, ... in declaration order, skipping pinned codes
(`scope.export_codes`). Under each, the rules that violate it and the exceptions
carved out of them, with their conditions. The mapping from code to category ID
goes in the output file's front matter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from compiler import scope
from compiler.render import render
from spec_lang import Spec, ast

ROLES = {"user": "User", "assistant": "Agent"}


def codes(spec: Spec) -> list[tuple[str, ast.Category, list[ast.Rule]]]:
    """(code, category, its violating rules) for each category that can be violated."""
    weakest = spec.decisions[0]
    exported = scope.export_codes(spec)
    found = []
    for category in scope.categories(spec):
        rules = [r for r in scope.rules(spec, category.id) if r.decision.value != weakest]
        if rules:
            found.append((exported[category.id], category, rules))
    return found


def exceptions(spec: Spec, violating: list[ast.Rule]) -> list[ast.Rule]:
    """The rules in force that are exceptions to any of `violating`, in declaration order."""
    ids = {e for rule in violating for e in scope.exceptions(spec, rule.id)}
    return [rule for rule in scope.rules(spec) if rule.id in ids]


def prompt(
    spec: Spec,
    role: Literal["User", "Agent"],
    conversation: str | Iterable[Mapping[str, str]],
    templates: Path | None = None,
) -> str:
    """The prompt that asks whether the last `role` message is unsafe under the spec."""
    if not isinstance(conversation, str):
        conversation = "\n\n".join(
            f"{ROLES.get(m['role'], m['role'].title())}: {m['content']}" for m in conversation
        )
    found = codes(spec)
    return render(
        "llamaguard.j2",
        templates,
        spec=spec,
        role=role,
        codes=found,
        exceptions={category.id: exceptions(spec, rules) for _, category, rules in found},
        conversation=conversation,
    )
