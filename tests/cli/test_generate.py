"""`policyspec generate` with a tiny random model saved to disk: transcripts, resume, bad input."""

import json
import re
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from policyspec.cli import app
from policyspec.generate_command import _append
from runtime.models import EMBEDDED_MODEL
from runtime.transcripts import Settings
from tests.runtime.conftest import build_tiny_model, build_tiny_tokenizer, save_tiny_model

runner = CliRunner()
SPEC = Path(__file__).resolve().parent.parent / "verifier" / "specs" / "baseline"


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    return save_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="module")
def short_folder(tmp_path_factory) -> Path:
    """The tiny model with a 256-token context: prompts without the spec, quick outputs."""
    return save_tiny_model(tmp_path_factory.mktemp("short-model"), context=256)


def generate(*args):
    return runner.invoke(app, ["generate", str(SPEC), *map(str, args)])


def quick(folder, output, *args):
    """generate --without-spec on the short model: a few hundred tokens a transcript."""
    return generate("--without-spec", "--model", folder, "-o", output, *args)


def test_the_id_column_keys_the_resume(short_folder, tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"id": "bread", "prompt": "How do I bake bread?"}\n')
    output = tmp_path / "t.jsonl"
    assert quick(short_folder, output, "--prompts", prompts).exit_code == 0
    first = output.read_text()
    # a row inserted at the top: its line numbers shift, its ids do not
    prompts.write_text('{"id": "tea", "prompt": "How do I brew tea?"}\n' + prompts.read_text())
    result = quick(short_folder, output, "--prompts", prompts)
    assert result.exit_code == 0, result.output
    assert "wrote 1 transcripts" in result.stdout
    lines = output.read_text().splitlines()
    assert output.read_text().startswith(first)
    assert [json.loads(line)["id"] for line in lines] == ["bread", "tea"]


def test_resuming_with_other_settings_is_refused(short_folder, tmp_path):
    output = tmp_path / "t.jsonl"
    assert quick(short_folder, output, "--examples", "--limit", 1).exit_code == 0
    before = output.read_bytes()
    transcript = json.loads(before)
    assert transcript["generation"]["model"] == str(short_folder)
    assert transcript["generation"]["with_spec"] is False
    result = quick(short_folder, output, "--examples", "--limit", 1, "--seed", 3)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {output}:1 was made with other settings (seed 0 there, 3 here); resume "
        "with the same ones, or give a new output file\n"
    )
    assert output.read_bytes() == before


@pytest.mark.parametrize(
    ("limit", "code", "message"),
    [
        ("0", 0, "nothing to generate: --limit 0"),
        ("-1", 2, "error: --limit -1: give 0 or more transcripts"),
    ],
)
def test_a_limit_of_zero_or_less(tmp_path, limit, code, message):
    output = tmp_path / "t.jsonl"
    result = generate("--examples", "--limit", limit, "-o", output)
    assert result.exit_code == code
    assert message in result.output
    assert not output.exists()


def test_help_names_the_prompt_columns():
    result = runner.invoke(app, ["generate", "--help"], env={"COLUMNS": "200"})
    columns = "JSONL or CSV with a prompt column; optional: category, label, id, attributes."
    assert columns in result.stdout
    assert "transformers (any machine) or vllm (GPUs; the vllm extra)." in result.stdout


def test_each_transcript_is_on_disk_before_the_next_is_generated(tmp_path):
    """A kill loses only the transcript in flight: each finished one is written and synced
    before the next is asked for."""
    output = tmp_path / "t.jsonl"
    seen = []

    def transcripts():
        for number in range(3):
            seen.append(output.read_text().count("\n"))
            yield {"id": str(number), "messages": [], "output": {}}

    assert _append(output, transcripts(), 3) == 3
    assert seen == [0, 1, 2]


