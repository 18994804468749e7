"""Who judges: a local model run under the judge schema, or an OpenAI-compatible endpoint.

A backend turns one prompt into `n` replies, each meant to be JSON of the schema. The
local model is constrained token by token (runtime.generation, llguidance when
installed), so its replies parse unless cut off. An endpoint is asked for
`response_format: {"type": "json_schema", "json_schema": {..., "strict": true}}`; what
it sends back is parsed like any other reply, and a reply that does not parse is
unscored (judge/verdict.py), never a pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Protocol

from compiler.openai_format import response_format

API_KEY_VARIABLE = "POLICYSPEC_JUDGE_API_KEY"


class JudgeError(Exception):
    """A judge could not be asked at all (not a bad reply, which is unscored): one line."""


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
        from runtime.generation import DEFAULT_BACKEND, PromptTooLong, generate_json

        loaded = self.load()
        chat = [{"role": "user", "content": prompt}]
        try:
            return generate_json(
                loaded,
                [chat] * sampling.k,
                schema,
                max_new_tokens=max_tokens,
                seed=sampling.seed,
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                backend=self.backend or DEFAULT_BACKEND,
            )
        except PromptTooLong as error:
            raise JudgeError(str(error)) from None


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
class EndpointBackend:
    """An OpenAI-compatible chat completions endpoint; the key comes from the environment
    (POLICYSPEC_JUDGE_API_KEY), never from the command line or a file."""

    url: str  # the API base (http://host:port/v1) or its /chat/completions
    model: str
    timeout: float = 120.0

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
        request = urllib.request.Request(
            self.endpoint, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode("utf-8", "replace").replace("\n", " ")
            raise JudgeError(f"{self.endpoint}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise JudgeError(f"{self.endpoint}: cannot reach the judge ({reason})") from None
        except json.JSONDecodeError:
            raise JudgeError(f"{self.endpoint}: the reply is not JSON") from None
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            return ""  # no content: unscored, like any reply that does not parse
        return content if isinstance(content, str) else ""
