"""llamaguard: Llama Guard 3 prompts whose unsafe categories are the spec's.

The prompt is sent raw, as a completion prompt with the Llama 3 header tokens already
in it, exactly as Meta's `build_custom_prompt` (llama-recipes,
`llama_recipes/inference/prompt_format_utils.py`, with `with_policy=True`) lays out
the task, the categories, the conversation and the instructions. It must not go
through the model's chat template: Llama-Guard-3-8B's template writes its own task and
its hard-coded S1-S14 around the message, so the prompt would carry two "Task:"
headers and both category lists.

A guard flags what must not pass (`scope.flagged`): rules whose decision asks for a
refusal, or nothing of the answer (a classifier's label). A rule answered with a safe
completion (a personal medical question, an emergency, expressed ideation) is not
flagged. Each category with a flagged rule is listed under its export code: the one
it pins (`code S9`), else S1, S2, ... in declaration order, skipping pinned codes
(`scope.export_codes`); under it, its flagged rules and the exceptions carved out of
them, with their conditions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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


def codes(spec: Spec) -> list[tuple[str, ast.Category, list[ast.Rule]]]:
    """(code, category, its flagged rules) for each category with a rule the guard flags."""
    exported = scope.export_codes(spec)
    found = []
    for category in scope.categories(spec):
        rules = [r for r in scope.rules(spec, category.id) if scope.flagged(spec, r)]
        if rules:
            found.append((exported[category.id], category, rules))
    return found


def exceptions(spec: Spec, flagged: list[ast.Rule]) -> list[ast.Rule]:
    """The rules in force that are exceptions to any of `flagged`, in declaration order."""
    ids = {e for rule in flagged for e in scope.exceptions(spec, rule.id)}
    return [rule for rule in scope.rules(spec) if rule.id in ids]


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
    found = codes(spec)
    body = render(
        "llamaguard.j2",
        templates,
        spec=spec,
        role=role,
        codes=found,
        exceptions={category.id: exceptions(spec, rules) for _, category, rules in found},
        conversation=conversation,
    )
    return HEADER + body + FOOTER
