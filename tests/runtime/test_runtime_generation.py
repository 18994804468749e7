"""Constrained generation on a tiny random model: whatever the weights, output fits the schema."""

from __future__ import annotations

import json
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from transformers.generation.streamers import BaseStreamer

from compiler.schema import serialise
from runtime.generation import (
    BACKENDS,
    PromptTooLong,
    available_backends,
    compile_schema,
    generate_json,
    generate_text,
    prompt_lengths,
)
from runtime.models import LoadedModel
from tests.runtime.conftest import SCHEMA, build_tiny_model, build_tiny_tokenizer

PROMPTS = [
    [{"role": "user", "content": "I want to hurt myself tonight."}],
    [
        {"role": "system", "content": "Cite the rules SH-0, SH-2 and V-1."},
        {"role": "user", "content": "What are warning signs that a friend is suicidal?"},
    ],
    [{"role": "user", "content": "Hi"}],
]
# Enough for every schema here to finish: a failure to parse is a constraint failure.
ROOMY = 3000


def backend_param(name: str):
    return pytest.param(
        name,
        marks=pytest.mark.skipif(
            name not in available_backends(), reason=f"{name} is not installed"
        ),
    )


ALL_BACKENDS = [backend_param(name) for name in BACKENDS]


def assert_valid(text: str, schema: dict) -> None:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        pytest.fail(f"not JSON ({error}): {text!r}")
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(document)]
    assert not errors, f"{errors} in {text!r}"


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_batch_output_validates(tiny, backend):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outputs = generate_json(
            tiny, PROMPTS, SCHEMA, max_new_tokens=ROOMY, seed=1, backend=backend
        )
    assert len(outputs) == len(PROMPTS)
    for text in outputs:
        assert_valid(text, SCHEMA)
    # Rows that finish early must not feed the grammar tokens it rejects.
    assert not [w for w in caught if "LLMatcher" in str(w.message)]


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_every_backend_writes_the_one_serialisation(tiny, backend):
    """Compact JSON, as SFT records hold it (compiler.schema.serialise), byte for byte."""
    for text in generate_json(tiny, PROMPTS, SCHEMA, max_new_tokens=ROOMY, seed=5, backend=backend):
        assert text == serialise(json.loads(text))


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_greedy_output_validates(tiny, backend):
    [text] = generate_json(
        tiny, PROMPTS[:1], SCHEMA, max_new_tokens=ROOMY, seed=0, temperature=0, backend=backend
    )
    assert_valid(text, SCHEMA)


def test_same_seed_same_output_other_seed_other_output(tiny):
    def run(seed: int) -> list[str]:
        return generate_json(tiny, PROMPTS, SCHEMA, max_new_tokens=ROOMY, seed=seed)

    first = run(3)
    assert run(3) == first
    assert run(4) != first


def test_key_order_follows_properties(tiny):
    [text] = generate_json(tiny, PROMPTS[:1], SCHEMA, max_new_tokens=ROOMY, seed=2)
    assert list(json.loads(text)) == ["reasoning", "decision", "answer", "grade"]


def test_max_new_tokens_truncates(tiny):
    [text] = generate_json(tiny, PROMPTS[:1], SCHEMA, max_new_tokens=5, seed=0)
    assert text.startswith("{") and len(tiny.tokenizer(text).input_ids) <= 5
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_processor_is_cached_per_schema(tiny):
    assert compile_schema(tiny, SCHEMA) is compile_schema(tiny, json.loads(json.dumps(SCHEMA)))
    other = {**SCHEMA, "required": ["reasoning", "decision", "answer"]}
    assert compile_schema(tiny, other) is not compile_schema(tiny, SCHEMA)


def test_outlines_core_refuses_integer_range_it_cannot_enforce(tiny):
    with pytest.raises(ValueError, match="cannot bound integers"):
        compile_schema(tiny, {"type": "integer", "minimum": 0}, "outlines_core")


def test_outlines_core_refuses_property_name_it_cannot_escape(tiny):
    schema = {"type": "object", "properties": {'quo"te': {"type": "null"}}, "required": []}
    with pytest.raises(ValueError, match="cannot emit the property name"):
        compile_schema(tiny, schema, "outlines_core")


def test_outlines_core_refuses_pattern_it_would_drop(tiny):
    schema = {"type": "string", "pattern": "^[a-z]+$", "maxLength": 5}
    with pytest.raises(ValueError, match="ignores a pattern"):
        compile_schema(tiny, schema, "outlines_core")


