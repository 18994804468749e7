"""safeguard: a gpt-oss-safeguard policy per category, sent as the policy (system) message.

Two forms. `compact` (the default) follows the model's prompt guide: a policy of 400 to
600 tokens, a reasoning-effort line, the criteria by rule title, 4 to 6 examples whose
answers carry the `rationale` the output format asks for, and no front matter (the
file is the message). It fits the budget by construction: the examples are chosen by
the measured size of the whole message (see `_choose`), and where 4 do not fit, the
category's summary is cut to its first sentence. `full` adds the definitions, every
rule's text and every example. Violating content (violation 1) is what a guard flags
(scope.flagged: a refusal, or a classifier's label); a rule whose decision is a safe
completion is content the assistant answers with care, listed under safe content
(violation 0).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from compiler import scope, tokens
from compiler.render import render
from spec_lang import InputError, Spec, ast

Form = Literal["compact", "full"]
REASONING_EFFORT = "medium"
# The prompt guide's budget for a policy, in tokens, and its number of examples.
TOKEN_BUDGET = (400, 600)
EXAMPLES = (4, 6)
OUTPUT_FORMAT = (
    '{"violation": 0 or 1, "decision": "<decision>", "rule_ids": ["<rule ID>"], '
    '"rationale": "<one sentence>"}'
)
# Where a summary's first sentence ends: after . ! or ? and before a blank and a
# character that is not a lowercase letter (so "e.g. a" does not end it).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\sa-z])")


@dataclass(frozen=True)
class Example:
    """An example as the policy shows it: the content and the answer it gets."""

    text: str
    output: str
    label: tuple[int, str]  # (violation, decision): what the answer teaches
    rule_ids: tuple[str, ...]  # the rules the answer cites


@dataclass(frozen=True)
class Policy:
    """One category's policy message and what went into it."""

    text: str
    tokens: int | None  # None: not counted (the default tokenizer is not installed)
    examples: int  # examples shown
    available: int  # the category's examples in force
    base_tokens: int | None  # the message without examples (what no example can shrink)
    summary_cut: bool  # the summary was cut to its first sentence to fit


Count = Callable[[list[str]], list[int]]


def policy_prompt(
    spec: Spec,
    category: str,
    templates: Path | None = None,
    form: Form = "compact",
    tokenizer: str | None = None,
) -> str:
    """The policy message for one category, in the given form."""
    return policy(spec, category, templates, form, tokenizer).text


def policy(
    spec: Spec,
    category: str,
    templates: Path | None = None,
    form: Form = "compact",
    tokenizer: str | None = None,
) -> Policy:
    """The policy message for one category and its size in tokens (`tokenizer`'s, the
    default model's when None). Without the default tokenizer installed, the compact form
    shows the guide's fewest examples, chosen the same way but unmeasured."""
    count = _counter(tokenizer)
    rules = scope.rules(spec, category)
    examples = [_example(spec, rule, example) for rule in rules for example in rule.examples]
    summary = scope.category(spec, category).summary.replace("\n", " ")

    def message(shown: list[Example], summary: str = summary) -> str:
        return render(
            "safeguard.j2",
            templates,
            spec=spec,
            form=form,
            reasoning_effort=REASONING_EFFORT,
            category=scope.category(spec, category),
            summary=summary,
            code=scope.export_codes(spec).get(category),
            violating=[rule for rule in rules if scope.flagged(spec, rule)],
            safe=[rule for rule in rules if not scope.flagged(spec, rule)],
            calls=any(rule.tool_matches for rule in rules),
            examples=[{"text": e.text, "output": e.output} for e in shown],
            output_format=OUTPUT_FORMAT,
        )

    if form == "full":
        text = message(examples)
        size = count([text])[0] if count else None
        return Policy(text, size, len(examples), len(examples), None, False)
    return _compact(examples, message, summary, count)


def _counter(tokenizer: str | None) -> Count | None:
    """Counts texts' tokens (one counter per policy: its trial messages share most of their
    text); None when the default tokenizer is not installed (a tokenizer named and
    unusable is an input error)."""
    try:
        return tokens.counter(tokenizer)
    except InputError:
        if tokenizer is not None:
            raise
        return None


