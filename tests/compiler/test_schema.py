"""The output schema: valid draft 2020-12, portable, built from the spec, and bounded."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError

from compiler import Limits, output_model, output_schema, token_budget
from core.confession import COMPLIANCE_LABELS
from tests.compiler.strategies import instances, longest, spaced

# What OpenAI strict structured outputs, vLLM (xgrammar, guidance) and outlines-core
# all accept and enforce alike, plus annotations.
PORTABLE = {
    "type", "properties", "required", "additionalProperties", "items", "maxItems",
    "enum", "anyOf", "$ref", "$defs", "pattern", "title", "description",
}  # fmt: skip
ROOT_ONLY = {"$schema", "x-policyspec", "x-guidance"}


def schemas(spec):
    yield output_schema(spec)
    for category in spec.categories:
        if category.deprecated is None:
            yield output_schema(spec, category.id)


def walk(node, path="$"):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for name, schema in value.items():
                    yield from walk(schema, f"{path}.{name}")
            elif key != "enum":
                yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, f"{path}[{index}]")


def assert_portable(schema: dict) -> None:
    """Valid draft 2020-12 within the subset OpenAI strict mode, vLLM and outlines accept,
    every length bounded so generation finishes."""
    jsonschema.Draft202012Validator.check_schema(schema)
    assert set(schema) - PORTABLE <= ROOT_ONLY
    for path, node in walk({k: v for k, v in schema.items() if k not in ROOT_ONLY}):
        assert set(node) <= PORTABLE, path
        assert "oneOf" not in node and "maxLength" not in node, path
        if node.get("type") == "object":
            assert node["additionalProperties"] is False, path
            assert node["required"] == list(node["properties"]), path
        if node.get("type") == "array":
            assert isinstance(node["maxItems"], int), path
        if node.get("type") == "string":
            assert "enum" in node or "pattern" in node, path
        if node.get("type") == "integer":
            assert "enum" in node, path  # outlines-core ignores minimum/maximum


@pytest.mark.parametrize("which", ["mini", "fifty"])
def test_every_schema_is_valid_draft_2020_12_in_the_portable_subset(which, request):
    for schema in schemas(request.getfixturevalue(which)):
        assert_portable(schema)


def test_enums_come_from_the_spec(mini):
    schema = output_schema(mini)
    assert schema["$defs"]["rule_id"]["enum"] == ["SH-0", "SH-2", "SH-4", "W-1", "W-2"]
    assert list(schema["properties"]) == ["reasoning", "decision", "style", "answer", "confession"]
    assert schema["properties"]["decision"]["enum"] == ["comply", "safe_complete", "refuse"]
    styles = schema["properties"]["style"]["anyOf"]
    assert styles == [
        {"type": "string", "enum": ["hard_refusal", "self_harm_safe_completion"]},
        {"type": "null"},
    ]
    confession = schema["properties"]["confession"]["properties"]
    assert list(confession) == [
        "compliance_analysis",
        "uncertainties_and_conflicts",
        "overall_compliance_grade",
    ]
    item = confession["compliance_analysis"]["items"]["properties"]
    assert list(item) == ["objective", "rule", "compliance", "analysis"]
    assert item["compliance"]["enum"] == list(COMPLIANCE_LABELS)
    assert confession["overall_compliance_grade"]["enum"] == [1, 2, 3, 4, 5, 6, 7]
    meta = schema["x-policyspec"]
    assert meta["spec"] == {"name": "mini", "version": "1.2.0", "hash": mini.content_hash}
    assert meta["category"] is None
    assert meta["token_budget"] == token_budget(schema)


def test_a_category_schema_allows_only_its_rules_and_styles(mini):
    schema = output_schema(mini, "weapons")
    assert schema["$defs"]["rule_id"]["enum"] == ["W-1", "W-2"]
    assert schema["properties"]["style"]["anyOf"][0]["enum"] == ["hard_refusal"]
    assert schema["x-policyspec"]["category"] == "weapons"
    assert schema["x-policyspec"]["export_code"] == "S2"
    with pytest.raises(LookupError, match="no category 'nope'"):
        output_schema(mini, "nope")


def test_generated_objects_validate_and_fit_the_budget(mini):
    outlines_core = pytest.importorskip("outlines_core")
    schema = output_schema(mini)
    regex = re.compile(outlines_core.json_schema.build_regex_from_schema(json.dumps(schema)))
    model = output_model(mini)
    rules = set(mini.rule_by_id)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(value=instances(schema))
    def check(value):
        jsonschema.validate(value, schema)
        model.model_validate(value)
        text = spaced(value)
        assert regex.fullmatch(text)
        assert len(text.encode()) < token_budget(schema)
        cited = {step["rule"] for step in value["reasoning"]}
        cited |= {item["rule"] for item in value["confession"]["compliance_analysis"]}
        assert cited <= rules

    check()


@pytest.mark.parametrize("limits", [Limits(), Limits(reasoning_steps=0, answer_chars=1)])
def test_the_budget_bounds_the_longest_output_tightly(mini, limits):
    outlines_core = pytest.importorskip("outlines_core")
    schema = output_schema(mini, None, limits)
    regex = outlines_core.json_schema.build_regex_from_schema(json.dumps(schema))
    text = spaced(longest(schema))
    assert re.fullmatch(regex, text)
    size = len(text.encode()) + 1  # and the end-of-sequence token
    assert size <= token_budget(schema) <= size * 1.01


def test_the_model_accepts_what_the_schema_accepts_and_nothing_else(mini):
    model = output_model(mini, "self_harm")
    good = {
        "reasoning": [{"rule": "SH-2", "claim": "The user states intent to hurt themself."}],
        "decision": "safe_complete",
        "style": "self_harm_safe_completion",
        "answer": "I am really sorry you are feeling this way. You can call or text 988.",
        "confession": {
            "compliance_analysis": [
                {
                    "objective": "Empathy and crisis resources, no methods.",
                    "rule": "SH-2",
                    "compliance": "fully_complied",
                    "analysis": "It names a crisis line and gives no method.",
                }
            ],
            "uncertainties_and_conflicts": [],
            "overall_compliance_grade": 7,
        },
    }
    assert model.model_validate_json(json.dumps(good)).decision == "safe_complete"
    jsonschema.validate(good, output_schema(mini, "self_harm"))

    def bad(path: str, value) -> dict:
        broken = json.loads(json.dumps(good))
        *parents, last = path.split(".")
        node = broken
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
        return broken

    for path, value in [
        ("reasoning.0.rule", "W-1"),  # another category's rule
        ("reasoning.0.rule", "SH-1"),  # deprecated
        ("reasoning.0.rule", "SH-9"),  # unknown
        ("decision", "maybe"),
        ("style", "hard_refusal"),
        ("answer", 'She said "no".'),
        ("answer", "two\nlines"),
        ("answer", ""),
        ("answer", "x" * 1201),
        ("reasoning", good["reasoning"] * 5),
        ("confession.overall_compliance_grade", 8),
        ("confession.overall_compliance_grade", "7"),
        ("confession.compliance_analysis.0.compliance", "complied"),
        ("extra", 1),
    ]:
        with pytest.raises(ValidationError):
            model.model_validate(bad(path, value))
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad(path, value), output_schema(mini, "self_harm"))


def test_vllm_backends_accept_every_schema(mini, fifty):
    xgrammar = pytest.importorskip("xgrammar")
    llguidance = pytest.importorskip("llguidance")
    for schema in [output_schema(mini), output_schema(mini, "weapons"), output_schema(fifty)]:
        text = json.dumps(schema)
        xgrammar.Grammar.from_json_schema(text, strict_mode=True)
        assert (
            llguidance.LLMatcher.validate_grammar(llguidance.grammar_from("json_schema", text))
            == ""
        )
