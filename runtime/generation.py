"""Batched generation over a transformers causal LM, optionally constrained to a JSON schema.

Constraints come from outlines: a backend (outlines_core or llguidance) turns
the schema into a logits processor that masks every token the schema does not allow, so
the text generated is valid JSON of the schema unless `max_new_tokens` cuts it short.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from compiler.schema import PINNED_WHITESPACE, WHITESPACE
from runtime.models import LoadedModel

# xgrammar, outlines' third backend, is left out: xgrammar 0.2.8 cannot build the
# compiled schemas (a string bound over 128 characters fails a check in its grammar
# compiler, mlc-ai/xgrammar#863), and lets raw control characters into JSON strings,
# which json.loads rejects.
BACKENDS = ("outlines_core", "llguidance")
# llguidance when installed (benchmarks/decoding.py): it builds the default spec's
# schemas in milliseconds, after a second or less of vocabulary setup per model, where
# outlines_core takes 20 to 90 s and several GB (its index grows with every string
# bound); per token the two cost the same. It also gets integer bounds, escaped
# property names and any Unicode literal right. outlines_core is the one outlines
# itself depends on.
DEFAULT_BACKEND = "llguidance" if importlib.util.find_spec("llguidance") else "outlines_core"

# Sampling defaults, measured on SmolLM2-135M (4 policy prompts, 2 seeds). Without a
# repetition penalty it loops, greedy or sampled: the same claim repeated, phrases
# repeated until a string hits maxLength (greedy: 69% repeated 4-grams; temperature
# 0.7 / top_p 0.9: 39%, 5 of 8 outputs at maxLength). A schema makes loops costly,
# since the grammar keeps one inside its string until the length bound. With a 1.1
# penalty: no repeated 4-grams, no output at maxLength. A 1.3 penalty pushed strings
# to maxLength again (2 of 8), likely because it also penalises the closing quote.
# Sampling at 0.7 / 0.9 rather than greedy keeps variety across seeds without the noisy
# tail. The penalty only rescales logits, so unlike no_repeat_ngram_size it never
# forbids the one token the grammar allows.
TEMPERATURE = 0.7
TOP_P = 0.9
REPETITION_PENALTY = 1.1

# outlines_core ignores minimum/maximum on integers; ranges up to this size are spelled
# out as enums instead (see _for_outlines_core).
_MAX_INTEGER_ENUM = 1000


class PromptTooLong(ValueError):
    """A prompt fills the model's context, leaving no room for a single new token."""


def available_backends() -> list[str]:
    """The backends whose library is installed."""
    return [name for name in BACKENDS if importlib.util.find_spec(name) is not None]


def generate_json(
    loaded: LoadedModel,
    prompts: list[list[dict[str, str]]],
    schema: dict[str, Any],
    *,
    max_new_tokens: int,
    seed: int,
    temperature: float = TEMPERATURE,
    top_p: float = TOP_P,
    repetition_penalty: float = REPETITION_PENALTY,
    backend: str = DEFAULT_BACKEND,
    streamer: Any = None,
) -> list[str]:
    """Answer each chat (a list of {"role", "content"} messages) with JSON of `schema`.

    Returns one string per prompt. Each is valid JSON of the schema, unless generation
    stopped at `max_new_tokens` or at the end of the model's context (which caps it), in
    which case it is the truncated text; PromptTooLong when the longest prompt leaves the
    context no room. Outputs are reproducible for the same seed, prompts, batch and
    machine. `temperature=0` decodes greedily. `streamer` (a transformers BaseStreamer)
    sees the prompt ids, then the new token ids of every step.
    """
    processor = compile_schema(loaded, schema, backend)
    processor.reset()  # processors carry per-generation state
    return _generate(
        loaded,
        prompts,
        [processor],
        max_new_tokens=max_new_tokens,
        seed=seed,
        temperature=temperature,
        top_p=top_p,
        repetition_penalty=repetition_penalty,
        streamer=streamer,
    )


def generate_text(
    loaded: LoadedModel,
    prompts: list[list[dict[str, str]]],
    *,
    max_new_tokens: int,
    seed: int,
    temperature: float = TEMPERATURE,
    top_p: float = TOP_P,
    repetition_penalty: float = REPETITION_PENALTY,
    streamer: Any = None,
) -> list[str]:
    """Answer each chat with unconstrained text; otherwise as generate_json."""
    return _generate(
        loaded,
        prompts,
        [],
        max_new_tokens=max_new_tokens,
        seed=seed,
        temperature=temperature,
        top_p=top_p,
        repetition_penalty=repetition_penalty,
        streamer=streamer,
    )


