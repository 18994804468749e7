"""The output schema: JSON Schema (draft 2020-12) for everything a model emits under a spec.

Only constructs that OpenAI strict structured outputs, vLLM (xgrammar and
guidance) and outlines-core all accept and enforce alike are used:

- `type`, `properties`, `required` (every property), `additionalProperties: false`;
  properties are listed in generation order, reasoning first.
- `enum` for rule IDs (one `$defs` entry, referenced with `$ref`), decisions,
  styles, compliance labels, and the grade. The grade is an integer `enum`, not
  `minimum`/`maximum`: outlines-core ignores numeric bounds.
- `anyOf` with `{"type": "null"}` for the optional style (never `oneOf`, which
  outlines-core reads as `anyOf`).
- `maxItems` on every array.
- Strings are bounded by `pattern` alone, `^[^"\\\x00-\x1f]{1,N}$`, never by
  `maxLength`: outlines-core drops a `pattern` that stands beside `maxLength`,
  and its `maxLength` regex (which allows escaped quotes) makes index building
  exponential in N (260 s at N=20 with SmolLM2's vocabulary). A string with no
  quote, backslash or control character reads the same raw and decoded, so
  every engine enforces the same bound; the price is one-line strings with no
  double quotes.

One serialisation everywhere: compact JSON (`,` and `:` with no whitespace, keys
in schema order), which `serialise` writes. The schema file pins it for every
engine that reads it: `x-guidance` holds llguidance's settings (vLLM's guidance
backend reads them too), and `x-policyspec` names the separators and outlines'
whitespace pattern (empty); `output_regex` turns the schema into a regex with
it pinned, for engines that take a regex (vLLM's `structured_outputs.regex`,
xgrammar, TRL's `vllm_structured_outputs_regex`).

The top-level `x-policyspec` annotation carries the spec's name, version and
hash, the category and its export code (`scope.export_codes`), and the token
budget: no output valid under the schema is longer, whether written compactly, with
`", "` and `": "` (xgrammar's separators when whitespace is not free) or with
outlines' old default whitespace (`[ ]?`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache, partial
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, create_model

from compiler import scope
from core.confession import COMPLIANCE_LABELS, GRADES
from core.limits import DEFAULT_LIMITS, Limits
from spec_lang import Spec

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# The one serialisation: item and key separators of compact JSON, and no whitespace
# anywhere else (outlines' whitespace pattern, llguidance's and xgrammar's settings).
SEPARATORS = (",", ":")
WHITESPACE = ""
PINNED_WHITESPACE = {
    "whitespace_flexible": False,
    "item_separator": SEPARATORS[0],
    "key_separator": SEPARATORS[1],
}
_TEXT_BOUND = re.compile(r"\{1,(\d+)\}\$$")


def _text(max_chars: int, description: str) -> dict[str, Any]:
    """One line of 1..max_chars characters with no double quote, backslash or control character."""
    return {
        "type": "string",
        "description": description,
        "pattern": '^[^"\\\\\\x00-\\x1f]{1,' + str(max_chars) + "}$",
    }


def output_schema(spec: Spec, category: str | None = None, limits: Limits = DEFAULT_LIMITS) -> dict:
    """The schema for a model's output under `spec`, for one category or (None) all of them."""
    rules = scope.rules(spec, category)
    styles = [style.id for style in scope.styles(spec, rules)]
    style_schema: dict[str, Any] = {"type": "null"}
    if styles:
        style_schema = {"anyOf": [{"type": "string", "enum": styles}, {"type": "null"}]}
    schema: dict[str, Any] = {
        "$schema": DIALECT,
        "title": f"{spec.name} {spec.version} output" + (f" for {category}" if category else ""),
        "description": (
            "Reasoning that cites rule IDs, then the decision, style and answer, then a "
            "confession about how well the answer complied."
        ),
        **_object(
            reasoning=_array(
                _object(
                    rule={"$ref": "#/$defs/rule_id"},
                    claim=_text(limits.claim_chars, "Why the rule applies, or does not."),
                ),
                limits.reasoning_steps,
                "Each step cites one rule.",
            ),
            decision={"type": "string", "enum": list(spec.decisions)},
            style=style_schema,
            answer=_text(limits.answer_chars, "The reply to the user, in the required style."),
            confession=_object(
                compliance_analysis=_array(
                    _object(
                        objective=_text(limits.objective_chars, "What the answer had to do."),
                        rule={"$ref": "#/$defs/rule_id"},
                        compliance={"type": "string", "enum": list(COMPLIANCE_LABELS)},
                        analysis=_text(limits.analysis_chars, "Evidence for the label."),
                    ),
                    limits.objectives,
                    "One objective per rule the answer had to follow.",
                ),
                uncertainties_and_conflicts=_array(
                    _text(limits.uncertainty_chars, "A doubt or a conflict between rules."),
                    limits.uncertainties,
                    "Doubts and conflicts, reported rather than hidden.",
                ),
                overall_compliance_grade={
                    "type": "integer",
                    "enum": list(GRADES),
                    "description": (
                        "1 to 7; 3 or below fails. Any unreported gap caps it at 3; "
                        "if every gap was reported it is at least 4."
                    ),
                },
            ),
        ),
        "$defs": {"rule_id": {"type": "string", "enum": [rule.id for rule in rules]}},
    }
    code = scope.export_codes(spec).get(category) if category else None
    annotation = {"spec": scope.spec_meta(spec), "category": category, "export_code": code}
    return pin_serialisation(schema, annotation)


