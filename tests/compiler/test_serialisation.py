"""One serialisation: the schema file pins it, the regex export holds it, and the token
budget bounds the longest output under each backend (xgrammar, llguidance, outlines-core's
regex), counted with the default model's real tokenizer."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from compiler import output_model, output_regex, output_schema, serialise
from compiler.schema import SEPARATORS
from tests.compiler.strategies import instances, longest

xgrammar = pytest.importorskip("xgrammar")
llguidance = pytest.importorskip("llguidance")
pytest.importorskip("llguidance.hf")
from xgrammar.testing import _is_grammar_accept_string  # noqa: E402  (xgrammar's own test API)

WIDE = (", ", ": ")  # xgrammar's separators when whitespace is not free


@pytest.fixture(scope="module")
def ll_tokenizer(real_tokenizer):
    import llguidance.hf

    return llguidance.hf.from_tokenizer(real_tokenizer)


def accepted_by_llguidance(ll_tokenizer, real_tokenizer, grammar, text: str) -> bool:
    matcher = llguidance.LLMatcher(ll_tokenizer, grammar)
    ids = real_tokenizer.encode(text, add_special_tokens=False)
    return matcher.consume_tokens(ids) and matcher.is_accepting()


def test_the_schema_file_pins_the_serialisation(mini):
    schema = output_schema(mini, "self_harm")
    assert schema["x-guidance"] == {
        "whitespace_flexible": False,
        "item_separator": ",",
        "key_separator": ":",
    }
    assert schema["x-policyspec"]["separators"] == [",", ":"]
    assert schema["x-policyspec"]["whitespace_pattern"] == ""
    value = longest(schema)
    assert serialise(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("category", [None, "self_harm", "weapons"])
def test_the_budget_holds_for_the_longest_output_under_every_backend(
    mini, category, real_tokenizer, ll_tokenizer
):
    schema = output_schema(mini, category)
    budget = schema["x-policyspec"]["token_budget"]
    value = longest(schema)
    compact = serialise(value)
    wide = json.dumps(value, ensure_ascii=False, separators=WIDE)
    # llguidance reads the pinned whitespace from the file: compact only.
    grammar = llguidance.grammar_from("json_schema", json.dumps(schema))
    assert accepted_by_llguidance(ll_tokenizer, real_tokenizer, grammar, compact)
    assert not accepted_by_llguidance(ll_tokenizer, real_tokenizer, grammar, wide)
    # xgrammar, pinned the same way (or with its own separators, as vLLM pins it).
    pinned = xgrammar.Grammar.from_json_schema(
        json.dumps(schema), any_whitespace=False, separators=SEPARATORS
    )
    assert _is_grammar_accept_string(pinned, compact)
    assert not _is_grammar_accept_string(pinned, compact.replace(",", ",\n", 1))
    vllm_default = xgrammar.Grammar.from_json_schema(json.dumps(schema), any_whitespace=False)
    assert _is_grammar_accept_string(vllm_default, wide)
    # The regex export: compact only.
    regex = re.compile(output_regex(schema))
    assert regex.fullmatch(compact) and not regex.fullmatch(wide)
    for text in (compact, wide):
        tokens = len(real_tokenizer.encode(text, add_special_tokens=False))
        assert tokens + 1 <= budget, (tokens, budget)


@pytest.mark.parametrize("category", [None, "weapons"])
def test_xgrammar_and_llguidance_accept_the_regex(mini, category, real_tokenizer, ll_tokenizer):
    schema = output_schema(mini, category)
    regex = output_regex(schema)
    text = serialise(longest(schema))
    assert _is_grammar_accept_string(xgrammar.Grammar.from_regex(regex), text)
    grammar = llguidance.grammar_from("regex", regex)
    assert llguidance.LLMatcher.validate_grammar(grammar) == ""
    assert accepted_by_llguidance(ll_tokenizer, real_tokenizer, grammar, text)


def test_the_default_spec_regex_builds_and_is_accepted():
    import spec_lang

    schema = output_schema(spec_lang.load("policies/"))
    regex = output_regex(schema)
    xgrammar.Grammar.from_regex(regex)
    assert llguidance.LLMatcher.validate_grammar(llguidance.grammar_from("regex", regex)) == ""


# Ways to break a valid output's text: each may or may not leave it valid and compact.
_EDITS = [
    lambda text, at: text[:at] + " " + text[at:],
    lambda text, at: text[:at] + '"' + text[at:],
    lambda text, at: text[:at] + "\\" + text[at:],
    lambda text, at: text[:at] + "\n" + text[at:],
    lambda text, at: text[:at] + text[at + 1 :],
    lambda text, at: text[:at] + text[at:].replace('":', '": ', 1),
    lambda text, at: text[:at] + text[at:].replace(',"', ', "', 1),
    lambda text, at: text[:at] + text[at:].replace("[", "[ ", 1),
    lambda text, at: text[:at] + text[at:].replace('"SH-2"', '"SH-1"', 1),  # deprecated
    lambda text, at: text[:at] + text[at:].replace('"SH-0"', '"W-1"', 1),  # other category
    lambda text, at: text[:at] + text[at:].replace("]", ',"x"]', 1),
    lambda text, at: text[:at] + text[at:].replace(":7}", ":8}", 1),
    lambda text, at: text[:at] + text[at:].replace(':"', ':"' + "x" * 1200, 1),
]


def _schema_valid_and_compact(text: str, model) -> bool:
    """Valid as the verifier reads it (pydantic: a pattern's `$` is the end of the text,
    where jsonschema's Python `re.search` lets a final newline through) and compact."""
    try:
        value = json.loads(text)
        model.model_validate(value)
    except (json.JSONDecodeError, ValidationError):
        return False
    return serialise(value) == text


def test_the_regex_is_equivalent_to_the_schema_on_generated_samples(mini):
    schema = output_schema(mini, "self_harm")
    regex = re.compile(output_regex(schema))
    model = output_model(mini, "self_harm")

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        value=instances(schema),
        edit=st.sampled_from(_EDITS) | st.none(),
        where=st.floats(0, 1),
    )
    def check(value, edit, where):
        text = serialise(value)
        assert regex.fullmatch(text)
        if edit is not None:
            text = edit(text, int(where * len(text)))
        assert bool(regex.fullmatch(text)) == _schema_valid_and_compact(text, model), text

    check()
