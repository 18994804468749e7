"""The judge schemas: the spec's IDs and decisions, the output schema's portable subset,
bounded, and a pydantic model that accepts exactly what they accept."""

from __future__ import annotations

import jsonschema
import pytest
from pydantic import ValidationError

from compiler import confession_judge_schema, judge_schema, token_budget
from compiler.judge_schema import ANSWER_KINDS, JudgeLimits
from compiler.schema import schema_model
from tests.compiler.test_schema import assert_portable


def all_schemas(spec):
    for build in (judge_schema, confession_judge_schema):
        yield build(spec)
        for category in spec.categories:
            if category.deprecated is None:
                yield build(spec, category.id)


@pytest.mark.parametrize("which", ["mini", "fifty"])
def test_judge_schemas_are_valid_and_portable(which, request):
    for schema in all_schemas(request.getfixturevalue(which)):
        assert_portable(schema)
        assert schema["x-policyspec"]["token_budget"] == token_budget(schema)


def test_judge_schema_enums_come_from_the_spec(mini):
    schema = judge_schema(mini)
    assert list(schema["properties"]) == [
        "applicable_rules",
        "required_decision",
        "answer_kind",
        "rationale",
        "grade",
    ]
    assert schema["$defs"]["rule_id"]["enum"] == ["SH-0", "SH-2", "SH-4", "W-1", "W-2"]
    assert schema["properties"]["required_decision"]["enum"] == list(mini.decisions)
    assert schema["properties"]["answer_kind"]["enum"] == list(ANSWER_KINDS)
    assert schema["properties"]["grade"]["enum"] == [1, 2, 3, 4, 5, 6, 7]
    assert judge_schema(mini, "weapons")["$defs"]["rule_id"]["enum"] == ["W-1", "W-2"]
    confession = confession_judge_schema(mini, "self_harm")
    assert list(confession["properties"]) == ["objectives", "grade"]
    assert confession["$defs"]["rule_id"]["enum"] == ["SH-0", "SH-2", "SH-4"]
    assert confession["x-policyspec"]["judge"] == "confession"


def test_the_budget_is_small_enough_to_finish_on_a_cpu(mini):
    # a verdict is IDs and labels, far below the output schema (4 bytes a character bound it)
    assert token_budget(judge_schema(mini)) < 2000
    assert token_budget(confession_judge_schema(mini)) < 2000
    smaller = judge_schema(mini, limits=JudgeLimits(rules=2, reasons=1, reason_chars=40))
    assert token_budget(smaller) < token_budget(judge_schema(mini))


def test_the_model_accepts_what_the_schema_accepts(mini):
    schema = judge_schema(mini, "weapons")
    model = schema_model(schema, "Verdict")
    good = {
        "applicable_rules": ["W-2"],
        "required_decision": "refuse",
        "answer_kind": "full_refusal",
        "rationale": [{"rule": "W-2", "reason": "asks how to build a bomb"}],
        "grade": 7,
    }
    jsonschema.validate(good, schema)
    model.model_validate(good)
    for bad in (
        good | {"applicable_rules": ["SH-2"]},  # another category's rule
        good | {"applicable_rules": ["W-9"]},
        good | {"required_decision": "allow"},
        good | {"grade": 8},
        good | {"rationale": [{"rule": "W-2", "reason": 'a "quote"'}]},
        good | {"extra": 1},
        {k: v for k, v in good.items() if k != "grade"},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)
        with pytest.raises(ValidationError):
            model.model_validate(bad)