def _compact(
    examples: list[Example],
    message: Callable[[list[Example], str], str],
    summary: str,
    count: Count | None,
) -> Policy:
    """The compact message with the examples that fit: the summary whole if 4 examples (or
    all there are) fit with it, else its first sentence; where neither fits, whichever
    is within the budget with more examples (the whole summary on a tie)."""
    fewest = min(EXAMPLES[0], len(examples))
    first_sentence = _SENTENCE_END.split(summary.strip(), maxsplit=1)[0]
    summaries = [summary] + ([first_sentence] if first_sentence != summary.strip() else [])
    made: list[Policy] = []
    for shown_summary in summaries:
        shown, text, size, base = _choose(
            examples, lambda shown, s=shown_summary: message(shown, s), count
        )
        made.append(Policy(text, size, len(shown), len(examples), base, shown_summary != summary))
        if _within(made[-1]) and len(shown) >= fewest:
            break
    return max(made, key=lambda policy: (_within(policy), policy.examples))


def _within(policy: Policy) -> bool:
    return policy.tokens is None or policy.tokens <= TOKEN_BUDGET[1]


def _choose(
    examples: list[Example], message: Callable[[list[Example]], str], count: Count | None
) -> tuple[list[Example], str, int | None, int | None]:
    """Up to 6 examples whose message stays within 600 tokens (4, unmeasured, without a
    counter): at each step the candidate teaching an answer (violation, decision) not
    shown yet, then one citing a rule not cited yet, then the shortest, then the first
    declared; one whose message would pass the budget is passed over (unrendered when
    its text and answer alone are more tokens than are left). Returns the
    examples, the message, its size and the size of the message without examples."""
    pairs = [f"{e.text}\n{e.output}" for e in examples]
    if count is None:
        sizes = [len(pair.encode()) for pair in pairs]
        most_examples, budget = EXAMPLES[0], None
    else:
        sizes = count(pairs)
        most_examples, budget = EXAMPLES[1], TOKEN_BUDGET[1]
    text = message([])
    base = size = count([text])[0] if count else None
    shown: list[Example] = []
    remaining = list(range(len(examples)))
    while remaining and len(shown) < most_examples:
        if size is not None:  # an example needs at least its own text's tokens
            remaining = [i for i in remaining if sizes[i] <= budget - size]
            if not remaining:
                break
        labels = {e.label for e in shown}
        cited = {rule for e in shown for rule in e.rule_ids}
        best = min(
            remaining,
            key=lambda i: (
                examples[i].label in labels,
                set(examples[i].rule_ids) <= cited,
                sizes[i],
                i,
            ),
        )
        remaining.remove(best)
        trial = message([*shown, examples[best]])
        trial_size = count([trial])[0] if count else None
        if trial_size is None or trial_size <= budget:
            shown.append(examples[best])
            text, size = trial, trial_size
    return shown, text, size, base


def _example(spec: Spec, rule: ast.Rule, example) -> Example:
    """An example as content and the answer it gets, rationale included."""
    violation = example.decision.value == rule.decision.value and scope.flagged(spec, rule)
    cited = _cited(rule.id, rule.decision.value, example)
    if violation:
        rationale = f"{rule.id} applies, no exception does."
    elif cited:
        rationale = f"Only {', '.join(cited)} applies."
    else:
        rationale = "No violating rule applies."
    answer = {
        "violation": int(violation),
        "decision": example.decision.value,
        "rule_ids": cited,
        "rationale": rationale,
    }
    return Example(
        text=example.text.replace("\n", " / "),
        output=json.dumps(answer),
        label=(int(violation), example.decision.value),
        rule_ids=tuple(cited),
    )


def _cited(rule_id: str, decision: str, example) -> list[str]:
    """The rules an example names: its own (when it shows the rule's decision) and its cites."""
    own = [rule_id] if example.decision.value == decision else []
    return list(dict.fromkeys(own + [name.value for name in example.cites]))
