"""llamaguard: a Llama Guard 3 style prompt whose unsafe categories are the spec's.

Category codes S1, S2, ... follow declaration order over the categories that
have a rule stricter than the weakest decision (a category where everything
complies cannot be violated). The mapping from code to category ID goes in the
output file's front matter.
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
    found = []
    for category in scope.categories(spec):
        rules = [r for r in scope.rules(spec, category.id) if r.decision.value != weakest]
        if rules:
            found.append((f"S{len(found) + 1}", category, rules))
    return found


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
    return render(
        "llamaguard.j2",
        templates,
        spec=spec,
        role=role,
        codes=codes(spec),
        conversation=conversation,
    )
