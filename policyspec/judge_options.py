"""The judge's command-line options, shared by `judge`, `verify --judge` and `eval --judge`.

Light on purpose: verify and eval import this whether or not they judge, and the judge
itself (policyspec.judge_command, the judge layer, the compiler) loads only when a
judge is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

JudgeModel = Annotated[
    str | None,
    typer.Option(
        "--judge", help="The judge: 'embedded', a model folder or .gguf file, or a cached id."
    ),
]
JudgeEngine = Annotated[
    str,
    typer.Option(
        "--judge-engine", help="A local judge's: transformers, or vllm (GPUs; the vllm extra)."
    ),
]
JudgeUrl = Annotated[
    str | None,
    typer.Option("--judge-url", help="An OpenAI-compatible API base, e.g. http://host:8080/v1."),
]
JudgeName = Annotated[
    str | None, typer.Option("--judge-model", help="The model name the endpoint serves.")
]
Samples = Annotated[int, typer.Option("-k", min=1, max=64, help="Judge samples per transcript.")]
HowOption = Annotated[
    str,
    typer.Option(
        "--aggregate", help="How the k grades combine: min (fails closed), mean or majority."
    ),
]
ShowReasoning = Annotated[
    bool, typer.Option("--show-reasoning", help="Show the judge the transcript's reasoning.")
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Ask the judge every time.")]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache", help="Where verdicts are kept.", show_default=".policyspec-cache/judge"
    ),
]
Concurrency = Annotated[
    int, typer.Option("--concurrency", min=1, max=256, help="Requests in flight to an endpoint.")
]
Tries = Annotated[
    int,
    typer.Option("--tries", min=1, max=20, help="Tries per endpoint request (retries + 1)."),
]
Backoff = Annotated[
    float,
    typer.Option("--backoff", min=0.0, help="Seconds of backoff, doubled at each retry."),
]


@dataclass(frozen=True, kw_only=True)
class JudgeOptions:
    """What the command line says about the judge, before anything is loaded."""

    model: str | None = None
    engine: str = "transformers"  # a local model's: transformers or vllm
    url: str | None = None
    name: str | None = None
    k: int = 1
    how: str = "min"
    show_reasoning: bool = False
    no_cache: bool = False
    cache_dir: Path | None = None  # None: the judge's default folder
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    templates: Path | None = None
    concurrency: int = 4
    tries: int = 4
    backoff: float = 1.0
    timeout: float = 120.0
    batch_size: int = 4

    @property
    def given(self) -> bool:
        return self.model is not None or self.url is not None
