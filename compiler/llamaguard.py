"""llamaguard: Llama Guard 3 prompts whose unsafe categories are the spec's.

The prompt is sent raw, as a completion prompt with the Llama 3 header tokens already
in it, exactly as Meta's `build_custom_prompt` (llama-recipes,
`llama_recipes/inference/prompt_format_utils.py`, with `with_policy=True`) lays out
the task, the categories, the conversation and the instructions. It must not go
through the model's chat template: Llama-Guard-3-8B's template writes its own task
and its hard-coded S1-S14 around the message, so the prompt would carry two "Task:"
headers and both category lists.

A guard flags what must not pass: the rules whose decision is stricter than the
weakest and asks for a refusal (or asks nothing of the answer, as a classifier's
labels do). A rule whose decision asks for a safe completion (a personal medical
question, an emergency, expressed ideation) is answered, so the guard does not
flag it. Each flagged rule carries the exceptions that override it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from compiler import scope
from compiler.render import render
from spec_lang import Spec, ast

ROLES = {"user": "User", "assistant": "Agent"}
# The Llama 3 framing of Llama Guard 3's one user turn, and the assistant header it
# answers after (its chat template's layout).
HEADER = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
FOOTER = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"


@dataclass(frozen=True)
class Flagged:
    """A rule the guard flags, and the exceptions (rules) that override it."""

    rule: ast.Rule
    exceptions: tuple[ast.Rule, ...]


def codes(spec: Spec) -> list[tuple[str, ast.Category, list[Flagged]]]:
    """(code, category, its flagged rules) for each category with a rule the guard flags."""
    found = []
    for category in scope.categories(spec):
        flagged = [
            Flagged(rule, tuple(spec.rule_by_id[e] for e in scope.exceptions(spec, rule.id)))
            for rule in scope.rules(spec, category.id)
            if scope.flagged(spec, rule)
        ]
        if flagged:
            found.append((_code(len(found)), category, flagged))
    return found


def _code(index: int) -> str:
    """Codes follow declaration order over the flagged categories. This is the seam for
    codes a spec pins (`code S9` on a category): return the pinned code here."""
    return f"S{index + 1}"


def prompt(
    spec: Spec,
    role: Literal["User", "Agent"],
    conversation: str | Iterable[Mapping[str, str]],
    templates: Path | None = None,
) -> str:
    """The raw prompt that asks whether the last `role` message is unsafe under the spec."""
    if not isinstance(conversation, str):
        conversation = "\n\n".join(
            f"{ROLES.get(m['role'], m['role'].title())}: {m['content']}" for m in conversation
        )
    body = render(
        "llamaguard.j2",
        templates,
        spec=spec,
        role=role,
        codes=codes(spec),
        conversation=conversation,
    )
    return HEADER + body + FOOTER
