"""compile: every target as files in one output folder, written atomically and deterministically.

Layout (one folder per target):
  schema/output.schema.json, schema/<category>.schema.json, schema/output.regex,
  schema/<category>.regex
  sft-gen/requests.jsonl, sft-gen/system/<category>.md, sft-gen/system-unknown.md
  sft/prompt_completion.jsonl (default) or sft/messages.jsonl
  rubric/judge/<category>.prompt, rubric/confession/<category>.prompt, rubric/rubric.json,
  rubric/judge/<category>.schema.json, rubric/confession/<category>.schema.json
  safeguard/<category>.md (the policy message), safeguard/index.json
  llamaguard/user.txt, llamaguard/agent.txt (raw prompts), llamaguard/index.json
  openai/<output|category>.response_format.json, openai/<output|category>.fine_tuned.json
  manifest.json: the spec, each target's files with their sha256, skipped rows, token counts

`.prompt` files start with a front matter block of `key: JSON value` lines (spec
name, version, hash, category, the placeholders the text holds); placeholders
are written `{{name}}`. JSON keys are sorted wherever their order means
nothing; schema properties keep generation order. Nothing depends on time.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import orjson

import spec_lang
from compiler import llamaguard, openai_format, rubric, safeguard, scope, sft, sft_gen, tokens
from compiler.judge_schema import confession_judge_schema, judge_schema
from compiler.render import front_matter, spec_texts
from compiler.schema import DEFAULT_LIMITS, Limits, output_regex, output_schemas
from core.atomic import replace_folder, sweep
from core.diagnostics import Diagnostic
from spec_lang import InputError, Spec

DEFAULT_TOKEN_WARNING = 4096  # half the default model's 8192-token context
PROMPT_TARGETS = ("sft-gen", "rubric", "safeguard")
_SORTED = orjson.OPT_SORT_KEYS


class Target(StrEnum):
    schema = "schema"
    sft_gen = "sft-gen"
    sft = "sft"
    rubric = "rubric"
    safeguard = "safeguard"
    llamaguard = "llamaguard"
    openai = "openai"
    all = "all"


class CompileError(Exception):
    """The spec has errors at error level; it is not compiled."""

    def __init__(self, diagnostics: list[Diagnostic]):
        super().__init__(f"the spec has {len(diagnostics)} errors; fix them first")
        self.diagnostics = diagnostics


@dataclass
class CompileResult:
    spec: dict[str, str]
    out_dir: Path
    files: dict[str, str] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # rows skipped, token budgets
    skipped: dict[str, int] = field(default_factory=dict)
    spec_tokens: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "spec": self.spec,
            "out_dir": str(self.out_dir),
            "files": self.files,
            "diagnostics": [d.to_json() for d in self.diagnostics],
            "skipped": self.skipped,
            "spec_tokens": self.spec_tokens,
        }


def compile_spec(
    spec: Spec | str | Path,
    target: Target | str,
    out_dir: str | Path,
    templates: str | Path | None = None,
    *,
    prompts: str | Path | None = None,
    transcripts: str | Path | None = None,
    verdicts: str | Path | None = None,
    include_failed: bool = False,
    reasoning: sft.Reasoning = "inline",
    sft_format: sft.RecordFormat = "prompt-completion",
    safeguard_form: safeguard.Form = "compact",
    judge_reasoning: bool = False,
    tokenizer: str | None = None,
    token_warning: int = DEFAULT_TOKEN_WARNING,
    limits: Limits = DEFAULT_LIMITS,
    findings: list[Diagnostic] | None = None,
) -> CompileResult:
    """Compile `spec` (a Spec, or its folder or root file) for `target` into `out_dir`.

    `findings` is `spec_lang.check(spec)` when the caller has run it already (the
    check of a large spec takes seconds); without it the spec is checked here.
    Raises CompileError when the spec has errors, InputError for unusable input.
    The sft target needs `transcripts`; `all` leaves sft out without them. With
    `reasoning="field"` it needs a tokenizer (`tokenizer`, or the default model's)
    whose chat template renders `reasoning_content`.
    """
    if not isinstance(spec, Spec):
        spec = spec_lang.load(spec)
    options = Options(
        templates=_path(templates),
        prompts=_path(prompts),
        transcripts=_path(transcripts),
        verdicts=_path(verdicts),
        include_failed=include_failed,
        reasoning=reasoning,
        sft_format=sft_format,
        safeguard_form=safeguard_form,
        judge_reasoning=judge_reasoning,
        tokenizer=tokenizer,
        limits=limits,
        spec_text=spec_texts(spec, _path(templates)),
        schema=output_schemas(spec, limits),
    )
    with _existing_objects_left_out_of_collection():
        if findings is None:
            findings = spec_lang.check(spec)
        errors = [d for d in findings if d.severity is spec_lang.Severity.ERROR]
        if errors:
            raise CompileError(errors)
        chosen = _chosen(Target(target), has_transcripts=transcripts is not None)
        result = CompileResult(scope.spec_meta(spec), Path(out_dir))
        made = {each: GENERATORS[each](spec, options) for each in chosen}
        for each in made.values():
            result.diagnostics += each.problems
            result.skipped.update(each.skipped)
        if any(t.value in PROMPT_TARGETS for t in chosen):
            _count_tokens(spec, options.spec_text, tokenizer, token_warning, result)
        _write(result, made)
    return result


def _chosen(target: Target, has_transcripts: bool) -> list[Target]:
    """The targets to make; `all` leaves sft out when there are no transcripts."""
    chosen = [t for t in GENERATORS if target in (t, Target.all)]
    if Target.sft in chosen and not has_transcripts:
        if target is Target.sft:
            raise InputError("the sft target needs a transcripts file (--transcripts)")
        chosen.remove(Target.sft)
    return chosen


@contextmanager
def _existing_objects_left_out_of_collection() -> Iterator[None]:
    """Keep the objects that exist now (a loaded spec: about 70 per rule) out of the cyclic
    garbage collector's scans until the block ends. A compile allocates enough to start
    collections of the older generations, and scanning a 10,000-rule spec's tree in them
    took 1.2 to 1.7 s of CPU, a tenth to a third of the compile. Those objects are still
    freed by reference counting. Where the program froze objects itself (gc.freeze), its
    choice is left alone."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@dataclass(frozen=True)
class Options:
    """What targets read besides the spec."""

    templates: Path | None
    prompts: Path | None
    transcripts: Path | None
    verdicts: Path | None
    include_failed: bool
    reasoning: sft.Reasoning
    sft_format: sft.RecordFormat
    safeguard_form: safeguard.Form
    judge_reasoning: bool
    tokenizer: str | None
    limits: Limits
    spec_text: Callable[[str | None], str]  # spec(category), rendered once per category
    schema: Callable[[str | None], dict]  # the output schema by category, built once per category


@dataclass
class Made:
    """One target's files (relative path -> bytes), and the input rows it skipped."""

    files: dict[str, bytes | bytearray]
    problems: list[Diagnostic] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def entry(self, digests: dict[str, str]) -> dict:
        found = {"files": {name: digests[name] for name in self.files}}
        found["problems"] = [p.to_json() for p in self.problems]
        return found | ({"skipped": self.skipped} if self.skipped else {})


def _schema(spec: Spec, options: Options) -> Made:
    """Each schema, and the same as a regex (no newline added: the file is the regex)."""
    files: dict[str, bytes | bytearray] = {}
    for name, category in [("output", None)] + [(c.id, c.id) for c in scope.categories(spec)]:
        schema = options.schema(category)
        files[f"schema/{name}.schema.json"] = _schema_file(schema)
        files[f"schema/{name}.regex"] = output_regex(schema).encode()
    return Made(files)


def _sft_gen(spec: Spec, options: Options) -> Made:
    found, problems = sft_gen.requests(
        spec, options.prompts, options.templates, options.limits, options.spec_text, options.schema
    )
    systems: dict[str, bytes] = {}
    rows = []
    for request in found:
        name = _system_file(request["category"])
        if name not in systems:
            systems[name] = request["messages"][0]["content"].encode()
        rows.append(_request_row(request, name))
    files = {f"sft-gen/{name}": systems[name] for name in sorted(systems)}
    return Made({**files, "sft-gen/requests.jsonl": _jsonl(rows)}, problems)


def _system_file(category: str | None) -> str:
    """The file holding a category's teacher system message, relative to sft-gen/. The
    unknown category's lies outside system/, where no category ID can take its name."""
    return f"system/{category}.md" if category else "system-unknown.md"


def _request_row(request: dict, system: str) -> dict:
    """A request as requests.jsonl holds it: its system message named, not inlined."""
    row = {key: value for key, value in request.items() if key != "messages"}
    return row | {"system_file": system}


def _sft(spec: Spec, options: Options) -> Made:
    if options.reasoning == "field":
        name = options.tokenizer or "the default model"
        sft.require_reasoning_rendered(tokens.load_tokenizer(options.tokenizer), name)
    made = sft.records(
        spec,
        options.transcripts,
        options.verdicts,
        options.include_failed,
        options.reasoning,
        options.spec_text,
    )
    if options.sft_format == "messages":
        files = {"sft/messages.jsonl": _jsonl(made.messages)}
    else:
        files = {"sft/prompt_completion.jsonl": _jsonl(made.prompt_completion)}
    return Made(files, made.problems, dict(sorted(made.skipped.items())))


def _rubric(spec: Spec, options: Options) -> Made:
    files: dict[str, bytes] = {}
    shown = options.judge_reasoning
    judge_inputs = ["conversation", "answer"] + (["reasoning"] if shown else [])
    for category in scope.categories(spec):
        spec_text = options.spec_text(category.id)
        judge = rubric.judge_prompt(
            spec,
            category.id,
            "{{conversation}}",
            "{{answer}}",
            "{{reasoning}}" if shown else None,
            options.templates,
            spec_text=spec_text,
        )
        confession = rubric.confession_judge_prompt(
            spec,
            category.id,
            "{{conversation}}",
            "{{answer}}",
            "{{confession}}",
            options.templates,
            spec_text=spec_text,
        )
        fields = {"category": category.id, "placeholders": judge_inputs}
        files[f"rubric/judge/{category.id}.prompt"] = _prompt(spec, fields, judge)
        fields = {"category": category.id, "placeholders": ["conversation", "answer", "confession"]}
        files[f"rubric/confession/{category.id}.prompt"] = _prompt(spec, fields, confession)
        # What a judge run under a schema answers (judge/): the spec's IDs, bounded.
        files[f"rubric/judge/{category.id}.schema.json"] = _schema_file(
            judge_schema(spec, category.id)
        )
        files[f"rubric/confession/{category.id}.schema.json"] = _schema_file(
            confession_judge_schema(spec, category.id)
        )
    prompts = {
        kind: {c.id: f"rubric/{kind}/{c.id}.prompt" for c in scope.categories(spec)}
        for kind in ("judge", "confession")
    }
    schemas = {
        kind: {c.id: f"rubric/{kind}/{c.id}.schema.json" for c in scope.categories(spec)}
        for kind in ("judge", "confession")
    }
    files["rubric/rubric.json"] = _json(rubric.rubric(spec, prompts, schemas))
    return Made(files)


def _schema_file(schema: dict) -> bytes:
    """A schema as the schema target writes it: indented, properties in generation order."""
    return orjson.dumps(schema, option=orjson.OPT_INDENT_2) + b"\n"


def _safeguard(spec: Spec, options: Options) -> Made:
    """Each category's policy message as it is sent (no front matter), an index that carries
    the spec, and in the compact form a warning (CP012) for each that does not fit the
    guide's budget even with its examples chosen to fit."""
    categories = [c.id for c in scope.categories(spec)]
    policies = [
        safeguard.policy(spec, c, options.templates, options.safeguard_form, options.tokenizer)
        for c in categories
    ]
    made = Made(
        {f"safeguard/{c}.md": p.text.encode() for c, p in zip(categories, policies, strict=True)}
    )
    if policies and policies[0].tokens is None:
        made.problems.append(
            Diagnostic(
                "CP011",
                "gpt-oss-safeguard policy sizes not counted (the compact form shows 4 examples "
                "unmeasured): the default model is not installed",
            )
        )
    index = {
        "spec": scope.spec_meta(spec),
        "form": options.safeguard_form,
        "reasoning_effort": safeguard.REASONING_EFFORT,
        "policies": {
            c: {"file": f"safeguard/{c}.md", "tokens": p.tokens}
            for c, p in zip(categories, policies, strict=True)
        },
    }
    made.files["safeguard/index.json"] = _json(index)
    if options.safeguard_form == "compact":
        made.problems.extend(
            problem
            for c, p in zip(categories, policies, strict=True)
            if (problem := _unfit(c, p)) is not None
        )
    return made


def _unfit(category: str, policy: safeguard.Policy) -> Diagnostic | None:
    """CP012 for a compact policy past the guide's budget, or with fewer than the guide's
    fewest examples within it, with what to shorten."""
    most, fewest = safeguard.TOKEN_BUDGET[1], min(safeguard.EXAMPLES[0], policy.available)
    if policy.tokens is None or (policy.tokens <= most and policy.examples >= fewest):
        return None
    cut = " (its summary cut to the first sentence)" if policy.summary_cut else ""
    if policy.tokens > most:
        message = (
            f"safeguard policy for {category}{cut} is {policy.tokens} tokens, "
            f"past the guide's {most}"
        )
    else:
        message = (
            f"safeguard policy for {category}{cut}: only {policy.examples} of the guide's "
            f"{fewest} examples fit within {most} tokens"
        )
    base = policy.base_tokens
    hint = (
        f"without examples it is {base} tokens, past the budget: shorten the category's "
        "summary or its rules' titles, or split the category"
        if base > most
        else f"without examples it is {base} tokens, leaving {most - base} for the examples: "
        "shorten the category's examples, its summary or its rules' titles"
    )
    return Diagnostic("CP012", message, hint=hint)


def _sizes(
    texts: list[str], tokenizer: str | None, what: str, problems: list[Diagnostic]
) -> list[int] | None:
    """The texts' sizes in tokens, or None (and a CP011 note) when the default tokenizer is
    not installed; a tokenizer named and unusable is an input error."""
    try:
        return tokens.count_each(texts, tokenizer)
    except InputError as error:
        if tokenizer is not None:
            raise
        problems.append(Diagnostic("CP011", f"{what} sizes not counted: {error}"))
        return None


def _llamaguard(spec: Spec, options: Options) -> Made:
    """Raw prompts (no front matter: the file is what is sent), and an index that carries
    the spec, each code's category and flagged rules, and the placeholder."""
    found = llamaguard.codes(spec)
    index = {
        "spec": scope.spec_meta(spec),
        "placeholders": ["conversation"],
        "prompts": {role: f"llamaguard/{role.lower()}.txt" for role in ("User", "Agent")},
        "categories": {
            code: {"category": category.id, "rules": [rule.id for rule in flagged]}
            for code, category, flagged in found
        },
    }
    files: dict[str, bytes | bytearray] = {"llamaguard/index.json": _json(index)}
    for role in ("User", "Agent"):
        text = llamaguard.prompt(spec, role, "{{conversation}}", options.templates)
        files[f"llamaguard/{role.lower()}.txt"] = text.encode()
    return Made(files)


def _openai(spec: Spec, options: Options) -> Made:
    """Per schema, the `response_format` to send, and the variant for fine-tuned models."""
    files: dict[str, bytes | bytearray] = {}
    for name, category in [("output", None)] + [(c.id, c.id) for c in scope.categories(spec)]:
        schema = options.schema(category)
        api_name = f"{spec.name}_{name}"
        about = f"{spec.name} {spec.version} ({spec.content_hash}) {schema['title']}"
        for suffix, fine_tuned in ((".response_format.json", False), (".fine_tuned.json", True)):
            wrapped = openai_format.response_format(
                schema, api_name, fine_tuned=fine_tuned, description=about
            )
            files[f"openai/{name}{suffix}"] = _schema_file(wrapped)
    return Made(files)


GENERATORS: dict[Target, Callable[[Spec, Options], Made]] = {
    Target.schema: _schema,
    Target.sft_gen: _sft_gen,
    Target.sft: _sft,
    Target.rubric: _rubric,
    Target.safeguard: _safeguard,
    Target.llamaguard: _llamaguard,
    Target.openai: _openai,
}


def _count_tokens(
    spec: Spec,
    spec_text: Callable[[str | None], str],
    tokenizer: str | None,
    limit: int,
    result: CompileResult,
) -> None:
    """spec(category)'s size in tokens per category, and a warning for each past `limit`."""
    categories = [category.id for category in scope.categories(spec)]
    texts = [spec_text(category) for category in categories]
    sizes = _sizes(texts, tokenizer, "spec(category)", result.diagnostics)
    if sizes is None:
        return
    for category, size in zip(categories, sizes, strict=True):
        result.spec_tokens[category] = size
        if size > limit:
            message = f"spec({category}) is {size} tokens, past the budget of {limit}"
            hint = "shorten the category's rules or examples, or split the category"
            result.diagnostics.append(Diagnostic("CP010", message, hint=hint))


def _write(result: CompileResult, made: dict[Target, Made]) -> None:
    """The output folder replaced as a whole (core.atomic.replace_folder): a reader
    sees the old compile or the new, never a mix. The targets not compiled now keep
    their files and their entries in manifest.json when the folder holds an earlier
    compile of the same spec; otherwise the folder keeps only what this compile wrote
    and what the earlier one did not own (its manifest lists what it owns)."""
    sweep(result.out_dir.resolve().parent)  # first, put back a folder a killed swap left aside
    manifest_path = result.out_dir / "manifest.json"
    manifest: dict = {"spec": result.spec, "targets": {}}
    rebuilt = {target.value for target in made} | {"manifest.json"}
    if manifest_path.is_file():
        try:
            previous = orjson.loads(manifest_path.read_bytes())
        except orjson.JSONDecodeError:
            previous = None
        if isinstance(previous, dict) and previous.get("spec") == result.spec:
            manifest = previous
        elif isinstance(previous, dict) and isinstance(previous.get("targets"), dict):
            rebuilt |= set(previous["targets"])  # another spec's targets go with its manifest
    files = {name: data for each in made.values() for name, data in each.files.items()}
    for name, data in files.items():
        result.files[name] = "sha256:" + hashlib.sha256(data).hexdigest()
    for target, each in made.items():
        manifest["targets"][target.value] = each.entry(result.files)
    if result.spec_tokens:
        manifest["spec_tokens"] = result.spec_tokens
    files["manifest.json"] = _json(manifest)
    try:
        replace_folder(result.out_dir, files, keep=lambda name: name not in rebuilt)
    except OSError as error:
        where = error.filename or result.out_dir
        raise InputError(f"{where}: cannot write ({error.strerror})") from None


def _prompt(spec: Spec, fields: dict, text: str) -> bytes:
    head = {"spec": spec.name, "version": spec.version, "hash": spec.content_hash, **fields}
    return f"{front_matter(head)}{text}\n".encode()


def _json(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 | _SORTED | orjson.OPT_APPEND_NEWLINE)


def _jsonl(records: list[dict]) -> bytearray:
    """One JSON line per record, grown in place: joining a list of lines would hold a
    large file twice."""
    lines = bytearray()
    for record in records:
        lines += orjson.dumps(record, option=_SORTED | orjson.OPT_APPEND_NEWLINE)
    return lines


def _path(value: str | Path | None) -> Path | None:
    return Path(value) if value is not None else None
