"""`policyspec compile`: a thin layer over compiler.compile_spec."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

import compiler
import spec_lang
from compiler.build import DEFAULT_TOKEN_WARNING, CompileResult, Target
from core.codes import Severity, with_topic
from core.diagnostics import render
from policyspec.console import (
    EXIT_FINDINGS,
    Format,
    FormatOption,
    SpecPath,
    diagnose,
    emit_json,
    err,
    fail_input,
    out,
    print_findings,
    report_as,
)
from policyspec.outputs import Kind, refuse_unsafe_output


class ReasoningMode(StrEnum):
    inline = "inline"
    field = "field"


class SafeguardForm(StrEnum):
    compact = "compact"
    full = "full"


class SftFormat(StrEnum):
    prompt_completion = "prompt-completion"
    messages = "messages"


def compile_spec(
    path: SpecPath,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="The output folder (created when missing).")
    ],
    target: Annotated[
        Target, typer.Option("--target", "-t", help="What to compile; all: every target.")
    ] = Target.all,
    prompts: Annotated[
        Path | None,
        typer.Option(
            "--prompts",
            help="sft-gen: more conversations, a JSONL or CSV file with a prompt column "
            "and optional category and label columns, and a column per declared attribute.",
        ),
    ] = None,
    transcripts: Annotated[
        Path | None, typer.Option("--transcripts", help="sft: transcripts (JSONL).")
    ] = None,
    verdicts: Annotated[
        Path | None,
        typer.Option(
            "--verdicts",
            help="sft: a verify report (JSONL with id and verdict). Without it, each "
            "transcript's own verdict field decides.",
        ),
    ] = None,
    include_failed: Annotated[
        bool,
        typer.Option("--include-failed", help="sft: use failed and unverified transcripts too."),
    ] = False,
    reasoning: Annotated[
        ReasoningMode,
        typer.Option(
            "--reasoning",
            help="sft: inline keeps the reasoning in the output JSON; field moves it to "
            "reasoning_content (refused when the --tokenizer's chat template drops it).",
        ),
    ] = ReasoningMode.inline,
    sft_format: Annotated[
        SftFormat,
        typer.Option(
            "--sft-format",
            help="sft: prompt-completion (TRL trains on the answer only) or messages (TRL "
            "trains on every token unless assistant_only_loss; see docs/compiler.md).",
        ),
    ] = SftFormat.prompt_completion,
    safeguard_form: Annotated[
        SafeguardForm,
        typer.Option(
            "--safeguard-form",
            help="safeguard: compact (the prompt guide's 400-600 tokens, 4 examples; warns "
            "past it) or full (every rule's text and every example).",
        ),
    ] = SafeguardForm.compact,
    judge_reasoning: Annotated[
        bool,
        typer.Option("--judge-reasoning", help="rubric: show the model's reasoning to the judge."),
    ] = False,
    templates: Annotated[
        Path | None,
        typer.Option(
            "--templates", help="A folder of .j2 files that replace the default templates."
        ),
    ] = None,
    tokenizer: Annotated[
        str | None,
        typer.Option(
            "--tokenizer",
            help="Count spec(category) and safeguard policy tokens, and check --reasoning "
            "field, with this tokenizer (a folder, a .gguf file, or a cached model ID; "
            "o200k_harmony, gpt-oss's, counts only) instead of the default model's.",
        ),
    ] = None,
    token_budget: Annotated[
        int, typer.Option("--token-budget", help="Warn when spec(category) is longer, in tokens.")
    ] = DEFAULT_TOKEN_WARNING,
    output_format: FormatOption = Format.text,
) -> None:
    """Compile a spec into schemas, training data, judge rubrics and guard prompts.

    Targets: schema, sft-gen, sft (needs --transcripts), rubric, safeguard,
    llamaguard, or all. Same spec and inputs, same bytes. A spec with errors is
    not compiled (exit 1); unusable input exits 2; rows that cannot be used are
    reported with their line and skipped.
    Example: policyspec compile policies/ --target all -o build/
    """
    report_as(output_format)
    checked = diagnose(path)
    spec, findings = checked.spec, checked.findings
    errors = [d for d in findings if d.severity is Severity.ERROR]
    if spec is None or errors:
        if output_format is Format.json:
            emit_json(checked.to_json(errors))
        else:
            print_findings(errors, checked.sources)
            err.print("the spec has errors; it was not compiled (see policyspec check)")
        raise typer.Exit(EXIT_FINDINGS)
    inputs = [path, *spec.sources, prompts, transcripts, verdicts, templates]
    refuse_unsafe_output(out_dir, inputs, Kind.compile)
    try:
        result = compiler.compile_spec(
            spec,
            target,
            out_dir,
            templates,
            prompts=prompts,
            transcripts=transcripts,
            verdicts=verdicts,
            include_failed=include_failed,
            reasoning=reasoning.value,
            sft_format=sft_format.value,
            safeguard_form=safeguard_form.value,
            judge_reasoning=judge_reasoning,
            tokenizer=tokenizer,
            token_warning=token_budget,
            findings=findings,
        )
    except spec_lang.InputError as error:
        fail_input(error)
    if output_format is Format.json:
        emit_json(result.to_json())
        return
    for diagnostic in result.diagnostics:
        err.print(render(diagnostic), markup=False)
    for name in result.files:
        out.print(f"wrote {out_dir / name}", markup=False)
    for category, size in result.spec_tokens.items():
        out.print(f"spec({category}): {size} tokens", markup=False)
    skipped = ", ".join(f"{count} {why}" for why, count in result.skipped.items() if count)
    out.print(
        f"{spec.name} {spec.version} ({spec.content_hash[:19]}): {len(result.files)} files"
        + (f", {rows} rows skipped" if (rows := _rows_skipped(result)) else "")
        + (f"; sft transcripts skipped: {skipped}" if skipped else ""),
        markup=False,
    )


def _rows_skipped(result: CompileResult) -> int:
    return sum(d.code in with_topic("skipped row") for d in result.diagnostics)
