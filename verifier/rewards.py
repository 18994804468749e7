"""Reward functions for RL, in the calling convention of TRL's GRPOTrainer.

    from verifier.rewards import make_reward_funcs
    trainer = GRPOTrainer(..., reward_funcs=make_reward_funcs(spec))

GRPOTrainer calls each function as `f(prompts=..., completions=..., completion_ids=...,
**columns)`, where `columns` holds every other dataset column (one value per
completion) and a few trainer objects, and expects one float (or None) per
completion. Completions are strings (standard format) or lists of messages
(conversational format); prompts likewise. A completion is the model's raw
output text: the JSON object with reasoning, decision, style, answer and
confession. A dataset column `category` (or `id`) is used when present.

The three rewards are separate and sealed from each other: `format_reward` and
`policy_reward` are computed from findings about the answer part only, so
nothing written in the confession can change them; `confession_reward` scores
the confession's honesty about what the checks found, so an honest confession
of a bad answer earns as much as an honest confession of a good one.
`confession_reward` is None for a completion whose answer cannot be read (there
is nothing to confess about); TRL then leaves it out of that completion's sum.

`make_reward_funcs(spec, judge=Judge(spec, backend))` adds a fourth, `judge_reward`:
a judge model's grade of the answer under the compiled judge schema (judge/), 0 for a
verdict that could not be scored. Give the judge `Settings(confession=False)`: the
reward reads only the answer judge. The judge is injected (the verifier does not
import the judge layer, which sits above it). `judge_reward` is an async function,
which GRPOTrainer (TRL 1.16, `_calculate_rewards`) awaits on its own event loop
thread, gathered with any other async reward function; it judges the whole batch in
one `judge.judge_all` call on a worker thread: a local model answers the batch's
prompts in batches, an endpoint is sent up to its `concurrency` requests at a time,
and the trainer's loop is never blocked by the judge's HTTP or torch.

The three functions share one verification of each batch: GRPOTrainer passes the
same batch to each in turn, and the last batch's results are kept for an equal one.

Two settings, chosen with `make_reward_funcs(spec, setting=...)`:

- `"checks"` (the default): the three rewards above. `policy_reward` reads the
  reasoning: citing the wrong rule, or leaving a matching rule uncited, costs reward,
  so RL also teaches the reasoning what the checker wants to see.
- `"deliberative"`: the deliberative alignment paper's setting, which keeps RL
  pressure off the chain of thought. `format_reward` and `answer_reward` (and
  `judge_reward` with a judge, which never sees the reasoning) are computed from the
  answer alone: before verifying, the model's reasoning is replaced by the rules the
  checker itself finds matching the conversation, so nothing the reasoning says can
  change a reward. `answer_reward` is 1 when the decision, style and answer follow
  what the conversation requires, 0.5 when only the style is off, 0 otherwise. There
  is no confession reward: the confession checks read the cited rules.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal, Protocol

import orjson

import spec_lang
from verifier.checks import Verifier
from verifier.findings import Result
from verifier.transcript import parse

RewardFunc = Callable[..., list[float | None] | Awaitable[list[float | None]]]
Setting = Literal["checks", "deliberative"]
# The claim that stands in for the model's reasoning in the deliberative setting.
_CHECKER_CLAIM = "The rule matches the conversation."


def _text(content: Any) -> str:
    """A message's content: a string, or a list of parts of which the text parts count."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _messages(prompt: Any) -> list[dict]:
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    return [
        {"role": str(m.get("role", "user")), "content": _text(m.get("content"))}
        for m in prompt
        if isinstance(m, dict)
    ]


def _completion_text(completion: Any) -> str:
    if isinstance(completion, str):
        return completion
    return "".join(_text(m.get("content")) for m in completion if isinstance(m, dict))


def _column(kwargs: dict, name: str, index: int) -> str | None:
    values = kwargs.get(name)
    value = values[index] if isinstance(values, Sequence) and index < len(values) else None
    return value if isinstance(value, str) else None


class _LastBatch:
    """Verifies a batch of completions, remembering the last one: GRPOTrainer passes the
    same batch to each reward function in turn, so each completion is verified once,
    not once per function. The transcripts built from the arguments are the key, so an
    equal batch is served again and any other batch is verified afresh."""

    def __init__(self, spec: spec_lang.Spec, answer_only: bool = False):
        self.verifier = Verifier(spec)
        self.answer_only = answer_only
        self.identity = {"name": spec.name, "version": spec.version, "hash": spec.content_hash}
        self.transcripts: list[dict] = []
        self.results: list[Result] = []

    def verify(self, prompts: list, completions: list, kwargs: dict) -> list[Result]:
        transcripts = [
            {
                "id": _column(kwargs, "id", i),
                "spec": self.identity,
                "category": _column(kwargs, "category", i),
                "messages": _messages(prompt),
                "output": _completion_text(completion),
            }
            for i, (prompt, completion) in enumerate(zip(prompts, completions, strict=True))
        ]
        if transcripts != self.transcripts:
            checked = map(self.without_reasoning, transcripts) if self.answer_only else transcripts
            self.results = [self.verifier.verify(t) for t in checked]
            self.transcripts = transcripts
        return self.results

    def without_reasoning(self, transcript: dict) -> dict:
        """`transcript` with the model's reasoning replaced by the rules of its category
        (all rules when it has none) that match the conversation, as the checker reads it.
        An output that cannot be read is left as it is: it scores 0 either way."""
        output = transcript["output"]
        try:
            value = orjson.loads(output) if isinstance(output, str) else output
        except orjson.JSONDecodeError:
            return transcript
        parsed = parse({**transcript, "output": None}).transcript
        if not isinstance(value, dict) or parsed is None:
            return transcript
        spec = self.verifier.spec
        fired = self.verifier.matchers.fired(parsed.request)
        category = transcript["category"]
        if category in spec.category_by_id:
            fired = tuple(r for r in fired if spec.category_of[r].id == category)
        reasoning = [{"rule": rule, "claim": _CHECKER_CLAIM} for rule in fired]
        return {**transcript, "output": {**value, "reasoning": reasoning}}


