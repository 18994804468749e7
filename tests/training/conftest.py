"""What the training tests share: a tiny random Llama (2 layers, hidden 64) over the default
model's real tokenizer, built in-process (no download), run on one thread."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

CHAT_TEMPLATES = Path(__file__).parents[2] / "examples" / "chat_templates"


def tiny_llama(tokenizer, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    return LlamaForCausalLM(config)


def with_template(tokenizer, name: str):
    """A copy of `tokenizer` whose chat template is examples/chat_templates/<name>.jinja."""
    changed = copy.deepcopy(tokenizer)
    changed.chat_template = (CHAT_TEMPLATES / f"{name}.jinja").read_text()
    return changed


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def mini():
    import spec_lang
    from tests.compiler.conftest import SPECS

    return spec_lang.load(SPECS / "mini")
