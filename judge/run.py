"""Judging transcripts: the compiled rubric prompts, run by a judge under the judge schemas.

    from judge import Judge, ModelBackend
    judge = Judge(spec, ModelBackend("smollm2-135m"))
    judgement = judge.judge(transcript)   # -> Judgement; .passed, .findings, .to_json()

For each transcript the judge reads the answer (the reasoning stays hidden unless
`show_reasoning`) and, when there is one, the confession judge reads the confession;
each is sampled k times and aggregated (judge/verdict.py). Verdicts are cached
(judge/cache.py): the same transcript, spec, judge, templates and sampling cost
nothing the second time.

Many transcripts (`judge_all`, `judge_each`) are judged together: a local model's
prompts go to it in batches, an endpoint gets several requests in flight. A
transcript the judge cannot answer about (JudgeUnavailable) is unscored, JG002, and
left out of the cache, and the others go on.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache as memo
from functools import partial
from pathlib import Path
from typing import TypeVar

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
from judge.backends import Backend, JudgeUnavailable, Sampling
from judge.cache import Cache, content_hash, key
from judge.verdict import Aggregate, Judged, Sample, aggregate, read
from spec_lang import Spec
from spec_lang.matchers import arguments_text
from verifier.transcript import Message, Transcript, parse

T = TypeVar("T")
R = TypeVar("R")
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
        batch_size: int = 4,
    ):
        self.spec = spec
        self.backend = backend
        self.settings = settings = settings or Settings()
        self.cache = cache
        self.batch_size = batch_size  # transcripts per batch of a local model (judge_each)
        self._schema = memo(lambda kind, category: _SCHEMAS[kind](spec, category, settings.limits))
        self._templates = _template_hash(settings.templates)

    def judge(self, transcript: Transcript | dict | str | bytes) -> Judgement:
        """One transcript judged (see judge_all)."""
        return self.judge_all([transcript])[0]

    def judge_all(self, transcripts: Sequence[Transcript | dict | str | bytes]) -> list[Judgement]:
        """Each transcript judged, in order: those in the cache first, the rest asked
        together. A local model answers the prompts of a kind and category in one batch
        (the backend's `replies_batch`); an endpoint is asked for up to its
        `concurrency` transcripts at a time. A transcript whose requests fail for good
        (JudgeUnavailable) is unscored, JG002, and not cached, so a rerun asks again."""
        jobs = [self._prepare(t) for t in transcripts]
        asking = [job for job in jobs if isinstance(job, _Job) and job.samples is None]
        if hasattr(self.backend, "replies_batch"):
            self._ask_in_batches(asking)
        else:
            list(in_order(self._ask, asking, min(self.concurrency, len(asking))))
        return [job if isinstance(job, Judgement) else self._finish(job) for job in jobs]

    def judge_each(
        self, items: Iterable[Transcript | dict | str | bytes | Judgement]
    ) -> Iterator[Judgement]:
        """judge_all over a stream, one judgement per item, in order, memory flat: a local
        model takes `batch_size` transcripts a batch; an endpoint's requests are kept
        `concurrency` in flight. An item already a Judgement (one the caller could not
        read) passes through."""
        if hasattr(self.backend, "replies_batch"):
            batch: list = []
            for item in items:
                batch.append(item)
                if len(batch) == self.batch_size:
                    yield from self.judge_all(batch)
                    batch = []
            yield from self.judge_all(batch)
        else:
            yield from in_order(self.judge, items, self.concurrency)

    @property
    def concurrency(self) -> int:
        return getattr(self.backend, "concurrency", 1)

    def _prepare(self, transcript: Transcript | dict | str | bytes | Judgement) -> Judgement | _Job:
        if isinstance(transcript, Judgement):
            return transcript
        parsed = parse(transcript)
        read_as = parsed.transcript
        if read_as is None or read_as.output is None:
            finding = judge_findings.unreadable()
            return Judgement(
                parsed.id, self.backend.identity, self.settings, None, None, (finding,)
            )
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
        schemas = {kind: self._schema(kind, category) for kind in prompts}
        digest = key(
            {
                "spec": self.spec.content_hash,
                "transcript": content_hash(read_as.model_dump(mode="json")),
                "judge": self.backend.identity,
                "templates": self._templates,
                "prompts": content_hash(prompts),
                "schemas": content_hash(schemas),
                "sampling": self.settings.sampling.to_json(),
            }
        )
        job = _Job(read_as, prompts, schemas, digest)
        stored = self.cache.get(digest) if self.cache is not None else None
        if stored is not None:
            samples = {
                kind: [Sample.from_json(s) for s in found]
                for kind, found in stored["samples"].items()
            }
            if samples.keys() == prompts.keys():
                job.samples, job.cached = samples, True
        return job

    def _ask(self, job: _Job) -> None:
        """Ask the backend for one transcript's samples, kind by kind."""
        started = time.perf_counter()
        replies = {}
        try:
            for kind, prompt in job.prompts.items():
                schema = job.schemas[kind]
                sampling, budget = self.settings.sampling, token_budget(schema)
                replies[kind] = self.backend.replies(prompt, schema, sampling, budget)
        except JudgeUnavailable as error:
            job.unavailable = str(error)
        self._store(job, replies, time.perf_counter() - started)

    def _ask_in_batches(self, jobs: list[_Job]) -> None:
        """A local model: one batch per kind and schema (so per category), timed whole and
        shared out evenly between the transcripts in it."""
        replies: dict[int, dict[str, list[str]]] = {id(job): {} for job in jobs}
        seconds: dict[int, float] = dict.fromkeys(replies, 0.0)
        groups: dict[tuple[str, str], list[_Job]] = {}
        for job in jobs:
            for kind, schema in job.schemas.items():
                groups.setdefault((kind, json.dumps(schema, sort_keys=True)), []).append(job)
        for (kind, _), group in groups.items():
            schema = group[0].schemas[kind]
            started = time.perf_counter()
            ask = partial(
                self.backend.replies_batch,
                schema=schema,
                sampling=self.settings.sampling,
                max_tokens=token_budget(schema),
            )
            try:
                answers = ask([job.prompts[kind] for job in group])
            except JudgeUnavailable:  # one prompt too long: ask each alone, to find which
                answers = []
                for job in group:
                    try:
                        answers += ask([job.prompts[kind]])
                    except JudgeUnavailable as error:
                        job.unavailable = str(error)
                        answers.append([])
            share = (time.perf_counter() - started) / len(group)
            for job, found in zip(group, answers, strict=True):
                replies[id(job)][kind] = found
                seconds[id(job)] += share
        for job in jobs:
            self._store(job, replies[id(job)], seconds[id(job)])

    def _store(self, job: _Job, replies: dict[str, list[str]], seconds: float) -> None:
        job.seconds = seconds
        if job.unavailable is not None:
            return
        job.samples = {
            kind: [read(reply, job.schemas[kind]) for reply in found]
            for kind, found in replies.items()
        }
        if self.cache is not None:
            self.cache.put(
                job.digest,
                {
                    "judge": self.backend.identity,
                    "seconds": round(seconds, 3),
                    "samples": {k: [s.to_json() for s in v] for k, v in job.samples.items()},
                },
            )

    def _finish(self, job: _Job) -> Judgement:
        identity = self.backend.identity
        if job.samples is None:  # the judge could not be asked
            finding = judge_findings.unavailable(job.unavailable or "no reply")
            return Judgement(
                job.transcript.id,
                identity,
                self.settings,
                None,
                None,
                (finding,),
                False,
                job.seconds,
            )
        kinds = {
            kind: aggregate(found, self.settings.aggregate, kind)
            for kind, found in job.samples.items()
        }
        output = job.transcript.output
        found = judge_findings.answer_findings(self.spec, output, kinds["judge"])
        if "confession" in kinds:
            found += judge_findings.confession_findings(output, kinds["confession"])
        return Judgement(
            job.transcript.id,
            identity,
            self.settings,
            kinds["judge"],
            kinds.get("confession"),
            tuple(found),
            job.cached,
            job.seconds,
        )


@dataclass(eq=False)
class _Job:
    """One readable transcript on its way through the judge: its prompts and schemas by
    kind, its cache key, and once asked (or found in the cache) its samples."""

    transcript: Transcript
    prompts: dict[str, str]
    schemas: dict[str, dict]
    digest: str
    samples: dict[str, list[Sample]] | None = None
    cached: bool = False
    seconds: float = 0.0
    unavailable: str | None = None  # why the judge could not be asked, when it could not


def in_order(function: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """`map(function, items)` on up to `workers` threads, results in the order of `items`,
    with at most 2 * workers items read ahead (memory stays flat). An exception stops
    the map at the item that raised it, and work not yet started is dropped."""
    if workers <= 1:
        yield from map(function, items)
        return
    pool = ThreadPoolExecutor(workers, thread_name_prefix="judge")
    try:
        pending: deque[Future[R]] = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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


__all__ = ["Judge", "Judgement", "Settings", "in_order", "judgement_line"]


def _shown(message: Message) -> str:
    """A message as a judge reads it: its words, then each tool call it makes."""
    calls = [
        f"[calls {call.function.name} {arguments_text(call.function.arguments)}]"
        for call in message.tool_calls or ()
    ]
    return "\n".join([message.content or "", *calls]).strip()
