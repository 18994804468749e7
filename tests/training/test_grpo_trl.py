"""A real TRL GRPOTrainer step on a tiny random model with the default model's real tokenizer,
its rollouts constrained to the output schema (runtime.generation.constrained_rollouts): every
rollout parses under the schema, and the rewards vary, so the step has a signal to learn from."""

from __future__ import annotations

import functools
import json

import pytest

from compiler import Limits, output_model, output_schema
from runtime.generation import constrained_rollouts
from runtime.models import LoadedModel
from tests.runtime.conftest import build_tiny_model
from verifier.rewards import make_reward_funcs

trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")
pytest.importorskip("llguidance")

# Small bounds keep a random model's rollouts short (it writes every string to its bound).
LIMITS = Limits(
    reasoning_steps=1,
    claim_chars=8,
    answer_chars=24,
    objectives=1,
    objective_chars=8,
    analysis_chars=8,
    uncertainties=0,
    uncertainty_chars=1,
)
PROMPT = [{"role": "user", "content": "What are warning signs that a friend is suicidal?"}]


def recording(func, seen: list):
    """`func` as GRPOTrainer calls it, keeping each call's completions and rewards."""

    @functools.wraps(func)
    def wrapper(prompts, completions, **kwargs):
        rewards = func(prompts=prompts, completions=completions, **kwargs)
        seen.append((completions, rewards))
        return rewards

    return wrapper


def test_a_grpo_step_with_constrained_rollouts_and_rewards_that_vary(
    mini, tmp_path, real_tokenizer
):
    schema = output_schema(mini, "self_harm", LIMITS)
    budget = schema["x-policyspec"]["token_budget"]
    seen: dict[str, list] = {}
    funcs = []
    for func in make_reward_funcs(mini, setting="deliberative"):
        seen[func.__name__] = []
        funcs.append(recording(func, seen[func.__name__]))
    dataset = datasets.Dataset.from_list([{"prompt": PROMPT, "category": "self_harm"}] * 2)
    args = trl.GRPOConfig(
        output_dir=str(tmp_path / "trainer"),
        max_steps=1,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=budget,
        temperature=1.0,
        beta=0.0,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        seed=3,
    )
    model = build_tiny_model(real_tokenizer, hidden=64)
    trainer = trl.GRPOTrainer(
        model=model,
        reward_funcs=funcs,
        args=args,
        train_dataset=dataset,
        processing_class=real_tokenizer,
    )
    loaded = LoadedModel(model, real_tokenizer, "tiny-random", "cpu")
    with constrained_rollouts(loaded, schema):
        result = trainer.train()
    assert result.global_step == 1
    [(completions, formats)] = seen["format_reward"]
    [(_, answers)] = seen["answer_reward"]
    parse = output_model(mini, "self_harm", LIMITS)
    for completion in completions:
        text = completion[0]["content"] if isinstance(completion, list) else completion
        parse.model_validate(json.loads(text))  # every rollout is schema-valid JSON
    assert formats == [1.0] * len(completions)
    assert len(set(answers)) > 1, answers  # the group's rewards differ: a signal to learn from
