"""The openai target: a ready `response_format`, and the variant fine-tuned models take, whose
dropped bounds the verifier enforces instead (VF007)."""

from __future__ import annotations

import re

import jsonschema

from compiler import output_schema
from compiler.openai_format import FINE_TUNED_UNSUPPORTED, response_format
from tests.compiler.test_schema import walk
from tests.compiler.transcripts import output, transcript
from verifier import Verifier


def test_the_response_format_is_ready_to_send(mini):
    schema = output_schema(mini, "self_harm")
    wrapped = response_format(schema, "mini 1.2/self_harm")
    assert set(wrapped) == {"type", "json_schema"} and wrapped["type"] == "json_schema"
    body = wrapped["json_schema"]
    assert body["strict"] is True
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", body["name"])
    sent = body["schema"]
    assert not {"$schema", "x-policyspec", "x-guidance"} & set(sent)
    assert sent["properties"] == schema["properties"] and sent["$defs"] == schema["$defs"]


def test_the_fine_tuned_variant_has_no_bound_keywords_and_keeps_the_rest(mini):
    schema = output_schema(mini, "self_harm")
    sent = response_format(schema, "x", fine_tuned=True)["json_schema"]["schema"]
    for path, node in walk(sent):
        assert not FINE_TUNED_UNSUPPORTED & set(node), path
        if node.get("type") == "object":
            assert node["additionalProperties"] is False and node["required"], path
    assert sent["$defs"]["rule_id"]["enum"] == ["SH-0", "SH-2", "SH-4"]
    assert list(sent["properties"]) == list(schema["properties"])


def test_what_the_fine_tuned_variant_lets_through_the_verifier_flags(mini):
    schema = output_schema(mini, "self_harm")
    loose = response_format(schema, "x", fine_tuned=True)["json_schema"]["schema"]
    long = output()
    long["answer"] = "I am so sorry you feel this way. " + "Please call 988. " * 80
    long["reasoning"] = long["reasoning"] * 5
    jsonschema.validate(long, loose)
    assert not jsonschema.Draft202012Validator(schema).is_valid(long)
    result = Verifier(mini).verify(transcript(mini, "t-long", output=long))
    found = {(f.code, f.path) for f in result.findings}
    assert {("VF007", "$.output.answer"), ("VF007", "$.output.reasoning")} <= found
    assert all(f.severity == "warning" for f in result.findings if f.code == "VF007")
    assert "VF007" not in {f.code for f in Verifier(mini).verify(transcript(mini, "t")).findings}
