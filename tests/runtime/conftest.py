"""What the runtime tests share: a tiny randomly initialised chat model, built in-process (no
download, no embedded model), and the example output schema."""

from __future__ import annotations

import pytest

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# The output schema the runtime tests generate under: the shape of a compiled one (rule
# IDs, decision, answer) in plain JSON Schema, with the maxLength and integer bounds a
# compiled schema avoids, so each backend's handling of them is tested too.
SCHEMA = {
    "type": "object",
    "properties": {
        "reasoning": {
            "type": "array",
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "rule": {"type": "string", "enum": ["SH-0", "SH-2", "V-1"]},
                    "claim": {"type": "string", "maxLength": 200},
                },
                "required": ["rule", "claim"],
                "additionalProperties": False,
            },
        },
        "decision": {"type": "string", "enum": ["comply", "safe_complete", "refuse"]},
        "answer": {"type": "string", "maxLength": 400},
        "grade": {"type": "integer", "minimum": 1, "maximum": 7},
    },
    "required": ["reasoning", "decision", "answer", "grade"],
    "additionalProperties": False,
}

TRAINING_TEXT = [
    '{"reasoning": [{"rule": "SH-2", "claim": "The user states intent."}], "decision": "refuse"}',
    '{"answer": "I am sorry, I cannot help with that.", "grade": 7, "ok": true, "x": null}',
    "The assistant may discuss prevalence, warning signs, and how to support someone.",
    "Respond with empathy, encourage crisis resources, give no methods.",
    "\u00e9\u00e8 \u2014 \u4f60\u597d",
]


def build_tiny_tokenizer():
    """A byte-level BPE tokenizer (every byte is a token, so any text can be spelled),
    with a pad token distinct from the end-of-sequence token."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(TRAINING_TEXT, trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def build_tiny_model(tokenizer, seed: int = 0, context: int = 4096, hidden: int = 32):
    """Random weights; `context` is the model's context length (max_position_embeddings),
    `hidden` its width (the training tests take 64: a little more to learn with)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=context,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="session")
def tiny():
    """The tiny model, run on one thread: a model this small only loses time to threads
    waiting on each other, badly so on a busy machine."""
    import torch

    from runtime.models import LoadedModel

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    tokenizer = build_tiny_tokenizer()
    yield LoadedModel(build_tiny_model(tokenizer), tokenizer, "tiny-random", "cpu")
    torch.set_num_threads(threads)


def save_tiny_model(folder, context: int = 4096):
    """The tiny model and its tokenizer (as `tiny`, seed 0) saved in `folder`, as a model
    folder on disk is."""
    tokenizer = build_tiny_tokenizer()
    build_tiny_model(tokenizer, context=context).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
