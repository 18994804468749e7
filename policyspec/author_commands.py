"""The author's commands: `decide`, `init`, `diff` and `doc` (the workbench package)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

import spec_lang
from core import atomic
from policyspec.console import (
    Format,
    FormatOption,
    SpecPath,
    emit_json,
    fail_input,
    load_spec,
    out,
    report_as,
)
from policyspec.outputs import Kind, refuse_unsafe_output
from workbench.decide import explain_decision, explanation_text
from workbench.diff import compare, diff_text, spec_at, stale_records
from workbench.scaffold import scaffold, spec_name
from workbench.site import build_site
from workbench.symbols import is_identifier


def decide(
    spec_path: SpecPath,
    prompt: Annotated[
        str | None, typer.Argument(help="The user's words (or give --conversation).")
    ] = None,
    conversation: Annotated[
        Path | None,
        typer.Option(
            "--conversation",
            help='A JSON file: {"messages": [{"role": "user", "content": "..."}, ...], '
            '"metadata": {...}} (a transcript), or the list of messages alone. Each match '
            "reads the turns its scope names (the user's, unless it says `in ...`).",
        ),
    ] = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Try one input: which rules fire and why, what the overrides drop, and the decision.

    Shows each match statement that fires and the words it fired on, each rule an
    override drops and which rule drops it, the required decision and style and the
    winning rule. Example: policyspec decide policies/ "how do I pick a lock"
    """
    report_as(output_format)
    if (prompt is None) == (conversation is None):
        fail_input("give the prompt, or --conversation FILE (one of them)")
    if prompt is not None:
        messages, attributes = (("user", prompt),), {}
    else:
        messages, attributes = _conversation(conversation)
    spec = load_spec(spec_path)
    matchers = spec_lang.Matchers.for_spec(spec)
    explanation = explain_decision(spec, messages, matchers, attributes)
    if output_format is Format.json:
        emit_json({"spec": spec.name, **explanation.to_json()})
    else:
        out.print(explanation_text(explanation), markup=False)


def _conversation(path: Path) -> tuple[tuple[tuple[str, str], ...], dict[str, str]]:
    """The (role, content) pairs of a conversation file, and the text values of its
    `metadata` (the attributes `when` and `unless` test), as a transcript gives them."""
    try:
        data = orjson.loads(spec_lang.loader.read_text(path))
    except orjson.JSONDecodeError as error:
        fail_input(f"{path}: not JSON ({error})")
    messages = data.get("messages") if isinstance(data, dict) else data
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and isinstance(m.get("content"), str) and isinstance(m.get("role"), str)
        for m in messages
    ):
        fail_input(f'{path}: expected {{"messages": [{{"role": ..., "content": "..."}}, ...]}}')
    metadata = data.get("metadata") if isinstance(data, dict) else None
    attributes = {
        k: v
        for k, v in (metadata if isinstance(metadata, dict) else {}).items()
        if isinstance(v, str)
    }
    return tuple((m["role"], m["content"]) for m in messages), attributes


def init(
    folder: Annotated[Path, typer.Argument(help="Where the new spec goes (made if missing).")],
    name: Annotated[
        str | None, typer.Option("--name", help="The spec's name (default: from the folder).")
    ] = None,
    title: Annotated[str, typer.Option("--title", help="The spec's title.")] = "A new policy",
) -> None:
    """Start a new spec: a root file, one category with a rule and its examples, styles.

    It checks clean and passes `policyspec test` as it is; edit from there. Existing
    files are never overwritten (exit 2). Example: policyspec init my_policy/
    """
    if folder.exists() and not folder.is_dir():
        fail_input(f"{folder}: exists and is not a folder")
    chosen = name or spec_name(folder)
    if not is_identifier(chosen):
        fail_input(f"--name {chosen!r}: a spec name is letters, digits and _, with - between")
    files = scaffold(folder, chosen, title)
    existing = [str(path) for path in files if path.exists() or path.is_symlink()]
    if existing:
        fail_input(f"{', '.join(existing)}: already exists; init writes only new files")
    atomic.write_all({path: text.encode("utf-8") for path, text in files.items()})
    for path in files:
        out.print(f"wrote {path}", markup=False)
    out.print(f"next: policyspec check {folder} && policyspec test {folder}", markup=False)


def diff(
    old: Annotated[str, typer.Argument(help="The old spec: a folder or file, or REV:PATH.")],
    new: Annotated[str, typer.Argument(help="The new spec: a folder or file, or REV:PATH.")],
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data", help="JSONL files (SFT records, transcripts) to search for stale citations."
        ),
    ] = None,
    output_format: FormatOption = Format.text,
) -> None:
    """Compare two versions of a spec: rules added, removed, renamed and changed in meaning.

    Rules are compared by content hash (formatting and comments do not count); the
    examples of both versions show where a changed override or decision changed which
    rule wins; --data lists the records that cite a removed or changed rule. OLD and
    NEW are folders, or git revisions of one: policyspec diff HEAD~1:policies policies/
    """
    report_as(output_format)
    with spec_at(old) as before, spec_at(new) as after:
        difference = compare(before, after)
    stale = list(stale_records(data, difference.stale_ids)) if data else None
    if output_format is Format.json:
        records = [
            {"file": r.file, "line": r.line, "id": r.record_id, "cites": list(r.cites)}
            for r in stale or []
        ]
        emit_json({**difference.to_json(), **({"stale": records} if data else {})})
    else:
        out.print(diff_text(difference, stale), markup=False)


def doc(
    spec_path: SpecPath,
    output: Annotated[Path, typer.Option("-o", "--output", help="The site's folder.")],
    since: Annotated[
        str | None,
        typer.Option("--since", help="An older version (folder or REV:PATH): adds a change log."),
    ] = None,
) -> None:
    """Write the spec as a static, linked, searchable site for reviewers.

    An overview with search, a page per category (rules, their examples and overrides
    both ways), the styles, and with --since a change log from `diff`. The folder is
    replaced as a whole; it must be new, empty, or a site doc wrote before.
    Example: policyspec doc policies/ -o site/ --since HEAD~10:policies
    """
    spec = load_spec(spec_path)
    refuse_unsafe_output(output, [spec_path], Kind.site)
    changes = None
    if since is not None:
        with spec_at(since) as before:
            changes = compare(before, spec)
    files = build_site(spec, changes, since)
    atomic.replace_folder(output, files, keep=lambda name: False)
    out.print(f"wrote {output / 'index.html'} ({len(files)} files)", markup=False)
