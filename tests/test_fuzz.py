"""Fuzzing the API and the CLI: no input, however malformed, gets anything but the project's
own errors from the API, or anything but findings (exit 1) or one line (exit 2) from the CLI.

Specs are drawn two ways: small specs built from a template whose every slot may hold a
hostile value (lone surrogate escapes, NUL, huge numbers, over-long or escaping include
names, broken patterns), and the mini spec with a span of its text replaced by token soup.
Transcripts are valid ones with fields replaced, cut off or broken, and arbitrary bytes,
joined by every kind of line break. About a minute in all.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import spec_lang
from compiler import CompileError, compile_spec, parse_grade, tokens
from policyspec.cli import app
from tests.verifier.factory import changed, consistent
from tests.verifier.factory import load_spec as baseline_spec
from verifier import verify

FUZZ = settings(
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure here is reproducible
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MINI = Path(__file__).parent / "compiler" / "specs" / "mini"
OWN_ERRORS = (spec_lang.SpecError, spec_lang.InputError, CompileError)
runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def word_tokens():
    """Count words instead of loading a tokenizer: fast and the same on every machine."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            tokens, "counter", lambda name=None: lambda texts: [len(t.split()) for t in texts]
        )
        yield


# Hostile values for the slots of a spec.

STRING_VALUES = st.one_of(
    st.text(max_size=20).map(lambda t: json.dumps(t, ensure_ascii=False)),
    st.text(max_size=20).map(json.dumps),  # \uXXXX escapes
    st.sampled_from(
        [
            '"\\ud800"',
            '"a\\udc80b"',
            '"\\ud83d\\ude00"',
            '"\\u0000"',
            '"\\x"',
            '"unterminated',
            '""',
            '"""raw\ntext"""',
            '"""',
            '"' + "w" * 300 + '"',
        ]
    ),
)
NUMBERS = st.one_of(
    st.integers(0, 20).map(str),
    st.sampled_from(["9" * 10, "9" * 5000, "0" * 50 + "7", "-1", "1.5", "0x10", "1e9", ""]),
)
IDENTIFIERS = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
    st.sampled_from(["SH-2", "a-", "1x", "spec", "rule", "é", "x" * 300, ""]),
)
DECISIONS = st.sampled_from(["comply", "safe_complete", "refuse", "nope", ""])
PATTERNS = st.sampled_from(["/a/i", "/(/", "/[/", "/a{99999}/", "/\\bx\\b/", "/(?P<x>a)/", "//"])
INCLUDES = st.one_of(
    st.sampled_from(
        [
            "extra.policy",
            "missing.policy",
            "../escape.policy",
            "/etc/passwd",
            "weap\\u0000ons.policy",
            "a" * 5000 + ".policy",
            "a/" * 2100 + "x.policy",
            "sub/../extra.policy",
            "mini.policy",
            "extra.policy",
        ]
    ),
    st.text(max_size=10),
)


@st.composite
def small_specs(draw) -> dict[str, str]:
    """A root file and an included file, each slot holding a plain or a hostile value."""
    includes = draw(st.lists(INCLUDES, max_size=2))
    style, rule, category = draw(IDENTIFIERS), draw(IDENTIFIERS), draw(IDENTIFIERS)
    root = [
        f"spec {draw(IDENTIFIERS)} {draw(STRING_VALUES)} {{",
        f"  version {draw(STRING_VALUES)}",
        *(f"  include {json.dumps(i, ensure_ascii=False)}" for i in includes),
        "}",
        f'style {style} "Style" {{',
        f'  """{draw(st.text(max_size=20))}"""',
        f"  {draw(st.sampled_from(['max_sentences', 'max_words']))} {draw(NUMBERS)}",
        f"  {draw(st.sampled_from(['require', 'forbid']))} {draw(PATTERNS)}",
        "}",
    ]
    extra = [
        f'category {category} "Category" {{',
        f"  summary {draw(STRING_VALUES)}",
        f"  rule {rule} {draw(DECISIONS)} {draw(STRING_VALUES)} {{",
        f"    {draw(STRING_VALUES)}",
        f"    style {draw(st.sampled_from([style, 'nope']))}",
        f"    match pattern {draw(PATTERNS)}",
        f"    match keyword {draw(STRING_VALUES)}",
        f"    example {draw(DECISIONS)} {draw(STRING_VALUES)}",
        f"    overrides {draw(st.sampled_from([rule, 'NOPE-1']))}",
        "  }",
        "}",
    ]
    # Drop some lines: the spec is whole only sometimes.
    keep = draw(st.lists(st.booleans(), min_size=len(extra), max_size=len(extra)))
    return {
        "mini.policy": "\n".join(root) + "\n",
        "extra.policy": "\n".join(line for line, kept in zip(extra, keep, strict=True) if kept),
    }


SOUP = st.lists(
    st.one_of(
        st.sampled_from(
            ["{", "}", "<", "rule", "category", "style", "example", "include", "refuse", "\n"]
        ),
        STRING_VALUES,
        NUMBERS,
        PATTERNS,
        st.text(max_size=5),
    ),
    max_size=6,
).map(" ".join)
MINI_FILES = {p.name: p.read_text() for p in MINI.glob("*.policy")}


@st.composite
def mutated_minis(draw) -> dict[str, str]:
    """The mini spec with one span of one file replaced by token soup."""
    files = dict(MINI_FILES)
    name = draw(st.sampled_from(sorted(files)))
    text = files[name]
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 40)))
    files[name] = text[:start] + draw(SOUP) + text[end:]
    return files


SPECS = st.one_of(small_specs(), mutated_minis())


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8", errors="surrogatepass")
    return folder


# Transcripts.

