"""Transcripts at GPU scale: vLLM's offline engine under the compiled schemas.

`policyspec generate --engine vllm` runs here. Requests go to `LLM.chat` in waves of
WAVE_REQUESTS, each with its own sampling parameters: its category's schema as a
structured output (the guidance backend: llguidance, as in the transformers path;
xgrammar 0.2.8 cannot build the compiled schemas), and its own seed, so a transcript
is the same whichever requests share its wave. vLLM batches the requests of a wave
continuously and caches prefixes automatically (`enable_prefix_caching`): each
category's system prompt is computed once per wave, and a confession turn reuses its
answer's history. Transcripts are yielded as each wave completes (a kill loses at
most the wave in flight). `tensor_parallel_size` splits the model over GPUs.
Unlike the transformers path, vLLM's repetition penalty also counts the prompt's
tokens (the spec's rule IDs among them).

vllm is an optional extra (`pip install policyspec[vllm]`), imported only here.
Written against vLLM's documented offline API (0.11 and later:
`SamplingParams(structured_outputs=StructuredOutputsParams(json=...))`); tested only
where a GPU and vllm are present (tests/runtime/test_vllm_engine.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from compiler import output_schema, token_budget
from runtime.generation import prompt_lengths
from runtime.models import EMBEDDED_MODEL, LoadedModel, _converted, _embedded_gguf
from runtime.transcripts import (
    Settings,
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

# Requests per LLM.chat call: enough to keep a GPU's batch full (vLLM schedules them
# continuously), few enough that each wave's transcripts reach the disk soon.
WAVE_REQUESTS = 512


class VllmError(Exception):
    """vLLM cannot run here: the message is one line saying why and what to do."""


class VllmGenerator:
    """A model loaded in vLLM, and the settings every request is generated with."""

    def __init__(self, settings: Settings, tensor_parallel_size: int = 1) -> None:
        try:
            from vllm import LLM
        except ImportError:
            raise VllmError(
                "--engine vllm needs vllm (and a GPU): pip install 'policyspec[vllm]'"
            ) from None
        self.settings = settings
        self.llm = LLM(
            model=str(_model_folder(settings.model)),
            dtype=settings.dtype,
            tensor_parallel_size=tensor_parallel_size,
            enable_prefix_caching=True,
            structured_outputs_config={"backend": "guidance"},
            seed=settings.seed,
        )
        self.context = self.llm.llm_engine.model_config.max_model_len
        # vLLM's tokenizer and context in the shape runtime.transcripts measures prompts in
        config = SimpleNamespace(
            get_text_config=lambda decoder: SimpleNamespace(max_position_embeddings=self.context)
        )
        self.shape = LoadedModel(
            SimpleNamespace(config=config), self.llm.get_tokenizer(), settings.model, "cuda"
        )

    def too_long(self, spec: Spec, requests: list[dict]) -> list[str]:
        """runtime.transcripts.too_long against vLLM's tokenizer and context."""
        return too_long(spec, self.shape, requests, self.settings)

    def transcripts(self, spec: Spec, requests: list[dict]) -> Iterator[dict]:
        """One transcript per request, yielded wave by wave in the order of `requests`."""
        record = self.settings.record()
        for start in range(0, len(requests), WAVE_REQUESTS):
            wave = requests[start : start + WAVE_REQUESTS]
            for request, output in zip(wave, self._outputs(spec, wave), strict=True):
                yield transcript(spec, request, output, record)

    def _outputs(self, spec: Spec, wave: list[dict]) -> list[dict | str]:
        schemas = [output_schema(spec, request["category"]) for request in wave]
        prompts = [_prompt(request, self.settings) for request in wave]
        seeds = [request_seed(self.settings.seed, request["id"]) for request in wave]
        if not self.settings.confession_turn:
            return [_parsed(text) for text in self._chat(prompts, schemas, seeds)]
        answers = self._chat(prompts, [answer_schema(s) for s in schemas], seeds)
        follow_ups = [_follow_up(p, a) for p, a in zip(prompts, answers, strict=True)]
        confessions = self._chat(follow_ups, [confession_schema(s) for s in schemas], seeds)
        outputs = []
        for answer, confession in zip(answers, confessions, strict=True):
            output = _parsed(answer)
            if isinstance(output, dict):
                output = {**output, "confession": _parsed(confession)}
            outputs.append(output)
        return outputs

    def _chat(self, chats: list, schemas: list[dict], seeds: list[int]) -> list[str]:
        """One completion per chat, each under its schema and seed, at most the smaller of
        its schema's token budget and the room its prompt leaves in the context."""
        rooms = [self.context - length for length in prompt_lengths(self.shape, chats)]
        params = [
            self._sampling(schema, seed, room)
            for schema, seed, room in zip(schemas, seeds, rooms, strict=True)
        ]
        results = self.llm.chat(chats, sampling_params=params, use_tqdm=False)
        return [result.outputs[0].text for result in results]

    def _sampling(self, schema: dict, seed: int, room: int) -> Any:
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        settings = self.settings
        return SamplingParams(
            temperature=settings.temperature,
            top_p=settings.top_p if settings.temperature > 0 else 1.0,
            repetition_penalty=settings.repetition_penalty,
            max_tokens=min(token_budget(schema), room),
            seed=seed,
            structured_outputs=StructuredOutputsParams(json=schema),
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
