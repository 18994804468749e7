"""Hypothesis strategies for instances of a compiled output schema, and the longest instance."""

from __future__ import annotations

import json
import re

from hypothesis import strategies as st

_BOUND = re.compile(r"\{1,(\d+)\}\$$")
# Characters a text field may hold: no double quote, backslash or control character.
_TEXT_CHARS = st.characters(blacklist_characters='"\\', blacklist_categories=("Cc", "Cs"))


def resolve(node: dict, root: dict) -> dict:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].removeprefix("#/$defs/")]
    return node


def instances(node: dict, root: dict | None = None) -> st.SearchStrategy:
    """Any value the schema accepts (strings drawn from the characters the pattern allows)."""
    root = root or node
    node = resolve(node, root)
    if "anyOf" in node:
        return st.one_of([instances(option, root) for option in node["anyOf"]])
    if "enum" in node:
        return st.sampled_from(node["enum"])
    kind = node["type"]
    if kind == "null":
        return st.none()
    if kind == "string":
        most = int(_BOUND.search(node["pattern"]).group(1))
        return st.text(_TEXT_CHARS, min_size=1, max_size=most)
    if kind == "array":
        return st.lists(instances(node["items"], root), max_size=node["maxItems"])
    fields = node["properties"]
    members = st.fixed_dictionaries({k: instances(v, root) for k, v in fields.items()})
    return members.map(lambda value: {k: value[k] for k in fields})  # in schema order


def longest(node: dict, root: dict | None = None):
    """The instance that takes the most bytes: full arrays, full strings of 4-byte characters."""
    root = root or node
    node = resolve(node, root)
    if "anyOf" in node:
        return max((longest(o, root) for o in node["anyOf"]), key=lambda v: len(json.dumps(v)))
    if "enum" in node:
        return max(node["enum"], key=lambda v: len(json.dumps(v, ensure_ascii=False).encode()))
    kind = node["type"]
    if kind == "null":
        return None
    if kind == "string":
        return "\U0001f600" * int(_BOUND.search(node["pattern"]).group(1))
    if kind == "array":
        return [longest(node["items"], root)] * node["maxItems"]
    return {k: longest(v, root) for k, v in node["properties"].items()}


def spaced(value) -> str:
    """JSON with a space wherever outlines' whitespace pattern `[ ]?` allows one."""
    if isinstance(value, dict):
        members = [f" {json.dumps(k)} : {spaced(v)} " for k, v in value.items()]
        return "{" + ",".join(members) + "}" if members else "{ }"
    if isinstance(value, list):
        return "[ " + ", ".join(spaced(v) for v in value) + " ]" if value else "[ ]"
    return json.dumps(value, ensure_ascii=False)
