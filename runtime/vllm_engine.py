"""Transcripts and judge replies at GPU scale: vLLM's offline engine under the compiled schemas.

`policyspec generate --engine vllm` and `policyspec judge --judge-engine vllm` run here.
Requests go into the engine of a `vllm.LLM` one by one (`llm_engine.add_request`) and
its step loop (`llm_engine.step()`) is run by hand, as `LLM.generate` runs it, so each
request is handed back the moment it finishes: a transcript is written (and synced) as
soon as it is done, and a kill loses none that were. At most IN_FLIGHT requests are in
the engine at a time; as each finishes the next is added, so vLLM's continuous batching
never waits for a wave to drain.

Each request has its own sampling parameters: its schema as a structured output (the
guidance backend: llguidance, as in the transformers path; xgrammar 0.2.8 cannot build
the compiled schemas), its own seed, and `max_tokens` at most the room its prompt
leaves in the context. vLLM caches prefixes (`enable_prefix_caching`): each category's
system prompt is computed once, and a confession turn, added when its answer finishes,
reuses the answer's history. `tensor_parallel_size` splits the model over GPUs. Unlike
the transformers path, vLLM's repetition penalty also counts the prompt's tokens (the
spec's rule IDs among them).

vllm is an optional extra (`pip install 'policyspec[vllm]'`), imported only here. Two
spellings of its structured outputs are supported, found at import: vLLM 0.11 and later
(`SamplingParams(structured_outputs=StructuredOutputsParams(json=...))`, the engine's
`structured_outputs_config`), and 0.10 (`guided_decoding=GuidedDecodingParams(...)`,
`guided_decoding_backend`). Tested only where a GPU and vllm are present
(tests/runtime/test_vllm_engine.py).
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from compiler import output_schema, token_budget
from runtime.generation import _chat_ids
from runtime.models import EMBEDDED_MODEL, LoadedModel, _converted, _embedded_gguf
from runtime.transcripts import (
    Settings,
    _answer_share,
    _follow_up,
    _parsed,
    _prompt,
    answer_schema,
    confession_schema,
    request_seed,
    too_long,
    transcript,
)
from spec_lang import Spec

# Requests in the engine at once: enough to keep a GPU's batch full, few enough that the
# prompts waiting in vLLM's queue stay a small part of host memory.
IN_FLIGHT = 1024
MISSING = "needs vllm and a CUDA GPU: install the vllm extra (pip install 'policyspec[vllm]')"


class VllmError(Exception):
    """vLLM cannot run here: the message is one line saying why and what to do."""


def require_vllm(option: str) -> None:
    """Refuse `option` in one line where vllm is not installed, before anything loads."""
    if importlib.util.find_spec("vllm") is None:
        raise VllmError(f"{option} {MISSING}")


@dataclass(frozen=True)
class Turn:
    """One request to the engine: a chat to answer under `schema`, at most `limit` tokens
    (further capped at the room the prompt leaves), sampled from its own `seed`."""

    chat: list[dict]
    schema: dict
    limit: int
    seed: int
    temperature: float
    top_p: float
    repetition_penalty: float

    def sampling(self, room: int) -> dict[str, Any]:
        """SamplingParams' options for this turn, less the schema, given the room its
        prompt leaves in the context. Greedy decoding (temperature 0) ignores top_p."""
        return {
            "temperature": self.temperature,
            "top_p": self.top_p if self.temperature > 0 else 1.0,
            "repetition_penalty": self.repetition_penalty,
            "max_tokens": min(self.limit, room),
            "seed": self.seed,
        }


class VllmModel:
    """A model loaded in vLLM, answering turns through its engine's step loop."""

    def __init__(self, model: str, dtype: str, seed: int = 0, tensor_parallel_size: int = 1):
        require_vllm("--engine vllm")
        from vllm import LLM

        engine_options, self._constraint = _structured_outputs()
        self._request_ids = itertools.count()  # unique for the engine's whole life
        self.name = model
        self.llm = LLM(
            model=str(_model_folder(model)),
            dtype=dtype,
            tensor_parallel_size=tensor_parallel_size,
            enable_prefix_caching=True,
            seed=seed,
            **engine_options,
        )
        self.context = self.llm.llm_engine.model_config.max_model_len
        # vLLM's tokenizer and context in the shape runtime.transcripts measures prompts in
        config = SimpleNamespace(
            get_text_config=lambda decoder: SimpleNamespace(max_position_embeddings=self.context)
        )
        self.shape = LoadedModel(
            SimpleNamespace(config=config), self.llm.get_tokenizer(), model, "cuda"
        )

    def finished(
        self,
        turns: Iterable[tuple[Any, Turn]],
        follow_up: Callable[[Any, str], tuple[Any, Turn] | None] = lambda key, text: None,
    ) -> Iterator[tuple[Any, str]]:
        """(key, text) of each (key, turn) as soon as it finishes, in the order they finish.
        `follow_up(key, text)` may give a turn that continues a finished one (a confession
        after its answer): it is added at once, and the finished one is not yielded.
        Requests still in the engine when the caller stops early are aborted."""
        from vllm.sampling_params import RequestOutputKind, SamplingParams

        engine = self.llm.llm_engine
        waiting = iter(turns)
        keys: dict[str, Any] = {}

        def add(key: Any, turn: Turn) -> None:
            ids = _chat_ids(self.shape, turn.chat)
            params = SamplingParams(
                **turn.sampling(self.context - len(ids)),
                **self._constraint(turn.schema),
                output_kind=RequestOutputKind.FINAL_ONLY,
            )
            request_id = str(next(self._request_ids))
            keys[request_id] = key
            engine.add_request(request_id, {"prompt_token_ids": ids}, params)

        try:
            while True:
                while len(keys) < IN_FLIGHT and (item := next(waiting, None)) is not None:
                    add(*item)
                if not keys:
                    return
                for output in engine.step():
                    if not output.finished:
                        continue
                    key, text = keys.pop(output.request_id), output.outputs[0].text
                    following = follow_up(key, text)
                    if following is None:
                        yield key, text
                    else:
                        add(*following)
        finally:
            if keys:
                engine.abort_request(list(keys))