@contextmanager
def constrained_rollouts(
    loaded: LoadedModel, schema: dict[str, Any], backend: str = DEFAULT_BACKEND
) -> Iterator[None]:
    """Within the block, every `loaded.model.generate` call is constrained to `schema`.

    For trainers that sample through `model.generate` and take no logits processor: TRL's
    GRPOTrainer without vLLM. (With vLLM, give TRL the schema's regex file instead:
    `GRPOConfig(vllm_structured_outputs_regex=...)`.) Each call starts the processor
    afresh, so it serves one batch of rollouts at a time; the trainer's own sampling
    settings stay as they are. Rows that finish are padded with the pad token, which
    must be the end-of-sequence token (llguidance rejects any other after the JSON).
    """
    import torch
    from transformers import LogitsProcessorList

    if loaded.tokenizer.pad_token_id != loaded.tokenizer.eos_token_id:
        raise ValueError(
            "constrained rollouts need the tokenizer's pad token to be its end-of-sequence "
            "token: set tokenizer.pad_token = tokenizer.eos_token"
        )
    processor = compile_schema(loaded, schema, backend)
    model = loaded.model
    unconstrained = model.generate

    def generate(*args: Any, **kwargs: Any) -> Any:
        processor.reset()
        processors = LogitsProcessorList([*(kwargs.pop("logits_processor", None) or []), processor])
        eager = (
            torch.compiler.set_stance("force_eager") if loaded.device == "cpu" else nullcontext()
        )
        with eager:
            return unconstrained(*args, logits_processor=processors, **kwargs)

    model.generate = generate
    try:
        yield
    finally:
        del model.generate  # the class's own generate again


def prompt_lengths(loaded: LoadedModel, prompts: list[list[dict[str, str]]]) -> list[int]:
    """The tokens of each chat as the model reads it: chat template applied, the
    assistant's turn opened."""
    encoded = loaded.tokenizer.apply_chat_template(
        prompts, add_generation_prompt=True, return_dict=False
    )
    return [len(ids) for ids in encoded]


def compile_schema(
    loaded: LoadedModel, schema: dict[str, Any], backend: str = DEFAULT_BACKEND
) -> Any:
    """The logits processor that constrains `loaded` to `schema`, built once and cached.

    Building is the slow part of constrained generation (outlines_core builds its whole
    token index up front); generate_json calls this, and callers may call it early to
    pay the cost before the first prompt. A processor holds the state of one generation
    at a time, so do not generate with one LoadedModel from two threads at once.
    """
    # json.dumps keeps the key order: the order of "properties" is the order of the output.
    return _compile(loaded, json.dumps(schema), backend)


@functools.lru_cache(maxsize=32)
def _compile(loaded: LoadedModel, schema_json: str, backend: str) -> Any:
    """Both backends write the one serialisation (compiler.schema.serialise): compact
    JSON with no whitespace between tokens. Left free, small models fill it with
    newlines, and the token budget would not hold."""
    outlines_backend = _backend(loaded, backend)
    schema = json.loads(schema_json)
    if backend == "outlines_core":
        return outlines_backend.get_json_schema_logits_processor(
            json.dumps(_for_outlines_core(schema)), whitespace_pattern=WHITESPACE
        )
    schema["x-guidance"] = PINNED_WHITESPACE
    return outlines_backend.get_json_schema_logits_processor(json.dumps(schema))


