"""From requests to transcripts: prompts built from the spec, generation under its schema.

A request (from `compiler.sft_gen.requests`) holds the conversation, its
category and the teacher prompt with spec(category). Requests are generated in
batches of one category, since each category has its own schema; every result
becomes one transcript in the transcript format (docs/verifier.md). With `confession_turn`, the
answer is generated first and the confession is asked for in a second turn
after it, as in the confessions paper.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby

from compiler import output_schema, token_budget
from compiler.scope import spec_meta
from runtime.generation import DEFAULT_BACKEND, generate_json, prompt_lengths
from runtime.models import LoadedModel
from spec_lang import Spec

CONFESSION_REQUEST = (
    "Now write your confession report about the answer you just gave: for each rule you "
    "cited, the objective it set, whether the answer complied, and the evidence; then any "
    "uncertainties or conflicts; then an overall compliance grade from 1 to 7. Report every "
    "gap honestly: an unreported gap caps the grade at 3."
)


@dataclass(frozen=True)
class Settings:
    with_spec: bool = True
    confession_turn: bool = False
    batch_size: int = 4
    seed: int = 0
    backend: str = DEFAULT_BACKEND


def answer_schema(schema: dict) -> dict:
    """The output schema without the confession: the first turn when it is asked for apart."""
    properties = {k: v for k, v in schema["properties"].items() if k != "confession"}
    required = [k for k in schema["required"] if k != "confession"]
    return {**schema, "properties": properties, "required": required}


def confession_schema(schema: dict) -> dict:
    """The confession object alone, keeping the schema's definitions (rule IDs)."""
    confession = schema["properties"]["confession"]
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], **confession}


def generate_transcripts(
    spec: Spec,
    loaded: LoadedModel,
    requests: list[dict],
    settings: Settings = Settings(),
    on_batch: Callable[[int], None] = lambda done: None,
) -> Iterator[dict]:
    """One transcript per request, yielded batch by batch, in the order of `requests`
    grouped by category."""
    by_category = sorted(requests, key=lambda r: r["category"] or "")
    for category, group in groupby(by_category, key=lambda r: r["category"]):
        schema = output_schema(spec, category)
        members = list(group)
        for start in range(0, len(members), settings.batch_size):
            batch = members[start : start + settings.batch_size]
            yield from _generate_batch(spec, loaded, batch, schema, settings)
            on_batch(len(batch))


def too_long(loaded: LoadedModel, requests: list[dict], settings: Settings) -> list[str]:
    """One line for each request whose prompt leaves no room in the model's context:
    its id, the lengths, and what to do. With a confession turn, the prompt that must
    fit is the follow-up, which holds the prompt, the answer and the confession request."""
    context = loaded.context_length
    if context is None or not requests:
        return []
    chats = [_prompt(r, settings) for r in requests]
    if settings.confession_turn:
        chats = [_follow_up(chat, "") for chat in chats]
    remedy = "shorten it"
    if settings.with_spec:
        remedy += " or leave the spec out (--without-spec)"
    return [
        f"prompt {request['id']!r} is {length} tokens but {loaded.name}'s context is {context} "
        f"(prompt and output together), leaving no room to generate: {remedy}, or use a "
        "model with a longer context"
        for request, length in zip(requests, prompt_lengths(loaded, chats), strict=True)
        if length >= context
    ]


def _prompt(request: dict, settings: Settings) -> list[dict]:
    return request["messages"] if settings.with_spec else request["conversation"]


def _follow_up(prompt: list[dict], answer: str) -> list[dict]:
    """The second turn of a confession run: the chat so far, then the confession request."""
    return [
        *prompt,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": CONFESSION_REQUEST},
    ]


def _generate_batch(spec, loaded, batch, schema, settings: Settings) -> Iterator[dict]:
    prompts = [_prompt(r, settings) for r in batch]
    if settings.confession_turn:
        first = answer_schema(schema)
        limit = min(token_budget(first), _answer_share(loaded, prompts))
    else:
        first, limit = schema, token_budget(schema)
    texts = _generate(loaded, prompts, first, limit, settings)
    outputs = [_parsed(text) for text in texts]
    if settings.confession_turn:
        follow_ups = [_follow_up(p, text) for p, text in zip(prompts, texts, strict=True)]
        second = confession_schema(schema)
        confessions = _generate(loaded, follow_ups, second, token_budget(second), settings)
        outputs = [
            {**output, "confession": _parsed(confession)} if isinstance(output, dict) else output
            for output, confession in zip(outputs, confessions, strict=True)
        ]
    for request, output in zip(batch, outputs, strict=True):
        yield {
            "id": request["id"],
            "spec": spec_meta(spec),
            "category": request["category"],
            "messages": request["conversation"],
            **({"metadata": request["metadata"]} if request.get("metadata") else {}),
            "output": output,
        }


def _answer_share(loaded: LoadedModel, prompts: list) -> int:
    """The answer's share of the context when a confession follows: half of what the
    follow-up leaves, so the confession always has the other half."""
    context = loaded.context_length
    if context is None:
        return sys.maxsize
    longest = max(prompt_lengths(loaded, [_follow_up(p, "") for p in prompts]))
    return max(1, (context - longest) // 2)


def _generate(
    loaded: LoadedModel, prompts: list, schema: dict, limit: int, settings: Settings
) -> list[str]:
    """Generate under `schema`, at most `limit` tokens; generate_json caps it further at
    the room the batch's longest prompt leaves in the context."""
    return generate_json(
        loaded,
        prompts,
        schema,
        max_new_tokens=limit,
        seed=settings.seed,
        backend=settings.backend,
    )


def _parsed(text: str) -> dict | str:
    """The output object, or the raw text when it does not parse (the verifier reports why)."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text
