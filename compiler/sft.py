"""sft: training records from verified transcripts, with the spec out of the prompt.

Verified means a verdict of "pass". Verdicts come from a verify report (JSONL
lines with "id" and "verdict", as `policyspec verify` writes) when one is
given, and otherwise from a "verdict" field on each transcript; a transcript
with no verdict is unverified. Only passing transcripts are used unless
include_failed is set. Transcripts made under another version of the spec (a
different content hash), or whose output does not validate against the
schema, are reported with their line number and skipped.

Records come in TRL's two conversational formats. `prompt`/`completion`, the
default, is what SFTTrainer trains on the completion alone; `messages` trains on
every token (the prompt and whatever the chat template injects, such as a default
system prompt) unless the trainer is told to mask it (`assistant_only_loss=True`,
which needs a chat template with `{% generation %}` markers). The assistant turn
is the output object in the one serialisation (compiler.schema.serialise). With
reasoning "field" the reasoning moves out of it into `reasoning_content` (the
field reasoning models' chat templates read), one `RULE-ID: claim` line per step;
`require_reasoning_rendered` refuses a chat template that would drop it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from compiler import inputs, scope
from compiler.inputs import skipped_row
from compiler.render import spec_texts
from compiler.schema import output_model, serialise
from core.diagnostics import Diagnostic, InputError
from spec_lang import Spec

Reasoning = Literal["inline", "field"]
RecordFormat = Literal["prompt-completion", "messages"]
ROLES = ("system", "user", "assistant")
_REASONING_PROBE = "policyspec-reasoning-probe"


@dataclass
class Records:
    messages: list[dict] = field(default_factory=list)
    prompt_completion: list[dict] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)


def records(
    spec: Spec,
    transcripts: Path,
    verdicts: Path | None = None,
    include_failed: bool = False,
    reasoning: Reasoning = "inline",
    spec_text: Callable[[str | None], str] | None = None,
) -> Records:
    """Training records from a transcripts file, in both formats, and what was skipped.

    `spec_text` gives spec(category) as the prompts held it (rendered with the same templates).
    """
    found = Records()
    verdict_of = _verdicts(verdicts, found.problems) if verdicts else None
    model = cache(partial(output_model, spec))
    spec_text = spec_texts(spec) if spec_text is None else spec_text
    for line, row in inputs.rows(transcripts):
        if not isinstance(row, Diagnostic):
            id_ = row.get("id")
            verdict = verdict_of.get(id_) if verdict_of is not None else row.get("verdict")
            if isinstance(id_, str) and id_ and verdict != "pass" and not include_failed:
                found.skipped["failed" if verdict == "fail" else "unverified"] += 1
                continue
            row = _record(spec, row, verdict, model, spec_text, reasoning)
        if isinstance(row, str):
            row = skipped_row(transcripts, line, row)
        if isinstance(row, Diagnostic):
            found.problems.append(row)
            continue
        common, prompt, turn = row
        found.messages.append({**common, "messages": [*prompt, turn]})
        found.prompt_completion.append({**common, "prompt": prompt, "completion": [turn]})
    found.skipped["malformed"] = len(found.problems)
    return found


def _record(
    spec: Spec,
    row: dict,
    verdict: object,
    model: Callable[[str | None], type[BaseModel]],
    spec_text: Callable[[str | None], str],
    reasoning: Reasoning,
) -> tuple[dict, list[dict], dict] | str:
    """(fields every record has, prompt, assistant turn), or why the transcript is unusable."""
    id_, category, messages, output = (row.get(k) for k in ("id", "category", "messages", "output"))
    meta = row.get("spec")
    made_under = meta.get("hash") if isinstance(meta, dict) else None
    if not isinstance(id_, str) or not id_:
        return "no 'id'"
    if made_under != spec.content_hash:
        return f"made under spec {made_under}, not {spec.content_hash}"
    if category is not None and category not in scope.category_ids(spec):
        return f"unknown category {category!r}"
    if not _is_conversation(messages):
        return "'messages' must be a non-empty list of {role, content} (user, assistant, system)"
    try:
        if isinstance(output, str):
            parsed = model(category).model_validate_json(output)
        else:
            parsed = model(category).model_validate(output)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "output"
        return f"output does not fit the schema: {where}: {first['msg']}"
    value = parsed.model_dump(mode="json")
    prompt = [
        {"role": m["role"], "content": m["content"]}
        for m in messages
        if not (m["role"] == "system" and spec_text(category) in m["content"])
    ]
    common = {
        "id": id_,
        "spec": scope.spec_meta(spec),
        "category": category,
        "verdict": verdict,
        "decision": value["decision"],
        "rules": list(dict.fromkeys(step["rule"] for step in value["reasoning"])),
    }
    return common, prompt, _assistant_turn(value, reasoning)


def _assistant_turn(output: dict, reasoning: Reasoning) -> dict[str, str]:
    if reasoning == "inline":
        return {"role": "assistant", "content": serialise(output)}
    rest = {key: value for key, value in output.items() if key != "reasoning"}
    steps = "\n".join(f"{step['rule']}: {step['claim']}" for step in output["reasoning"])
    return {"role": "assistant", "reasoning_content": steps, "content": serialise(rest)}


def _is_conversation(messages: object) -> bool:
    return (
        isinstance(messages, list)
        and bool(messages)
        and all(
            isinstance(m, dict) and m.get("role") in ROLES and isinstance(m.get("content"), str)
            for m in messages
        )
    )


def _verdicts(path: Path, problems: list[Diagnostic]) -> dict[str, str]:
    """id -> "pass" or "fail" from a verify report; an id with any failing line fails."""
    found: dict[str, str] = {}
    for line, row in inputs.rows(path):
        if isinstance(row, Diagnostic):
            problems.append(row)
            continue
        id_, verdict = row.get("id"), row.get("verdict")
        if not isinstance(id_, str) or verdict not in ("pass", "fail"):
            problems.append(
                skipped_row(path, line, "a report line needs 'id' and a 'verdict' of pass or fail")
            )
            continue
        found[id_] = "fail" if found.get(id_) == "fail" else verdict
    return found


def require_reasoning_rendered(tokenizer: Any, name: str) -> None:
    """InputError unless `tokenizer`'s chat template writes an assistant turn's
    `reasoning_content`: rendered through a template that drops it, the reasoning of
    `--reasoning field` records never reaches the model, and the trained model then
    leaves out the reasoning its schema requires."""
    probe = [
        {"role": "user", "content": "?"},
        {"role": "assistant", "content": "{}", "reasoning_content": _REASONING_PROBE},
    ]
    try:
        text = tokenizer.apply_chat_template(probe, tokenize=False)
    except Exception as error:  # a template that cannot render a chat at all (ValueError, Jinja)
        text = f"{type(error).__name__}: {error}"
    if _REASONING_PROBE not in str(text):
        raise InputError(
            f"--reasoning field: the chat template of {name} drops reasoning_content, so the "
            "reasoning would never reach the model; use --reasoning inline, or --tokenizer "
            "with a model whose chat template renders reasoning_content"
        )