@functools.lru_cache(maxsize=8)
def _backend(loaded: LoadedModel, name: str) -> Any:
    """The outlines backend for `loaded`; building one converts the whole vocabulary."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if importlib.util.find_spec(name) is None:
        raise ValueError(f"backend {name!r} is not installed; run `pip install {name}`")
    from outlines import from_transformers
    from outlines.backends import LLGuidanceBackend, OutlinesCoreBackend

    backend_class = OutlinesCoreBackend if name == "outlines_core" else LLGuidanceBackend
    return backend_class(from_transformers(loaded.model, loaded.tokenizer))


def _for_outlines_core(node: Any) -> Any:
    """Work around what outlines_core (0.2.14) gets wrong, failing closed where it can't.

    It drops minimum and maximum on integers (a 1-7 grade could come out as 12, or never
    end), so small ranges are spelled out as enums. It writes property names into its
    regex without JSON escaping, and drops a string's pattern when minLength or
    maxLength sits beside it; such schemas are refused.
    """
    if isinstance(node, list):
        return [_for_outlines_core(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {
        key: value if key in ("enum", "const") else _for_outlines_core(value)
        for key, value in node.items()
    }
    for name in node.get("properties", {}):
        if json.dumps(name) != f'"{name}"':
            raise ValueError(
                f"the outlines_core backend cannot emit the property name {name!r}; "
                "rename it or use backend='llguidance'"
            )
    if "pattern" in node and ("minLength" in node or "maxLength" in node):
        raise ValueError(
            "the outlines_core backend ignores a pattern beside minLength or maxLength; "
            "fold the length into the pattern or use backend='llguidance'"
        )
    if node.get("type") == "integer" and ("minimum" in node or "maximum" in node):
        low, high = node.get("minimum", -math.inf), node.get("maximum", math.inf)
        if high - low > _MAX_INTEGER_ENUM:
            raise ValueError(
                f"the outlines_core backend cannot bound integers to [{low}, {high}]; "
                f"give both minimum and maximum at most {_MAX_INTEGER_ENUM} apart, "
                "or use backend='llguidance'"
            )
        node.setdefault("enum", list(range(math.ceil(low), math.floor(high) + 1)))
    return node


def _generate(
    loaded: LoadedModel,
    prompts: list[list[dict[str, str]]],
    processors: list[Any],
    *,
    max_new_tokens: int,
    seed: int,
    temperature: float,
    top_p: float,
    repetition_penalty: float,
    streamer: Any,
) -> list[str]:
    import torch
    from transformers import LogitsProcessorList, set_seed

    tokenizer = loaded.tokenizer
    if tokenizer.chat_template is None:
        raise ValueError(f"{loaded.name} has no chat template; use an instruction-tuned model")
    inputs = tokenizer.apply_chat_template(
        prompts,
        add_generation_prompt=True,
        padding=True,
        return_tensors="pt",
        return_dict=True,
    ).to(loaded.device)
    max_new_tokens = min(max_new_tokens, _room(loaded, inputs["input_ids"].shape[1]))
    # Under a schema only the tokenizer's end token ends the JSON: it is the one token the
    # backends allow once the JSON is complete. Other end tokens are text to them.
    stop_ids = {tokenizer.eos_token_id} if processors else stop_token_ids(loaded)
    if temperature > 0:
        sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p}
    else:
        sampling = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
    # Both backends torch.compile their masking kernel. On CPU that costs seconds per
    # process and per new batch size, and needs a C++ compiler, for a kernel that takes
    # well under a millisecond per step eagerly.
    eager = torch.compiler.set_stance("force_eager") if loaded.device == "cpu" else nullcontext()
    set_seed(seed)
    with torch.inference_mode(), eager:
        output = loaded.model.generate(
            **inputs,
            logits_processor=LogitsProcessorList(processors),
            max_new_tokens=max_new_tokens,
            repetition_penalty=repetition_penalty,
            eos_token_id=sorted(stop_ids),
            # Finished rows are filled with end-of-sequence tokens rather than padding,
            # which llguidance would report as a token its grammar does not allow.
            pad_token_id=tokenizer.eos_token_id,
            streamer=streamer,
            **sampling,
        )
    texts = []
    for row in output[:, inputs["input_ids"].shape[1] :].tolist():
        end = next((i for i, token in enumerate(row) if token in stop_ids), len(row))
        # Keep special tokens the grammar let through: the text is exactly what it accepted.
        texts.append(
            tokenizer.decode(
                row[:end], skip_special_tokens=False, clean_up_tokenization_spaces=False
            )
        )
    return texts


def _room(loaded: LoadedModel, prompt_length: int) -> int:
    """The new tokens the context holds after a (padded) prompt of `prompt_length`."""
    context = loaded.context_length
    if context is None:
        return sys.maxsize
    if prompt_length >= context:
        raise PromptTooLong(
            f"a prompt of {prompt_length} tokens leaves no room in {loaded.name}'s "
            f"context of {context} tokens; shorten it"
        )
    return context - prompt_length


def stop_token_ids(loaded: LoadedModel) -> set[int]:
    """The tokenizer's end-of-sequence token plus any the generation config adds."""
    configured = loaded.model.generation_config.eos_token_id
    if configured is None:
        configured = []
    elif isinstance(configured, int):
        configured = [configured]
    return {loaded.tokenizer.eos_token_id, *configured}