def test_unknown_backend(tiny):
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        compile_schema(tiny, SCHEMA, "nope")


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_non_ascii_literal(tiny, backend):
    """outlines_core (through outlines' vocabulary) can only spell a literal character
    that some token holds whole; this tokenizer holds no whole-token "\u263a"."""
    schema = {"enum": ["\u263a"]}
    if backend == "outlines_core":
        with pytest.raises(ValueError, match="incompatible with the regex"):
            compile_schema(tiny, schema, backend)
    else:
        [text] = generate_json(
            tiny, PROMPTS[:1], schema, max_new_tokens=50, seed=0, backend=backend
        )
        assert json.loads(text) == "\u263a"


class StepCounter(BaseStreamer):
    """Counts generation steps: the first put() is the prompt, each later one a step."""

    def __init__(self) -> None:
        self.puts = 0

    def put(self, value) -> None:
        self.puts += 1

    def end(self) -> None:
        pass


def test_generate_text_stops_at_max_new_tokens(tiny):
    counter = StepCounter()
    outputs = generate_text(tiny, PROMPTS, max_new_tokens=12, seed=0, streamer=counter)
    assert len(outputs) == len(PROMPTS) and all(outputs)
    assert counter.puts - 1 == 12  # random weights never pick the end token this early


@pytest.fixture(scope="module")
def short_context():
    """The tiny model with a context of 64 tokens."""
    tokenizer = build_tiny_tokenizer()
    return LoadedModel(build_tiny_model(tokenizer, context=64), tokenizer, "tiny-64", "cpu")


def test_context_length_comes_from_the_config(tiny, short_context):
    assert (tiny.context_length, short_context.context_length) == (4096, 64)


def test_max_new_tokens_is_capped_at_the_context_the_longest_prompt_leaves(short_context):
    prompts = [[{"role": "user", "content": "Hi"}], [{"role": "user", "content": "Hi " * 14}]]
    longest = max(prompt_lengths(short_context, prompts))
    assert longest == 54
    counter = StepCounter()
    generate_text(short_context, prompts, max_new_tokens=1000, seed=0, streamer=counter)
    assert counter.puts - 1 == 64 - longest


def test_a_prompt_that_fills_the_context_is_refused(short_context):
    prompt = [{"role": "user", "content": "Hi " * 20}]
    with pytest.raises(PromptTooLong, match="72 tokens leaves no room in tiny-64's context of 64"):
        generate_json(short_context, [prompt], SCHEMA, max_new_tokens=10, seed=0)


# Random schemas from the subset the compiler emits, kept small so generation is quick.
# Literals are ASCII (see test_non_ascii_literal); values include characters JSON
# escapes, property names do not (see test_outlines_core_refuses_property_name...).
_names = st.sampled_from(["a", "rule", "claim", "two words", "a-b.c*"])
_strings = st.text(alphabet='ab "\\\n', max_size=4)
_leaves = st.one_of(
    st.builds(
        lambda low, span: {"type": "string", "minLength": low, "maxLength": low + span},
        st.integers(0, 3),
        st.integers(0, 8),
    ),
    st.lists(_strings, min_size=1, max_size=3, unique=True).map(
        lambda values: {"type": "string", "enum": values}
    ),
    st.one_of(_strings, st.integers(-5, 5), st.booleans(), st.none()).map(
        lambda value: {"const": value}
    ),
    st.builds(
        lambda low, span: {"type": "integer", "minimum": low, "maximum": low + span},
        st.integers(-20, 20),
        st.integers(0, 30),
    ),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
)


def _containers(children):
    arrays = st.builds(
        lambda items, low, span: {
            "type": "array",
            "items": items,
            "minItems": low,
            "maxItems": low + span,
        },
        children,
        st.integers(0, 2),
        st.integers(0, 2),
    )
    objects = st.dictionaries(_names, children, min_size=1, max_size=3).flatmap(
        lambda properties: st.lists(st.sampled_from(sorted(properties)), unique=True).map(
            lambda required: {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            }
        )
    )
    any_ofs = st.lists(children, min_size=2, max_size=2).map(lambda alts: {"anyOf": alts})
    return st.one_of(arrays, objects, any_ofs)


_schemas = st.recursive(_leaves, _containers, max_leaves=5)


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=_schemas, seed=st.integers(0, 2**16))
def test_random_schema_output_validates(tiny, backend, schema, seed):
    [text] = generate_json(
        tiny, PROMPTS[:1], schema, max_new_tokens=ROOMY, seed=seed, backend=backend
    )
    assert_valid(text, schema)
