"""From requests to transcripts: prompts built from the spec, generation under its schema.

A request (from `compiler.sft_gen.requests`) holds the conversation, its
category and the teacher prompt with spec(category). Requests are generated in
batches of one category, since each category has its own schema; every result
becomes one transcript in the DESIGN.md format. With `confession_turn`, the
answer is generated first and the confession is asked for in a second turn
after it, as in the confessions paper.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import groupby

from compiler import output_schema, token_budget
from compiler.scope import spec_meta
from runtime.generation import DEFAULT_BACKEND, generate_json
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


def _generate_batch(spec, loaded, batch, schema, settings: Settings) -> Iterator[dict]:
    prompts = [r["messages"] if settings.with_spec else r["conversation"] for r in batch]
    first = answer_schema(schema) if settings.confession_turn else schema
    texts = _generate(loaded, prompts, first, settings)
    outputs = [_parsed(text) for text in texts]
    if settings.confession_turn:
        follow_ups = [
            [
                *prompt,
                {"role": "assistant", "content": text},
                {"role": "user", "content": CONFESSION_REQUEST},
            ]
            for prompt, text in zip(prompts, texts, strict=True)
        ]
        confessions = _generate(loaded, follow_ups, confession_schema(schema), settings)
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
            "output": output,
        }


def _generate(loaded: LoadedModel, prompts: list, schema: dict, settings: Settings) -> list[str]:
    return generate_json(
        loaded,
        prompts,
        schema,
        max_new_tokens=token_budget(schema),
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
