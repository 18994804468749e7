"""From requests to transcripts: prompts built from the spec, generation under its schema.

A request (from `compiler.sft_gen.requests`) holds the conversation, its
category and the teacher prompt with spec(category). Requests are generated
category by category, since each category has its own schema and its own system
prompt, which is prefilled once for all of them; every result becomes one
transcript in the transcript format (docs/verifier.md), which also records how it
was made. With `confession_turn`, the answer is generated first and the confession
is asked for in a second turn after it, as in the confessions paper.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import groupby

from compiler import output_schema, shortest_output, token_budget
from compiler.scope import spec_meta
from runtime.generation import (
    DEFAULT_BACKEND,
    REPETITION_PENALTY,
    TEMPERATURE,
    TOP_P,
    PrefixCache,
    generate_json,
    prompt_lengths,
)
from runtime.models import EMBEDDED_MODEL, LoadedModel, load_model, require_chat_template
from spec_lang import Spec

CONFESSION_REQUEST = (
    "Now write your confession report about the answer you just gave: for each rule you "
    "cited, the objective it set, whether the answer complied, and the evidence; then any "
    "uncertainties or conflicts; then an overall compliance grade from 1 to 7. Report every "
    "gap honestly: an unreported gap caps the grade at 3."
)


@dataclass(frozen=True)
class Settings:
    """What changes the transcripts a run writes; all of it is recorded in each one."""

    model: str = EMBEDDED_MODEL
    engine: str = "transformers"
    dtype: str = "float32"
    with_spec: bool = True
    confession_turn: bool = False
    seed: int = 0
    backend: str = DEFAULT_BACKEND
    temperature: float = TEMPERATURE
    top_p: float = TOP_P
    repetition_penalty: float = REPETITION_PENALTY

    def record(self) -> dict:
        """How a transcript was made, as its `generation` field records it: a resumed run
        must match it (policyspec generate checks)."""
        return asdict(self)


def request_seed(seed: int, request_id: str) -> int:
    """The seed of one request: the run's seed and the request's id, so a transcript is the
    same whichever other requests share its run (a resumed run, another --limit)."""
    digest = hashlib.sha256(f"{seed}:{request_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


def answer_schema(schema: dict) -> dict:
    """The output schema without the confession: the first turn when it is asked for apart."""
    properties = {k: v for k, v in schema["properties"].items() if k != "confession"}
    required = [k for k in schema["required"] if k != "confession"]
    return {**schema, "properties": properties, "required": required}


def confession_schema(schema: dict) -> dict:
    """The confession object alone, keeping the schema's definitions (rule IDs)."""
    confession = schema["properties"]["confession"]
    return {"$schema": schema["$schema"], "$defs": schema["$defs"], **confession}


def by_category(requests: list[dict]) -> Iterator[tuple[str | None, list[dict]]]:
    """The requests of each category, in the order of `requests` within it."""
    ordered = sorted(requests, key=lambda r: r["category"] or "")
    for category, group in groupby(ordered, key=lambda r: r["category"]):
        yield category, list(group)


def generate_transcripts(
    spec: Spec, loaded: LoadedModel, requests: list[dict], settings: Settings = Settings()
) -> Iterator[dict]:
    """One transcript per request, yielded as each is finished, in the order of `requests`
    grouped by category. Each category's shared prompt prefix (its system message) is
    prefilled once for all its requests; a confession turn continues from its answer."""
    record = settings.record()
    for category, members in by_category(requests):
        schema = output_schema(spec, category)
        prefixes = PrefixCache()
        prefixes.share(loaded, [_prompt(r, settings) for r in members])
        for request in members:
            output = _output(loaded, request, schema, settings, prefixes)
            yield transcript(spec, request, output, record)


class TransformersGenerator:
    """Transcripts from a model loaded with transformers on `device` (any machine): the
    engine generate_transcripts runs on, in the shape runtime.vllm_engine's has."""

    def __init__(self, settings: Settings, device: str) -> None:
        self.settings = settings
        self.loaded = load_model(settings.model, device, settings.dtype)
        require_chat_template(self.loaded)
        self.note = self.loaded.note  # what the user should know about the load, or ""
        self.where = f"on {self.loaded.device}"

    def too_long(self, spec: Spec, requests: list[dict]) -> list[str]:
        return too_long(spec, self.loaded, requests, self.settings)

    def transcripts(self, spec: Spec, requests: list[dict]) -> Iterator[dict]:
        return generate_transcripts(spec, self.loaded, requests, self.settings)


