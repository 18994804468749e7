"""openai: the output schema as OpenAI's `response_format`, ready to send.

`{"type": "json_schema", "json_schema": {"name", "strict": true, "schema"}}`, with the
annotations the API has no use for (`$schema`, `x-policyspec`, `x-guidance`) left out.
Strict structured outputs on base models accept the schema's constructs; fine-tuned
models reject the keywords that bound a value (`pattern`, `maxItems`, and the like), so
a second variant leaves those out. Outputs generated under it are no longer bounded by
the API: the verifier still checks them against the full schema (an answer past its
length or an array past its count fails the format check), and the token budget no
longer bounds them, so set `max_tokens` (the full schema's `x-policyspec.token_budget`
still fits any output that passes the verifier).
"""

from __future__ import annotations

import re
from typing import Any

ANNOTATIONS = ("$schema", "x-policyspec", "x-guidance")
# What OpenAI's structured outputs refuse for fine-tuned models (its supported-schemas guide).
FINE_TUNED_UNSUPPORTED = frozenset(
    {
        "pattern", "format", "minLength", "maxLength",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minItems", "maxItems", "patternProperties", "minProperties", "maxProperties",
    }
)  # fmt: skip
_NAME_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]")
_MAPS = ("properties", "$defs")  # their keys are names, not keywords


def response_format(
    schema: dict, name: str, *, fine_tuned: bool = False, description: str | None = None
) -> dict:
    """`schema` wrapped as a strict `response_format`; `fine_tuned`: without the keywords
    fine-tuned models reject. `name` is made to fit the API's `^[a-zA-Z0-9_-]{1,64}$`;
    `description` is the API's optional description of the format."""
    sent = {key: value for key, value in schema.items() if key not in ANNOTATIONS}
    if fine_tuned:
        sent = _without_bounds(sent)
    wrapped: dict[str, Any] = {"name": _NAME_UNSAFE.sub("_", name)[:64] or "output", "strict": True}
    if description is not None:
        wrapped["description"] = description
    return {"type": "json_schema", "json_schema": {**wrapped, "schema": sent}}


def _without_bounds(node: Any) -> Any:
    if isinstance(node, list):
        return [_without_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    kept = {}
    for key, value in node.items():
        if key in FINE_TUNED_UNSUPPORTED:
            continue
        if key in _MAPS and isinstance(value, dict):
            kept[key] = {name: _without_bounds(schema) for name, schema in value.items()}
        elif key == "enum":
            kept[key] = value
        else:
            kept[key] = _without_bounds(value)
    return kept
