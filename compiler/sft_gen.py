"""sft-gen: teacher prompts for generating training data, deliberative-alignment style.

Each request gives a teacher spec(category) and the conversation, and asks for
reasoning that cites rule IDs, then the decision and style, then the answer and
a confession. Conversations come from the spec's own examples and from a user
file (JSONL, or CSV with a header) with a `prompt` column and optional
`category`, `label` (expected decision) and `id` columns, and a column for each
conversation attribute the spec declares (`attribute audience adult, minor`). A row's id
is its `id`, or FILE:LINE when it has none; two rows with one id are an error. An
example's `with` attributes, or a row's, travel in the request's `metadata`, which
`generate` copies into the transcript, so the verifier tests `when` and `unless` against
them. A row without a category gets the one category whose rules' matches fire on it, or
none when no single
category does: then spec(None) (every category's summary and rule titles, no
category in full) and the global schema.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from compiler import inputs, scope
from compiler.inputs import skipped_row
from compiler.render import render, spec_for_category, spec_texts
from compiler.schema import DEFAULT_LIMITS, Limits, output_schemas
from core.confession import COMPLIANCE_LABELS
from core.diagnostics import Diagnostic, did_you_mean
from spec_lang import Matchers, Spec


def teacher_messages(
    spec: Spec,
    category: str | None,
    conversation: list[dict[str, str]],
    templates: Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
    *,
    spec_text: str | None = None,
) -> list[dict[str, str]]:
    """The teacher's chat: a system message (instructions and spec(category)), the conversation.

    `spec_text` is spec(category) when the caller has it rendered already.
    """
    system = render(
        "teacher.j2",
        templates,
        spec=spec,
        spec_text=spec_for_category(spec, category, templates) if spec_text is None else spec_text,
        category=scope.category(spec, category) if category else None,
        labels=COMPLIANCE_LABELS,
        limits=limits,
    )
    return [{"role": "system", "content": system}, *conversation]


def requests(
    spec: Spec,
    prompts: Path | None = None,
    templates: Path | None = None,
    limits: Limits = DEFAULT_LIMITS,
    spec_text: Callable[[str | None], str] | None = None,
    schema: Callable[[str | None], dict] | None = None,
) -> tuple[list[dict], list[Diagnostic]]:
    """One request per spec example, then per usable row of `prompts`; the rows skipped.

    `spec_text` gives spec(category) and `schema` the output schema by category when
    the caller shares its renderings.
    """
    spec_text = spec_texts(spec, templates) if spec_text is None else spec_text
    schema = output_schemas(spec, limits) if schema is None else schema

    @cache
    def system(category: str | None) -> dict[str, str]:
        text = spec_text(category)
        return teacher_messages(spec, category, [], templates, limits, spec_text=text)[0]

    def request(
        id_: str,
        source: str,
        category: str | None,
        conversation: list,
        metadata: dict[str, str],
        **expected,
    ) -> dict:
        return {
            "id": id_,
            "source": source,
            "spec": scope.spec_meta(spec),
            "category": category,
            "expected_decision": expected.get("decision"),
            "expected_rules": expected.get("rules", []),
            "conversation": conversation,
            "messages": [system(category), *conversation],
            "max_new_tokens": schema(category)["x-policyspec"]["token_budget"],
            **({"metadata": metadata} if metadata else {}),
        }

    found = []
    for category in scope.categories(spec):
        for rule in scope.rules(spec, category.id):
            for number, example in enumerate(rule.examples, start=1):
                own = [rule.id] if example.decision.value == rule.decision.value else []
                conversation = [
                    {"role": m.role.value, "content": m.content} for m in example.messages
                ]
                found.append(
                    request(
                        f"{rule.id}/example-{number}",
                        "spec",
                        category.id,
                        conversation,
                        dict(example.attributes),
                        decision=example.decision.value,
                        rules=list(dict.fromkeys(own + [name.value for name in example.cites])),
                    )
                )
    problems: list[Diagnostic] = []
    ids = {r["id"] for r in found}
    if prompts is not None:
        matchers = Matchers.for_spec(spec)
        for line, row in inputs.rows(prompts, required="prompt"):
            if not isinstance(row, Diagnostic):
                row = _prompt_row(spec, matchers, prompts, line, row)
            if isinstance(row, Diagnostic):
                problems.append(row)
                continue
            prompt, category, label, id_, metadata = row
            id_ = id_ or f"{prompts.name}:{line}"
            if id_ in ids:
                problems.append(
                    skipped_row(prompts, line, f"id {id_!r} is taken by an earlier row")
                )
                continue
            ids.add(id_)
            conversation = [{"role": "user", "content": prompt}]
            found.append(
                request(id_, prompts.name, category, conversation, metadata, decision=label)
            )
    return found, problems


def _prompt_row(
    spec: Spec, matchers: Matchers, path: Path, line: int, row: dict
) -> tuple[str, str | None, str | None, str | None, dict[str, str]] | Diagnostic:
    """(prompt, category, label, id, attributes) from a row, or the diagnostic that says
    why it is skipped."""

    def problem(message: str) -> Diagnostic:
        return skipped_row(path, line, message)

    prompt, category, label, id_ = (row.get(k) for k in ("prompt", "category", "label", "id"))
    if not isinstance(prompt, str) or not prompt.strip():
        return problem("no prompt (a non-empty 'prompt' is required)")
    if not all(value is None or isinstance(value, str) for value in (category, label, id_)):
        return problem("'category', 'label' and 'id' must be strings")
    known = scope.category_ids(spec)
    if category and category not in known:
        return problem(
            f"unknown category {category!r}; "
            + (did_you_mean(category, known) or f"known: {', '.join(known)}")
        )
    if label and label not in spec.decisions:
        return problem(
            f"unknown label {label!r}; labels are decisions: {', '.join(spec.decisions)}"
        )
    attributes = _attributes(spec, row)
    if isinstance(attributes, str):
        return problem(attributes)
    if not category:
        fired = matchers.scan((("user", prompt),), attributes).fired
        categories = {spec.category_of[rule_id].id for rule_id in fired}
        category = categories.pop() if len(categories) == 1 and categories <= known else None
    return prompt, category, label or None, (id_ or "").strip() or None, attributes


def _attributes(spec: Spec, row: dict) -> dict[str, str] | str:
    """The conversation attributes a row gives (a column per attribute the spec declares;
    an empty cell gives none), or why one is unusable."""
    found = {}
    for name, values in spec.attributes.items():
        value = row.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or value not in values:
            return f"attribute {name!r} is {value!r}; the spec allows {', '.join(values)}"
        found[name] = value
    return found