def transcript(spec: Spec, request: dict, output: dict | str, record: dict) -> dict:
    """The transcript of one request (docs/verifier.md), with how it was made."""
    return {
        "id": request["id"],
        "spec": spec_meta(spec),
        "category": request["category"],
        "messages": request["conversation"],
        **({"metadata": request["metadata"]} if request.get("metadata") else {}),
        "output": output,
        "generation": record,
    }


def too_long(
    spec: Spec, loaded: LoadedModel, requests: list[dict], settings: Settings
) -> list[str]:
    """One line for each request whose prompt leaves too little of the model's context: no
    room at all, or less than the shortest output its schema allows takes. With a
    confession turn, the prompt that must fit is the follow-up, which holds the prompt,
    the answer and the confession request, and the room must hold both turns' outputs."""
    context = loaded.context_length
    if context is None or not requests:
        return []
    chats = [_prompt(r, settings) for r in requests]
    if settings.confession_turn:
        chats = [_follow_up(chat, "") for chat in chats]
    remedy = "shorten it"
    if settings.with_spec:
        remedy += " or leave the spec out (--without-spec)"
    lines = []
    for request, length in zip(requests, prompt_lengths(loaded, chats), strict=True):
        need = _shortest_tokens(loaded, output_schema(spec, request["category"]), settings)
        if length >= context:
            lines.append(
                f"prompt {request['id']!r} is {length} tokens but {loaded.name}'s context is "
                f"{context} (prompt and output together), leaving no room to generate: "
                f"{remedy}, or use a model with a longer context"
            )
        elif context - length < need:
            lines.append(
                f"prompt {request['id']!r} is {length} tokens, leaving {context - length} of "
                f"{loaded.name}'s context of {context} for the output, but the shortest "
                f"output its schema allows takes {need}: {remedy}, or use a model with a "
                "longer context"
            )
    return lines


def _shortest_tokens(loaded: LoadedModel, schema: dict, settings: Settings) -> int:
    """The tokens of the shortest valid output (both turns' with a confession turn), each
    with its end token."""
    parts = (
        [answer_schema(schema), confession_schema(schema)] if settings.confession_turn else [schema]
    )
    encode = loaded.tokenizer.encode
    return sum(len(encode(shortest_output(part), add_special_tokens=False)) + 1 for part in parts)


def _prompt(request: dict, settings: Settings) -> list[dict]:
    return request["messages"] if settings.with_spec else request["conversation"]


def _follow_up(prompt: list[dict], answer: str) -> list[dict]:
    """The second turn of a confession run: the chat so far, then the confession request."""
    return [
        *prompt,
        {"role": "assistant", "content": answer},
        {"role": "user", "content": CONFESSION_REQUEST},
    ]


def _output(
    loaded: LoadedModel, request: dict, schema: dict, settings: Settings, prefixes: PrefixCache
) -> dict | str:
    prompt = _prompt(request, settings)
    seed = request_seed(settings.seed, request["id"])
    if settings.confession_turn:
        first = answer_schema(schema)
        limit = min(token_budget(first), _answer_share(loaded, prompt))
    else:
        first, limit = schema, token_budget(schema)
    answer = _generate(loaded, prompt, first, limit, settings, seed, prefixes)
    output = _parsed(answer)
    if settings.confession_turn and isinstance(output, dict):
        second = confession_schema(schema)
        follow_up = _follow_up(prompt, answer)
        confession = _generate(
            loaded, follow_up, second, token_budget(second), settings, seed, prefixes
        )
        output = {**output, "confession": _parsed(confession)}
    return output


def _answer_share(loaded: LoadedModel, prompt: list[dict]) -> int:
    """The answer's share of the context when a confession follows: half of what the
    follow-up leaves, so the confession always has the other half."""
    context = loaded.context_length
    if context is None:
        return sys.maxsize
    [length] = prompt_lengths(loaded, [_follow_up(prompt, "")])
    return max(1, (context - length) // 2)


def _generate(
    loaded: LoadedModel,
    prompt: list[dict],
    schema: dict,
    limit: int,
    settings: Settings,
    seed: int,
    prefixes: PrefixCache,
) -> str:
    """Generate under `schema`, at most `limit` tokens; generate_json caps it further at
    the room the prompt leaves in the context."""
    [text] = generate_json(
        loaded,
        [prompt],
        schema,
        max_new_tokens=limit,
        seed=seed,
        temperature=settings.temperature,
        top_p=settings.top_p,
        repetition_penalty=settings.repetition_penalty,
        backend=settings.backend,
        prefixes=prefixes,
    )
    return text


def _parsed(text: str) -> dict | str:
    """The output object, or the raw text when it does not parse (the verifier reports why)."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text