def test_transcripts_follow_the_contract_and_a_rerun_resumes(tiny_folder, tmp_path):
    from spec_lang import load

    output = tmp_path / "t.jsonl"
    first = generate("--examples", "--limit", 1, "--model", tiny_folder, "-o", output)
    assert first.exit_code == 0, first.output
    # bytes split at line ends only (random text may hold U+2028, which str splits at)
    line = output.read_bytes().splitlines()[0]
    transcript = json.loads(line)
    spec = load(SPEC)
    assert transcript["spec"] == {
        "name": spec.name,
        "version": spec.version,
        "hash": spec.content_hash,
    }
    assert transcript["messages"][0]["role"] == "user"
    cited = {step["rule"] for step in transcript["output"]["reasoning"]}
    assert cited <= set(spec.rule_by_id)  # random weights, but the schema allows nothing else
    assert transcript["output"]["decision"] in spec.decisions

    output.write_bytes(output.read_bytes() + b'{"id": "cut off by a cra')  # an interrupted run
    second = generate("--examples", "--limit", 1, "--model", tiny_folder, "-o", output)
    assert second.exit_code == 0, second.output
    lines = output.read_bytes().splitlines()
    assert lines[0] == line and len(lines) == 2
    assert json.loads(lines[1])["id"] != transcript["id"]

    verified = runner.invoke(app, ["verify", str(SPEC), str(output), "--format", "json"])
    assert verified.exit_code in (0, 1)  # random answers may fail checks, never the reading


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--examples", "--model", "no-such-model"], "unknown model 'no-such-model'"),
        (["--examples", "--model", "{empty}"], "holds no Hugging Face model"),
        (["--examples", "--device", "cuda"], "no CUDA GPU is available"),
        (["--examples", "--prompts", "{prompts}"], "give either --prompts FILE or --examples"),
        (["--prompts", "{prompts}"], "prompts.jsonl:2:1: error[CP001]: not valid JSON"),
        (["--prompts", "{missing}"], "missing.jsonl: cannot read"),
        (["--prompts", "{text}"], "notes.txt: give a .jsonl or .csv file"),
        (["--prompts", "/dev/null"], "/dev/null: give a .jsonl or .csv file"),
        (["--examples", "--device", "bogus"], "unknown --device 'bogus'"),
        (["--examples", "--device", "gpu"], "unknown --device 'gpu'"),
        (["--examples", "--device", "meta"], "unknown --device 'meta'"),
        (["--examples", "--dtype", "int3"], "unknown --dtype 'int3'"),
        (["--examples", "--model", "{no_chat}"], "has no chat template"),
    ],
)
def test_bad_input_exits_2_and_keeps_the_output(tmp_path, args, message):
    import torch

    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    (tmp_path / "empty").mkdir()
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text('{"prompt": "How do I bake bread?"}\n{"prompt": oops}\n{"category": "x"}\n')
    (tmp_path / "notes.txt").write_text("prompt\nhello\n")
    tokenizer = build_tiny_tokenizer()
    tokenizer.chat_template = None  # a base model's tokenizer
    tokenizer.save_pretrained(tmp_path / "no_chat")
    build_tiny_model(tokenizer).save_pretrained(tmp_path / "no_chat")
    paths = {
        "empty": tmp_path / "empty",
        "prompts": prompts,
        "missing": tmp_path / "missing.jsonl",
        "no_chat": tmp_path / "no_chat",
    }

    filled = [a.format(**paths, text=tmp_path / "notes.txt") for a in map(str, args)]
    # a transcript of an earlier run with these settings, which resuming would add to
    model = filled[filled.index("--model") + 1] if "--model" in filled else EMBEDDED_MODEL
    kept = {"id": "kept", "messages": [], "output": {}, "generation": Settings(model).record()}
    output = tmp_path / "t.jsonl"
    output.write_bytes(orjson.dumps(kept) + b"\n")
    result = generate(*filled, "-o", output)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert all(line.startswith("error: ") or ": error[" in line for line in lines)
    assert output.read_bytes() == orjson.dumps(kept) + b"\n"


TOO_LONG = (
    r"error: prompt '[^']+' is \d+ tokens but \S+'s context is 1024 \(prompt and output "
    r"together\), leaving no room to generate: shorten it or leave the spec out "
    r"\(--without-spec\), or use a model with a longer context"
)


def test_a_prompt_past_the_context_exits_2_before_writing(tmp_path):
    """The examples' teacher prompts take ~2,100 tokens of the tiny tokenizer: past 1,024."""
    folder = save_tiny_model(tmp_path / "short", context=1024)
    output = tmp_path / "t.jsonl"
    result = generate("--examples", "--limit", 2, "--model", folder, "-o", output)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 2
    assert all(re.fullmatch(TOO_LONG, line) for line in errors), errors
    assert not output.exists()


@pytest.mark.slow
def test_embedded_model_end_to_end(tmp_path):
    """The real loop on the default spec: every transcript parses, cites only the spec's
    rule IDs, and goes through verify."""
    from policies import DEFAULT_SPEC
    from spec_lang import load
    from verifier import verify

    prompts = Path(__file__).resolve().parents[2] / "examples" / "demo_prompts.jsonl"
    output = tmp_path / "t.jsonl"
    result = runner.invoke(
        app,
        [
            "generate",
            str(DEFAULT_SPEC),
            "--prompts",
            str(prompts),
            "--limit",
            "2",
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.output
    spec = load(DEFAULT_SPEC)
    lines = output.read_text().splitlines()
    assert len(lines) == 2
    for line in lines:
        transcript = json.loads(line)
        assert isinstance(transcript["output"], dict), transcript["output"]
        cited = {step["rule"] for step in transcript["output"]["reasoning"]}
        assert cited <= set(spec.rule_by_id)
        result = verify(spec, transcript)
        assert not [f for f in result.findings if f.code.startswith("VF00")]  # it reads