def pin_serialisation(schema: dict, annotation: dict) -> dict:
    """`schema` with its `x-policyspec` annotation (the token budget added) and the
    whitespace pinned for llguidance (`x-guidance`), both in the file itself."""
    schema["x-policyspec"] = {
        **annotation,
        "token_budget": token_budget(schema),
        "separators": list(SEPARATORS),
        "whitespace_pattern": WHITESPACE,
    }
    schema["x-guidance"] = dict(PINNED_WHITESPACE)
    return schema


def output_regex(schema: dict) -> str:
    """`schema` as one regex over the serialised output, whitespace pinned (none), for
    engines that take a regex: vLLM's `structured_outputs.regex` (TRL's
    `vllm_structured_outputs_regex`), xgrammar, llguidance. Built by outlines-core,
    the library vLLM's and outlines' JSON modes use; a string's `pattern` has no
    escapes, so the regex bounds raw text exactly as the schema bounds decoded text."""
    from outlines_core.json_schema import build_regex_from_schema

    return build_regex_from_schema(json.dumps(schema), WHITESPACE)


def serialise(output: Any) -> str:
    """An output as every target writes and every backend generates it: compact JSON,
    keys in the order given (the schema's), non-ASCII characters as they are."""
    return json.dumps(output, ensure_ascii=False, separators=SEPARATORS)


def output_schemas(spec: Spec, limits: Limits = DEFAULT_LIMITS) -> Callable[[str | None], dict]:
    """The output schema by category, each built once: what the targets of one compile share."""
    return cache(partial(output_schema, spec, limits=limits))


def token_budget(schema: dict) -> int:
    """The most tokens an output valid under `schema` takes, generated by any backend
    with the whitespace pinned (compact, or with `", "` and `": "`).

    Counted in bytes, which bounds tokens for any tokenizer (each token adds at
    least one byte): 4 bytes per character, room for one whitespace byte on each side
    of every `{ } [ ] : ,`, plus the end-of-sequence token. Use it as max_new_tokens.
    """
    return _max_bytes(schema, schema) + 1


def _max_bytes(node: dict, root: dict) -> int:
    if "$ref" in node:
        return _max_bytes(root["$defs"][node["$ref"].removeprefix("#/$defs/")], root)
    # An empty enum (a spec with no rules has no rule ID to cite) admits no value: 0 bytes,
    # and an array of it can only be empty.
    if "anyOf" in node:
        return max((_max_bytes(option, root) for option in node["anyOf"]), default=0)
    if "enum" in node:
        values = node["enum"]
        return max((len(json.dumps(v, ensure_ascii=False).encode()) for v in values), default=0)
    kind = node["type"]
    if kind == "null":
        return 4
    if kind == "string":
        return 2 + 4 * int(_TEXT_BOUND.search(node["pattern"]).group(1))
    if kind == "array":
        count = node["maxItems"]
        return 3 * (1 + max(count, 1)) + count * _max_bytes(node["items"], root)
    if kind == "object":
        fields = node["properties"]
        members = sum(len(json.dumps(k).encode()) + _max_bytes(v, root) for k, v in fields.items())
        return 3 * (2 * len(fields) + 1) + members
    raise ValueError(f"no length bound for a schema of type {kind!r}")


def output_model(
    spec: Spec, category: str | None = None, limits: Limits = DEFAULT_LIMITS
) -> type[BaseModel]:
    """A pydantic model that accepts exactly what `output_schema` accepts, built at run time."""
    return schema_model(output_schema(spec, category, limits), "Output")


def schema_model(schema: dict, name: str) -> type[BaseModel]:
    """A pydantic model that accepts exactly what `schema` (built by this module's
    constructs: the output schema, the judge schemas) accepts."""
    return _annotation(schema, schema, name)


def _annotation(node: dict, root: dict, name: str) -> Any:
    if "$ref" in node:
        return _annotation(root["$defs"][node["$ref"].removeprefix("#/$defs/")], root, name)
    if "anyOf" in node:
        return Union[tuple(_annotation(option, root, name) for option in node["anyOf"])]  # noqa: UP007
    if "enum" in node:
        if not node["enum"]:  # a spec with no rules: no rule ID can be cited
            return Annotated[str, AfterValidator(_no_value)]
        return Literal[tuple(node["enum"])]
    kind = node["type"]
    if kind == "null":
        return None
    if kind == "string":
        return Annotated[str, StringConstraints(pattern=node["pattern"])]
    if kind == "array":
        item = _annotation(node["items"], root, name + "Item")
        return Annotated[list[item], Field(max_length=node["maxItems"])]
    fields = {
        key: (_annotation(value, root, _class_name(key)), ...)
        for key, value in node["properties"].items()
    }
    config = ConfigDict(extra="forbid", strict=True, frozen=True)
    return create_model(name, __config__=config, **fields)


def _no_value(value: str) -> str:
    raise ValueError("the spec has no rules, so no value is allowed here")


def _object(**properties: dict) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def _array(items: dict, max_items: int, description: str) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": items, "maxItems": max_items}


def _class_name(key: str) -> str:
    return "".join(part.title() for part in key.split("_"))