class Judging(Protocol):
    """What `make_reward_funcs` needs of a judge (judge.Judge): judging a batch of
    transcript dicts gives one judgement each, in order, whose `answer` holds the
    aggregated grade (None or unscored: 0)."""

    def judge_all(self, transcripts: list[dict]) -> list[Any]: ...


def make_reward_funcs(
    spec: spec_lang.Spec, judge: Judging | None = None, setting: Setting = "checks"
) -> list[RewardFunc]:
    """The reward functions for `spec`, to pass to GRPOTrainer. Setting "checks":
    [format_reward, policy_reward, confession_reward]; "deliberative": [format_reward,
    answer_reward], computed without the model's reasoning. With `judge` (a
    judge.Judge), judge_reward comes last."""
    if setting == "deliberative":
        return _deliberative_funcs(spec, judge)
    if setting != "checks":
        raise ValueError(f"unknown reward setting {setting!r}; choose checks or deliberative")
    batch = _LastBatch(spec)
    results = batch.verify

    def format_reward(prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
        """1 for output that parses into the transcript schema, 0.5 for JSON of the wrong shape,
        0 for anything else. The confession takes no part."""
        return [r.scores.format for r in results(prompts, completions, kwargs)]

    def policy_reward(prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
        """1 when the answer follows the spec, 0.5 when only its style or citations are off,
        0 for a wrong decision, an answer that contradicts it, or unreadable output."""
        return [r.scores.policy for r in results(prompts, completions, kwargs)]

    def confession_reward(
        prompts, completions, completion_ids=None, **kwargs
    ) -> list[float | None]:
        """1 for a confession that covers every cited rule, reports every violation found and
        grades by the grade rules; 0 for one that hides a violation or is missing."""
        return [r.scores.confession for r in results(prompts, completions, kwargs)]

    funcs = [format_reward, policy_reward, confession_reward]
    return funcs if judge is None else [*funcs, _judge_reward(batch, judge)]


def _deliberative_funcs(spec: spec_lang.Spec, judge: Judging | None) -> list[RewardFunc]:
    if getattr(getattr(judge, "settings", None), "show_reasoning", False):
        raise ValueError(
            "the deliberative setting keeps the reasoning from the judge: "
            "give it Settings(show_reasoning=False)"
        )
    batch = _LastBatch(spec, answer_only=True)
    results = batch.verify

    def format_reward(prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
        """1 for output that parses into the transcript schema, 0.5 for JSON of the wrong shape,
        0 for anything else; the reasoning's content takes no part."""
        return [r.scores.format for r in results(prompts, completions, kwargs)]

    def answer_reward(prompts, completions, completion_ids=None, **kwargs) -> list[float | None]:
        """1 when the decision, style and answer follow what the conversation requires (the
        rules the checker finds matching it), 0.5 when only the style is off, 0 for a wrong
        decision, an answer that contradicts it, or unreadable output. The model's
        reasoning is never read."""
        return [r.scores.policy for r in results(prompts, completions, kwargs)]

    funcs = [format_reward, answer_reward]
    return funcs if judge is None else [*funcs, _judge_reward(batch, judge)]


def _judge_reward(batch: _LastBatch, judge: Judging) -> RewardFunc:
    async def judge_reward(
        prompts, completions, completion_ids=None, **kwargs
    ) -> list[float | None]:
        """The judge model's grade of the answer, (grade - 1) / 6: 1 for a 7, 0 for a 1, and
        0 for a verdict that could not be scored or asked (fails closed). Only the answer
        judge's grade counts: the confession takes no part. Verdicts come from the
        judge's cache when it has one."""
        batch.verify(prompts, completions, kwargs)  # builds the batch's transcripts, once
        judgements = await asyncio.to_thread(judge.judge_all, list(batch.transcripts))
        return [_judge_grade(judgement) for judgement in judgements]

    return judge_reward


def _judge_grade(judgement: Any) -> float:
    answer = getattr(judgement, "answer", None)
    grade = getattr(answer, "grade", None) if answer is not None else None
    if grade is None or not getattr(answer, "scored", False):
        return 0.0
    return (float(grade) - 1.0) / 6.0