BASELINE = baseline_spec()
RULES = [rule.id for rule in BASELINE.rules]
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from([*RULES, "x" * 10_000, "GRADE: 7"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)
FIELDS = st.sampled_from(
    [
        "id",
        "messages",
        "output",
        "output__decision",
        "output__style",
        "output__answer",
        "output__reasoning",
        "output__confession",
        "output__confession__overall_compliance_grade",
        "output__confession__compliance_analysis",
        "spec",
    ]
)


@st.composite
def transcript_lines(draw) -> bytes:
    """A valid transcript with fields replaced, then perhaps cut off or broken; or junk."""
    kind = draw(st.sampled_from(["changed", "cut", "junk", "raw output"]))
    if kind == "junk":
        return draw(st.binary(max_size=60))
    cited = draw(st.lists(st.sampled_from(RULES), min_size=1, max_size=3, unique=True))
    transcript = consistent(BASELINE, cited)
    for field, value in draw(st.dictionaries(FIELDS, VALUES, max_size=2)).items():
        with contextlib.suppress(KeyError, TypeError):  # a path through a value replaced
            transcript = changed(transcript, **{field: value})
    if kind == "raw output" and isinstance(transcript.get("output"), dict):
        raw = json.dumps(transcript["output"])
        transcript["output"] = raw[: draw(st.integers(0, len(raw)))] + draw(st.text(max_size=5))
    # json, not orjson: it writes integers past 64 bits, and Infinity, for the reader to refuse.
    data = json.dumps(transcript, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if kind == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    return data


BREAKS = st.sampled_from([b"\n", b"\r\n", b"\r", b"\n\n", b"\x0b", b"\xe2\x80\xa8"])
TRANSCRIPT_FILES = st.tuples(
    st.lists(transcript_lines(), max_size=4),
    BREAKS,
    st.sampled_from([b"", b"\xef\xbb\xbf"]),
    st.sampled_from([b"", b"\n", b"\r"]),
).map(lambda parts: parts[2] + parts[1].join(parts[0]) + parts[3])


# The API.


@settings(FUZZ, max_examples=500)
@given(files=SPECS)
def test_parse_raises_only_syntax_errors(files):
    for name, text in files.items():
        with contextlib.suppress(spec_lang.SpecSyntaxError):
            spec_lang.parse(text, name)


@settings(FUZZ, max_examples=250)
@given(files=SPECS)
def test_load_check_and_compile_raise_only_the_projects_errors(files):
    with tempfile.TemporaryDirectory() as folder:
        root = _write(Path(folder), files)
        try:
            spec = spec_lang.load(root)
        except OWN_ERRORS:
            return
        findings = spec_lang.check(spec)
        assert all(isinstance(d, spec_lang.Diagnostic) for d in findings)
        with contextlib.suppress(*OWN_ERRORS):
            compile_spec(spec, "all", root / "out")


@settings(FUZZ, max_examples=800)
@given(data=st.one_of(transcript_lines(), st.binary(max_size=200)))
def test_verify_of_any_bytes_gives_a_result(data):
    result = verify(BASELINE, data)
    assert result.passed in (True, False)
    assert result.passed or result.findings


@settings(FUZZ, max_examples=1000)
@given(text=st.one_of(st.text(), st.binary(max_size=80).map(lambda b: b.decode("latin-1"))))
def test_parse_grade_of_any_text_is_a_grade_or_unscored(text):
    grade = parse_grade(text)
    assert grade.value is None or 1 <= grade.value <= 7


# The CLI.


def _clean(result, allowed=(0, 1, 2)) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in result.output
    assert result.exit_code in allowed, result.output
    if result.exit_code == 2:  # one line, or under --format json one diagnostic
        said = ("error: ", "Usage:", '"diagnostics"')
        assert any(words in result.output for words in said), result.output


@settings(FUZZ, max_examples=60)
@given(files=SPECS, output_format=st.sampled_from(["text", "json"]))
def test_cli_check_fmt_and_compile_of_any_spec_folder(files, output_format):
    with tempfile.TemporaryDirectory() as folder:
        root = _write(Path(folder), files)
        _clean(runner.invoke(app, ["check", str(root), "--format", output_format]))
        out = ["-o", str(root / "out"), "--format", output_format]
        _clean(runner.invoke(app, ["compile", str(root), "-t", "all", *out]))
        _clean(runner.invoke(app, ["fmt", "--check", str(root)]))
        _clean(runner.invoke(app, ["fmt", str(root)]))


@settings(FUZZ, max_examples=150)
@given(
    data=TRANSCRIPT_FILES,
    suffix=st.sampled_from([".jsonl", ".json"]),
    output_format=st.sampled_from(["text", "json", "junit"]),
    max_line_bytes=st.sampled_from([[], ["--max-line-bytes", "200"]]),
)
def test_cli_verify_of_any_transcript_file(data, suffix, output_format, max_line_bytes):
    spec = Path(__file__).parent / "verifier" / "specs" / "baseline"
    with tempfile.TemporaryDirectory() as folder:
        transcripts = Path(folder) / f"t{suffix}"
        transcripts.write_bytes(data)
        args = ["verify", str(spec), str(transcripts), "--format", output_format]
        _clean(runner.invoke(app, [*args, *max_line_bytes, "-o", str(Path(folder) / "r.jsonl")]))


@settings(FUZZ, max_examples=30)
@given(files=SPECS)
def test_cli_verify_against_any_spec_folder(files):
    line = orjson.dumps(consistent(BASELINE, [RULES[0]]))
    with tempfile.TemporaryDirectory() as folder:
        root = _write(Path(folder), files)
        transcripts = root / "t.jsonl"
        transcripts.write_bytes(line + b"\n")
        _clean(runner.invoke(app, ["verify", str(root), str(transcripts), "--format", "json"]))
