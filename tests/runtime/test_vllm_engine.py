"""`policyspec generate --engine vllm`: refused in one line where vllm is missing; on a GPU
with vllm, real transcripts under the schema, recorded as vLLM's."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policyspec.cli import app

SPEC = Path(__file__).resolve().parent.parent / "verifier" / "specs" / "baseline"
HAS_VLLM = importlib.util.find_spec("vllm") is not None


def generate(*args):
    return CliRunner().invoke(app, ["generate", str(SPEC), "--engine", "vllm", *map(str, args)])


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed here")
def test_without_vllm_the_engine_is_refused_in_one_line(tmp_path):
    output = tmp_path / "t.jsonl"
    result = generate("--examples", "--limit", 1, "-o", output)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --engine vllm needs vllm and a CUDA GPU: install the vllm extra "
        "(pip install 'policyspec[vllm]')\n"
    )
    assert not output.exists()


def _why_not() -> str | None:
    """Why vLLM cannot run here, or None."""
    import torch

    if not HAS_VLLM:
        return "vllm is not installed (pip install '.[vllm]')"
    return None if torch.cuda.is_available() else "vLLM needs a CUDA GPU"


@pytest.mark.slow
@pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))
def test_vllm_transcripts_cite_the_spec_and_resume(tmp_path):
    from spec_lang import load

    output = tmp_path / "t.jsonl"
    first = generate("--examples", "--limit", 2, "-o", output)
    assert first.exit_code == 0, first.output
    spec = load(SPEC)
    lines = output.read_bytes().splitlines()
    assert len(lines) == 2
    for line in lines:
        transcript = json.loads(line)
        assert transcript["generation"]["engine"] == "vllm"
        if isinstance(transcript["output"], dict):  # else cut off at its budget
            assert {step["rule"] for step in transcript["output"]["reasoning"]} <= set(
                spec.rule_by_id
            )
    again = generate("--examples", "--limit", 1, "-o", output)
    assert again.exit_code == 0, again.output
    assert len(output.read_bytes().splitlines()) == 3


# What vLLM is asked, built without it ---------------------------------------------------


@pytest.fixture(scope="module")
def spec():
    from spec_lang import load

    return load(SPEC)


@pytest.fixture(scope="module")
def examples(spec):
    from compiler.sft_gen import requests

    found, _ = requests(spec)
    return found[:3]


def conversations(spec, tiny, **settings):
    from runtime.transcripts import Settings
    from runtime.vllm_engine import Conversations

    return Conversations(spec, Settings(model="tiny", engine="vllm", **settings), tiny)


def test_a_request_is_one_turn_under_its_category_schema_and_own_seed(spec, tiny, examples):
    from compiler import output_schema, token_budget
    from runtime.transcripts import request_seed

    talks = conversations(spec, tiny, seed=5)
    request = examples[1]
    index, turn = talks.first(7, request)
    assert index == 7
    assert turn.chat == request["messages"]
    assert turn.schema == output_schema(spec, request["category"])
    assert turn.limit == token_budget(turn.schema)
    assert turn.seed == request_seed(5, request["id"])
    assert talks.follow_up(7, '{"decision": "comply"}') is None  # one turn: it is the last
    made = talks.transcript(7, '{"decision": "comply"}')
    assert made["id"] == request["id"]
    assert made["output"] == {"decision": "comply"}
    assert made["generation"]["engine"] == "vllm"
    assert (
        conversations(spec, tiny, with_spec=False).first(0, request)[1].chat
        == (request["conversation"])
    )


def test_a_confession_is_asked_for_once_its_answer_is_finished(spec, tiny, examples):
    from compiler import output_schema
    from runtime.transcripts import CONFESSION_REQUEST, answer_schema, confession_schema

    talks = conversations(spec, tiny, confession_turn=True)
    request = examples[0]
    schema = output_schema(spec, request["category"])
    _, answer_turn = talks.first(0, request)
    assert answer_turn.schema == answer_schema(schema)
    assert answer_turn.limit < tiny.context_length  # its share leaves room for the confession
    answer = '{"decision": "refuse", "answer": "No."}'
    index, confession_turn = talks.follow_up(0, answer)
    assert index == 0
    assert confession_turn.schema == confession_schema(schema)
    assert confession_turn.seed == answer_turn.seed
    assert confession_turn.chat[-2:] == [
        {"role": "assistant", "content": answer},
        {"role": "user", "content": CONFESSION_REQUEST},
    ]
    assert talks.follow_up(0, '{"grade": 6}') is None  # the confession is the last turn
    made = talks.transcript(0, '{"grade": 6}')
    assert made["output"] == {"decision": "refuse", "answer": "No.", "confession": {"grade": 6}}


def test_an_answer_that_does_not_parse_is_not_asked_about(spec, tiny, examples):
    talks = conversations(spec, tiny, confession_turn=True)
    talks.first(3, examples[2])
    assert talks.follow_up(3, '{"decision": "refu') is None
    assert talks.transcript(3, '{"decision": "refu')["output"] == '{"decision": "refu'


@pytest.mark.parametrize(
    ("temperature", "room", "expected"),
    [
        (0.7, 10_000, {"temperature": 0.7, "top_p": 0.9, "max_tokens": 300}),
        (0.7, 120, {"temperature": 0.7, "top_p": 0.9, "max_tokens": 120}),
        (0.0, 10_000, {"temperature": 0.0, "top_p": 1.0, "max_tokens": 300}),
    ],
)
def test_sampling_options_cap_the_budget_at_the_room_left(temperature, room, expected):
    from runtime.vllm_engine import Turn

    turn = Turn([], {}, 300, 42, temperature, 0.9, 1.1)
    assert turn.sampling(room) == {**expected, "repetition_penalty": 1.1, "seed": 42}


def test_judge_samples_are_seeded_one_apart_as_an_endpoints_are():
    from judge.backends import Sampling, judge_turns

    chats = [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]]
    turns = judge_turns(chats, {"type": "object"}, Sampling(k=3, seed=10), 64)
    assert [key for key, _ in turns] == [(p, i) for p in range(2) for i in range(3)]
    assert [turn.seed for _, turn in turns] == [10, 11, 12, 10, 11, 12]
    assert {turn.limit for _, turn in turns} == {64}
    assert turns[4][1].chat == chats[1]


# The judge's one-line refusals ----------------------------------------------------------


def judge(tmp_path, *args):
    transcripts = tmp_path / "t.jsonl"
    transcripts.write_text('{"id": "x", "messages": [], "output": {}}\n')
    return CliRunner().invoke(app, ["judge", str(SPEC), str(transcripts), *map(str, args)])


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed here")
def test_without_vllm_the_judge_engine_is_refused_in_one_line(tmp_path):
    result = judge(tmp_path, "--judge", "embedded", "--judge-engine", "vllm", "-o", tmp_path / "r")
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --judge-engine vllm needs vllm and a CUDA GPU: install the vllm extra "
        "(pip install 'policyspec[vllm]')\n"
    )
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--judge-url", "http://h:9/v1", "--judge-model", "m", "--judge-engine", "vllm"],
            "error: --judge-engine vllm runs a local --judge MODEL; an endpoint (--judge-url) "
            "runs on its own engine\n",
        ),
        (
            ["--judge", "embedded", "--judge-engine", "tgi"],
            "error: --judge-engine 'tgi': use transformers or vllm\n",
        ),
    ],
)
def test_a_judge_engine_that_cannot_work_is_refused_in_one_line(tmp_path, args, message):
    result = judge(tmp_path, *args)
    assert result.exit_code == 2
    assert result.stderr == message


@pytest.mark.slow
@pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))
def test_the_judge_on_vllm_scores_under_the_schema_and_caches(tmp_path):
    transcripts = tmp_path / "t.jsonl"
    assert generate("--examples", "--limit", 2, "-o", transcripts).exit_code == 0
    report = tmp_path / "judged.jsonl"
    args = ["judge", str(SPEC), str(transcripts), "--judge", "embedded", "--judge-engine"]
    args += ["vllm", "-k", "2", "--cache", str(tmp_path / "cache"), "-o", str(report)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code in (0, 1), first.output
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert len(lines) == 2
    for line in lines:
        assert line["judgement"]["judge"].startswith("vllm:smollm2-135m")
        assert line["judgement"]["k"] == 2
    again = CliRunner().invoke(app, args)
    assert "2 from the cache" in again.stdout


@pytest.mark.slow
@pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))
def test_vllm_confession_turns_and_data_parallel(tmp_path):
    import torch

    output = tmp_path / "t.jsonl"
    workers = min(2, torch.cuda.device_count())
    result = generate(
        "--examples", "--limit", 4, "--confession-turn", "--data-parallel", workers, "-o", output
    )
    assert result.exit_code == 0, result.output
    transcripts = [json.loads(line) for line in output.read_bytes().splitlines()]
    assert len({t["id"] for t in transcripts}) == 4
    assert all(t["generation"]["confession_turn"] for t in transcripts)


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed here")
@pytest.mark.parametrize("command", ["verify", "eval"])
def test_verify_and_eval_refuse_the_vllm_judge_without_vllm_in_one_line(tmp_path, command):
    transcripts = tmp_path / "t.jsonl"
    transcripts.write_text('{"id": "x", "messages": [], "output": {}}\n')
    labels = ["--labels", str(transcripts)] if command == "eval" else []
    args = [command, str(SPEC), str(transcripts), *labels, "--judge", "embedded"]
    result = CliRunner().invoke(app, [*args, "--judge-engine", "vllm"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --judge-engine vllm needs vllm and a CUDA GPU")
    assert result.stderr.count("\n") == 1
