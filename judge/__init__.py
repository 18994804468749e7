"""Judges: the compiled rubrics run by a model under the judge schemas, failing closed.

A layer above the verifier and the runtime (docs/architecture.md): it reads transcripts
as the verifier does, renders the compiler's judge prompts, asks a local model
(runtime/: transformers, or vLLM on GPUs) or an OpenAI-compatible endpoint for JSON
under the compiled judge schema, aggregates k samples, and reports findings with JG
codes apart from the verifier's.
"""

from judge.backends import (
    EndpointBackend,
    JudgeError,
    JudgeUnavailable,
    ModelBackend,
    Retries,
    Sampling,
    VllmBackend,
)
from judge.cache import DEFAULT_CACHE, Cache
from judge.run import Judge, Judgement, Settings, in_order, judgement_line
from judge.verdict import Aggregate

__all__ = [
    "DEFAULT_CACHE",
    "Aggregate",
    "Cache",
    "EndpointBackend",
    "Judge",
    "JudgeError",
    "JudgeUnavailable",
    "Judgement",
    "ModelBackend",
    "Retries",
    "Sampling",
    "Settings",
    "VllmBackend",
    "in_order",
    "judgement_line",
]
