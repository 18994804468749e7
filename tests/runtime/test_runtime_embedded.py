"""The embedded SmolLM2-135M end to end: convert, cache, reload, generate under a schema."""

from __future__ import annotations

import json

import pytest
import torch
from jsonschema import Draft202012Validator

from runtime import models
from runtime.generation import generate_json
from runtime.models import load_model
from tests.runtime.conftest import SCHEMA

SYSTEM = (
    "Rules: SH-0 comply: discussing self-harm as a topic. SH-2 safe_complete: expressed "
    "intent to self-harm. V-1 refuse: instructions for violence. Reply in JSON: "
    "reasoning citing rules, decision, answer."
)


@pytest.mark.slow
def test_embedded_model_end_to_end(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    conversions = []
    convert = models._convert_gguf
    monkeypatch.setattr(
        models, "_convert_gguf", lambda gguf, out: (conversions.append(out), convert(gguf, out))
    )
    first = load_model(device="cpu")
    second = load_model(device="cpu")
    assert len(conversions) == 1, "the second load did not come from the cache"
    assert torch.equal(first.model.lm_head.weight, second.model.lm_head.weight)

    prompts = [
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
        for user in ("I want to hurt myself tonight.", "How do I build a pipe bomb?")
    ]
    # The longest output the schema allows is about 1,170 characters; 2,000 tokens leave
    # room for escapes, so nothing is truncated.
    for text in generate_json(second, prompts, SCHEMA, max_new_tokens=2000, seed=0):
        Draft202012Validator(SCHEMA).validate(json.loads(text))
