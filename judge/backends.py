"""Who judges: a local model run under the judge schema, or an OpenAI-compatible endpoint.

A backend turns one prompt into k replies, each meant to be JSON of the schema (and a
local model, many prompts in one batch: `replies_batch`). The
local model is constrained token by token (runtime.generation, llguidance when
installed; or on GPUs, vLLM's structured outputs with the same llguidance), so its
replies parse unless cut off. An endpoint is asked for
`response_format: {"type": "json_schema", "json_schema": {..., "strict": true}}`; what
it sends back is parsed like any other reply, and a reply that does not parse is
unscored (judge/verdict.py), never a pass.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any, Protocol

import urllib3
from urllib3.util import Retry

from compiler.openai_format import response_format

API_KEY_VARIABLE = "POLICYSPEC_JUDGE_API_KEY"


class JudgeError(Exception):
    """A judge could not be asked at all (not a bad reply, which is unscored): one line."""


class JudgeUnavailable(Exception):
    """The judge cannot answer about this transcript (an endpoint's retries spent, a
    request refused as bad, a prompt longer than the model's context): the transcript is
    unscored (JG002) and the run goes on."""


@dataclass(frozen=True)
class Sampling:
    """How replies are sampled: sample i of a prompt uses `seed + i` where the backend
    takes a seed per request, the one seed for the batch of k otherwise."""

    k: int = 1
    seed: int = 0
    temperature: float = 0.7
    top_p: float = 0.9

    def to_json(self) -> dict:
        return {
            "k": self.k,
            "seed": self.seed,
            "temperature": self.temperature,
            "top_p": self.top_p,
        }


class Backend(Protocol):
    identity: str  # who judges, as reports and cache keys name it

    def replies(
        self, prompt: str, schema: dict, sampling: Sampling, max_tokens: int
    ) -> list[str]: ...


@dataclass(eq=False)
class ModelBackend:
    """A local model (runtime.models.load_model: the embedded one, a folder, a .gguf)."""

    name: str
    device: str = "auto"
    backend: str | None = None
    threads: int | None = None  # CPU threads for torch; None: torch's default
    _loaded: Any = field(default=None, repr=False)

    @property
    def identity(self) -> str:
        """The model's name, and for a file or folder on disk a fingerprint of its files
        (names, sizes, modification times): weights replaced at the same path are another
        judge, and their verdicts another cache entry."""
        return f"model:{self.name}" + _fingerprint(self.name)

    def load(self) -> Any:
        if self._loaded is None:
            from runtime.models import ModelLoadError, load_model

            if self.threads:
                import torch

                # On a shared CPU, fewer threads than cores can be several times faster.
                torch.set_num_threads(self.threads)
            try:
                self._loaded = load_model(self.name, self.device)
            except ModelLoadError as error:
                raise JudgeError(str(error)) from None
        return self._loaded

    def replies(self, prompt: str, schema: dict, sampling: Sampling, max_tokens: int) -> list[str]:
        return self.replies_batch([prompt], schema, sampling, max_tokens)[0]

    def replies_batch(
        self, prompts: list[str], schema: dict, sampling: Sampling, max_tokens: int
    ) -> list[list[str]]:
        """k replies to each prompt, all in one batch under one schema (one seed for the
        batch: a prompt's replies depend a little on what it is batched with)."""
        from runtime.generation import DEFAULT_BACKEND, PromptTooLong, generate_json

        loaded = self.load()
        chats = [[{"role": "user", "content": prompt}] for prompt in prompts]
        try:
            replies = generate_json(
                loaded,
                [chat for chat in chats for _ in range(sampling.k)],
                schema,
                max_new_tokens=max_tokens,
                seed=sampling.seed,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                backend=self.backend or DEFAULT_BACKEND,
            )
        except PromptTooLong as error:
            raise JudgeUnavailable(str(error)) from None
        k = sampling.k
        return [replies[i : i + k] for i in range(0, len(replies), k)]


@dataclass(eq=False)
class VllmBackend:
    """A local model run by vLLM on GPUs (runtime.vllm_engine; the vllm extra): every
    prompt of a batch and each of its k samples is one request to the engine, sample i
    of a prompt sampled from `seed + i`, so a reply does not depend on its batch."""

    name: str
    tensor_parallel_size: int = 1
    _model: Any = field(default=None, repr=False)

    @property
    def identity(self) -> str:
        """As ModelBackend's, marked as vLLM's: its replies are not the transformers
        path's, so their verdicts are another cache entry."""
        return f"vllm:{self.name}" + _fingerprint(self.name)

    def load(self) -> Any:
        if self._model is None:
            from runtime.models import ModelLoadError
            from runtime.vllm_engine import VllmError, VllmModel

            try:
                self._model = VllmModel(
                    self.name, "auto", tensor_parallel_size=self.tensor_parallel_size
                )
            except (VllmError, ModelLoadError) as error:
                raise JudgeError(str(error)) from None
        return self._model

    def replies(self, prompt: str, schema: dict, sampling: Sampling, max_tokens: int) -> list[str]:
        return self.replies_batch([prompt], schema, sampling, max_tokens)[0]

    def replies_batch(
        self, prompts: list[str], schema: dict, sampling: Sampling, max_tokens: int
    ) -> list[list[str]]:
        """k replies to each prompt, all in the engine at once, under one schema."""
        from runtime.generation import prompt_lengths

        model = self.load()
        chats = [[{"role": "user", "content": prompt}] for prompt in prompts]
        longest = max(prompt_lengths(model.shape, chats))
        if longest >= model.context:
            raise JudgeUnavailable(
                f"a prompt of {longest} tokens leaves no room in {self.name}'s context of "
                f"{model.context} tokens; shorten it"
            )
        turns = judge_turns(chats, schema, sampling, max_tokens)
        texts = dict(model.finished(turns))
        return [[texts[(p, i)] for i in range(sampling.k)] for p in range(len(prompts))]


def judge_turns(
    chats: list[list[dict]], schema: dict, sampling: Sampling, max_tokens: int
) -> list[tuple[tuple[int, int], Any]]:
    """((prompt, sample), turn) for each of the k samples of each chat: sample i from
    `seed + i`, with the transformers judge's repetition penalty."""
    from runtime.generation import REPETITION_PENALTY
    from runtime.vllm_engine import Turn

    return [
        (
            (number, i),
            Turn(
                chat,
                schema,
                max_tokens,
                sampling.seed + i,
                sampling.temperature,
                sampling.top_p,
                REPETITION_PENALTY,
            ),
        )
        for number, chat in enumerate(chats)
        for i in range(sampling.k)
    ]


def _fingerprint(name: str) -> str:
    from pathlib import Path

    from runtime.models import EMBEDDED_MODEL, ModelLoadError, _embedded_gguf

    try:
        path = _embedded_gguf() if name == EMBEDDED_MODEL else Path(name)
    except ModelLoadError:
        return ""
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file())
    else:
        return ""  # a model id in the local Hugging Face cache: its name says which
    stats = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return "@" + hashlib.sha256(json.dumps(stats).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Retries:
    """How a failed request is tried again (urllib3's Retry does it): `tries` requests in
    all, for a connection refused or cut, a timeout, or HTTP 408, 425, 429, 500, 502, 503
    or 504; before the third and later tries it waits `backoff * 2**(n - 2)` seconds plus
    up to `backoff` of jitter, at most `max_wait` (a Retry-After header is obeyed within
    the same bound)."""

    tries: int = 4
    backoff: float = 1.0
    max_wait: float = 60.0

    @property
    def counted(self) -> str:
        return f"{self.tries} tr" + ("y" if self.tries == 1 else "ies")

    def policy(self) -> Retry:
        return Retry(
            total=self.tries - 1,
            allowed_methods=None,  # a verdict request is safe to repeat
            status_forcelist=TRANSIENT_STATUS,
            backoff_factor=self.backoff,
            backoff_jitter=self.backoff,
            backoff_max=self.max_wait,
            retry_after_max=int(self.max_wait),
            raise_on_status=False,  # the last reply is read, and said in the finding
        )


TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# Statuses that say the run itself is misconfigured, so no other transcript can fare better.
_FATAL_STATUS = {
    401: f"the endpoint wants a valid API key: set {API_KEY_VARIABLE}",
    403: f"the endpoint refuses the API key in {API_KEY_VARIABLE}",
    404: "no such endpoint or model: check --judge-url (the API base) and --judge-model",
}


@dataclass(eq=False)
class EndpointBackend:
    """An OpenAI-compatible chat completions endpoint; the key comes from the environment
    (POLICYSPEC_JUDGE_API_KEY), never from the command line or a file.

    At most `concurrency` requests are in flight (one connection each, kept alive); a
    request that fails is retried by `retries`, and one that still fails raises
    JudgeUnavailable: that transcript is unscored and the run goes on. A 401, 403 or 404
    raises JudgeError: nothing else can be judged either.
    """

    url: str  # the API base (http://host:port/v1) or its /chat/completions
    model: str
    timeout: float = 120.0  # seconds to wait for a reply, per try
    retries: Retries = field(default_factory=Retries)
    concurrency: int = 4
    _pool: urllib3.PoolManager = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # block=True: a worker past `concurrency` waits for a connection, never opens more.
        self._pool = urllib3.PoolManager(maxsize=self.concurrency, block=True)

    @property
    def identity(self) -> str:
        return f"endpoint:{self.url.rstrip('/')}#{self.model}"

    @property
    def endpoint(self) -> str:
        base = self.url.rstrip("/")
        return base if base.endswith("/chat/completions") else f"{base}/chat/completions"

    def request_body(
        self, prompt: str, schema: dict, seed: int, sampling: Sampling, max_tokens: int
    ) -> dict:
        return {
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "response_format": response_format(schema, "policyspec_verdict"),
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "seed": seed,
            "max_tokens": max_tokens,
        }

    def replies(self, prompt: str, schema: dict, sampling: Sampling, max_tokens: int) -> list[str]:
        return [
            self._one(self.request_body(prompt, schema, sampling.seed + i, sampling, max_tokens))
            for i in range(sampling.k)
        ]

    def _one(self, body: dict) -> str:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(API_KEY_VARIABLE)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        try:
            response = self._pool.request(
                "POST",
                self.endpoint,
                body=json.dumps(body).encode(),
                headers=headers,
                timeout=urllib3.Timeout(connect=min(10.0, self.timeout), read=self.timeout),
                retries=self.retries.policy(),
            )
        except urllib3.exceptions.HTTPError as error:
            reason = getattr(error, "reason", None) or error
            raise JudgeUnavailable(
                f"{self.endpoint}: no reply after {self.retries.counted} ({reason})"
            ) from None
        if response.status in _FATAL_STATUS:
            raise JudgeError(
                f"{self.endpoint}: HTTP {response.status}: {_FATAL_STATUS[response.status]}"
            )
        if response.status != 200:
            tries = f" after {self.retries.counted}" if response.status in TRANSIENT_STATUS else ""
            detail = response.data[:200].decode("utf-8", "replace").replace("\n", " ")
            raise JudgeUnavailable(f"{self.endpoint}: HTTP {response.status}{tries}: {detail}")
        try:
            content = json.loads(response.data)["choices"][0]["message"]["content"]
        except json.JSONDecodeError:
            raise JudgeUnavailable(f"{self.endpoint}: the reply is not JSON") from None
        except (KeyError, IndexError, TypeError):
            return ""  # no content: unscored, like any reply that does not parse
        return content if isinstance(content, str) else ""