class VllmGenerator:
    """Transcripts from a model in vLLM, every request under the run's settings."""

    def __init__(self, settings: Settings, tensor_parallel_size: int = 1) -> None:
        self.settings = settings
        self.model = VllmModel(settings.model, settings.dtype, settings.seed, tensor_parallel_size)
        self.where = f"on vLLM, tensor parallel {tensor_parallel_size}"
        self.note = ""

    def too_long(self, spec: Spec, requests: list[dict]) -> list[str]:
        """runtime.transcripts.too_long against vLLM's tokenizer and context."""
        return too_long(spec, self.model.shape, requests, self.settings)

    def transcripts(self, spec: Spec, requests: list[dict]) -> Iterator[dict]:
        """One transcript per request, yielded as soon as it is finished (in the order
        they finish: each is keyed by its request's id)."""
        conversations = Conversations(spec, self.settings, self.model.shape)
        turns = (conversations.first(index, request) for index, request in enumerate(requests))
        for index, text in self.model.finished(turns, conversations.follow_up):
            yield conversations.transcript(index, text)


class Conversations:
    """The turns of each request and what its transcript becomes: one turn under the
    output schema, or with a confession turn, the answer under the schema without its
    confession, then the confession asked for after it. Requests are keyed by their
    index in the run."""

    def __init__(self, spec: Spec, settings: Settings, shape: LoadedModel) -> None:
        self.spec = spec
        self.settings = settings
        self.shape = shape  # the tokenizer and context the answer's share is measured in
        self.record = settings.record()
        self._requests: dict[int, dict] = {}  # those started and not yet finished
        self._answers: dict[int, str] = {}  # the answers of those asked for a confession

    def first(self, index: int, request: dict) -> tuple[int, Turn]:
        """Request `index`'s first turn: its whole output, or its answer."""
        self._requests[index] = request
        schema = output_schema(self.spec, request["category"])
        prompt = _prompt(request, self.settings)
        if not self.settings.confession_turn:
            return index, self._turn(request, prompt, schema, token_budget(schema))
        first = answer_schema(schema)
        limit = min(token_budget(first), _answer_share(self.shape, prompt))
        return index, self._turn(request, prompt, first, limit)

    def follow_up(self, index: int, text: str) -> tuple[int, Turn] | None:
        """The confession turn after request `index`'s answer `text`; None when `text` is
        its last turn (no confession asked for, the confession itself, or an answer that
        does not parse, which is not asked about)."""
        if not self.settings.confession_turn or index in self._answers:
            return None
        if not isinstance(_parsed(text), dict):
            return None
        self._answers[index] = text
        request = self._requests[index]
        schema = confession_schema(output_schema(self.spec, request["category"]))
        chat = _follow_up(_prompt(request, self.settings), text)
        return index, self._turn(request, chat, schema, token_budget(schema))

    def transcript(self, index: int, text: str) -> dict:
        """The transcript of request `index`, whose last turn wrote `text`."""
        request = self._requests.pop(index)
        answer = self._answers.pop(index, None)
        output = _parsed(text if answer is None else answer)
        if answer is not None:
            output = {**output, "confession": _parsed(text)}
        return transcript(self.spec, request, output, self.record)

    def _turn(self, request: dict, chat: list[dict], schema: dict, limit: int) -> Turn:
        settings = self.settings
        return Turn(
            chat,
            schema,
            limit,
            request_seed(settings.seed, request["id"]),
            settings.temperature,
            settings.top_p,
            settings.repetition_penalty,
        )


def _structured_outputs() -> tuple[dict, Callable[[dict], dict]]:
    """The engine's options choosing the guidance backend, and SamplingParams' options
    constraining a request to a JSON schema, as this vLLM spells them."""
    import vllm
    from vllm import sampling_params

    if hasattr(sampling_params, "StructuredOutputsParams"):  # 0.11 and later
        structured = sampling_params.StructuredOutputsParams
        return (
            {"structured_outputs_config": {"backend": "guidance"}},
            lambda schema: {"structured_outputs": structured(json=schema)},
        )
    if hasattr(sampling_params, "GuidedDecodingParams"):  # 0.10
        guided = sampling_params.GuidedDecodingParams
        return (
            {"guided_decoding_backend": "guidance"},
            lambda schema: {"guided_decoding": guided(json=schema)},
        )
    raise VllmError(
        f"vllm {vllm.__version__} has no structured outputs policyspec knows: "
        "install vllm 0.10 or later"
    )


def _model_folder(model: str) -> Path | str:
    """What vLLM loads: the embedded model's or a GGUF file's converted folder (the same
    cache the transformers path reads), a model folder, or a model id."""
    if model == EMBEDDED_MODEL:
        return _converted(_embedded_gguf(), EMBEDDED_MODEL)
    path = Path(model)
    if path.suffix == ".gguf" and path.is_file():
        return _converted(path, path.stem)
    return model
