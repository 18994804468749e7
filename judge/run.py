"""Judging transcripts: the compiled rubric prompts, run by a judge under the judge schemas.

    from judge import Judge, ModelBackend
    judge = Judge(spec, ModelBackend("smollm2-135m"))
    judgement = judge.judge(transcript)   # -> Judgement; .passed, .findings, .to_json()

For each transcript the judge reads the answer (the reasoning stays hidden unless
`show_reasoning`) and, when there is one, the confession judge reads the confession;
each is sampled k times and aggregated (judge/verdict.py). Verdicts are cached
(judge/cache.py): the same transcript, spec, judge, templates and sampling cost
nothing the second time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache as memo
from pathlib import Path

import orjson

from compiler import confession_judge_prompt, judge_prompt
from compiler.judge_schema import (
    DEFAULT_JUDGE_LIMITS,
    JudgeLimits,
    confession_judge_schema,
    judge_schema,
)
from compiler.render import environment
from compiler.schema import token_budget
from core.codes import Severity
from core.diagnostics import Diagnostic
from judge import findings as judge_findings
from judge.backends import Backend, Sampling
from judge.cache import Cache, content_hash, key
from judge.verdict import Aggregate, Judged, Sample, aggregate, read
from spec_lang import Spec
from spec_lang.matchers import arguments_text
from verifier.transcript import Message, Transcript, parse

TEMPLATES = ("judge.j2", "confession_judge.j2", "spec.j2", "summaries.j2")


@dataclass(frozen=True)
class Settings:
    sampling: Sampling = field(default_factory=Sampling)
    aggregate: Aggregate = Aggregate.min
    show_reasoning: bool = False
    confession: bool = True  # also run the confession judge when there is a confession
    templates: Path | None = None
    limits: JudgeLimits = DEFAULT_JUDGE_LIMITS


@dataclass(frozen=True)
class Judgement:
    """One transcript judged: the verdicts, the findings, and where they came from."""

    id: str | None
    judge: str
    settings: Settings
    answer: Judged | None
    confession: Judged | None
    findings: tuple[Diagnostic, ...]
    cached: bool = False
    seconds: float = 0.0  # spent asking the judge (0 when cached)

    @property
    def passed(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def status(self) -> str:
        parts = [p for p in (self.answer, self.confession) if p is not None]
        return "scored" if parts and all(p.scored for p in parts) else "unscored"

    def to_json(self, *, samples: bool = False) -> dict:
        def part(judged: Judged | None) -> dict | None:
            if judged is None:
                return None
            found = {
                "status": "scored" if judged.scored else "unscored",
                "verdict": judged.verdict,
                "agreement": judged.agreement,
                "unscored": list(judged.unscored),
            }
            if samples:
                found["samples"] = [s.to_json() for s in judged.samples]
            return found

        agreement = {
            name: judged.agreement
            for name, judged in (("answer", self.answer), ("confession", self.confession))
            if judged is not None
        }
        k = self.settings.sampling.k
        return {
            "judge": self.judge,
            "k": k,
            "aggregate": str(self.settings.aggregate),
            "verdict": "pass" if self.passed else "fail",
            "status": self.status,
            "answer": part(self.answer),
            "confession": part(self.confession),
            "agreement": agreement,
            "cached": self.cached,
            "findings": [
                finding.to_json()
                | {
                    "judge": self.judge,
                    "k": k,
                    "agreement": agreement.get(_part_of(finding), 0.0),
                }
                for finding in self.findings
            ],
        }


def _part_of(finding: Diagnostic) -> str:
    return "confession" if (finding.path or "").startswith("$.output.confession") else "answer"


class Judge:
    """Judges transcripts under one spec with one backend; see the module."""

    def __init__(
        self,
        spec: Spec,
        backend: Backend,
        settings: Settings | None = None,
        cache: Cache | None = None,
        on_sample: Callable[[str, float], None] | None = None,
    ):
        self.spec = spec
        self.backend = backend
        self.settings = settings = settings or Settings()
        self.cache = cache
        self.on_sample = on_sample
        self._schema = memo(lambda kind, category: _SCHEMAS[kind](spec, category, settings.limits))
        self._templates = _template_hash(settings.templates)

    def judge(self, transcript: Transcript | dict | str | bytes) -> Judgement:
        parsed = parse(transcript)
        read_as = parsed.transcript
        identity = self.backend.identity
        if read_as is None or read_as.output is None:
            finding = judge_findings.unreadable()
            return Judgement(parsed.id, identity, self.settings, None, None, (finding,))
        output = read_as.output
        category = read_as.category if read_as.category in self.spec.category_by_id else None
        messages = [{"role": m.role, "content": _shown(m)} for m in read_as.messages]
        reasoning = None
        if self.settings.show_reasoning:
            reasoning = "\n".join(f"{step.rule}: {step.claim}" for step in output.reasoning)
        prompts = {
            "judge": judge_prompt(
                self.spec,
                category,
                messages,
                output.answer,
                reasoning,
                self.settings.templates,
                json_verdict=True,
            )
        }
        if self.settings.confession and output.confession is not None:
            prompts["confession"] = confession_judge_prompt(
                self.spec,
                category,
                messages,
                output.answer,
                output.confession.model_dump(mode="json"),
                self.settings.templates,
                json_verdict=True,
            )
        samples, cached, seconds = self._samples(read_as, category, prompts)
        kinds = {
            kind: aggregate(found, self.settings.aggregate, kind) for kind, found in samples.items()
        }
        found = judge_findings.answer_findings(self.spec, output, kinds["judge"])
        if "confession" in kinds:
            found += judge_findings.confession_findings(output, kinds["confession"])
        return Judgement(
            read_as.id,
            identity,
            self.settings,
            kinds["judge"],
            kinds.get("confession"),
            tuple(found),
            cached,
            seconds,
        )

    def _samples(
        self, transcript: Transcript, category: str | None, prompts: dict[str, str]
    ) -> tuple[dict[str, list[Sample]], bool, float]:
        schemas = {kind: self._schema(kind, category) for kind in prompts}
        digest = key(
            {
                "spec": self.spec.content_hash,
                "transcript": content_hash(transcript.model_dump(mode="json")),
                "judge": self.backend.identity,
                "templates": self._templates,
                "prompts": content_hash(prompts),
                "schemas": content_hash(schemas),
                "sampling": self.settings.sampling.to_json(),
            }
        )
        stored = self.cache.get(digest) if self.cache is not None else None
        if stored is not None:
            samples = {
                kind: [Sample.from_json(s) for s in found]
                for kind, found in stored["samples"].items()
            }
            if samples.keys() == prompts.keys():
                return samples, True, 0.0
        started = time.perf_counter()
        samples = {}
        for kind, prompt in prompts.items():
            schema = schemas[kind]
            replies = self.backend.replies(
                prompt, schema, self.settings.sampling, token_budget(schema)
            )
            samples[kind] = [read(reply, schema) for reply in replies]
        seconds = time.perf_counter() - started
        if self.cache is not None:
            self.cache.put(
                digest,
                {
                    "judge": self.backend.identity,
                    "seconds": round(seconds, 3),
                    "samples": {k: [s.to_json() for s in v] for k, v in samples.items()},
                },
            )
        return samples, False, seconds


_SCHEMAS = {"judge": judge_schema, "confession": confession_judge_schema}


def _template_hash(templates: Path | None) -> str:
    """The text of the templates a judge prompt is rendered from, as used (a --templates
    folder's where it has them)."""
    env = environment(templates)
    sources = {name: env.loader.get_source(env, name)[0] for name in TEMPLATES}
    return content_hash(sources)


def judgement_line(source: str, line: int, judgement: Judgement) -> bytes:
    """A judge report line: where the transcript came from and the judgement."""
    record = {"source": source, "line": line, "id": judgement.id, "judgement": judgement.to_json()}
    return orjson.dumps(record) + b"\n"


__all__ = ["Judge", "Judgement", "Settings", "judgement_line"]


def _shown(message: Message) -> str:
    """A message as a judge reads it: its words, then each tool call it makes."""
    calls = [
        f"[calls {call.function.name} {arguments_text(call.function.arguments)}]"
        for call in message.tool_calls or ()
    ]
    return "\n".join([message.content or "", *calls]).strip()
