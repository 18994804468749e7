"""`policyspec generate --data-parallel N`: shards, where each worker runs, and real runs of
worker processes on the CPU (the tiny model) writing one output, killed and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler.sft_gen import requests
from runtime.data_parallel import DataParallelError, plan, shards
from spec_lang import load
from tests.runtime.conftest import save_tiny_model

ROOT = Path(__file__).resolve().parent.parent.parent
SPEC = ROOT / "tests" / "verifier" / "specs" / "baseline"
pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="workers die with the run on Linux")


@given(st.integers(0, 40), st.integers(1, 9))
def test_shards_deal_every_request_once_round_robin(count, workers):
    requests = [{"id": str(n)} for n in range(count)]
    dealt = shards(requests, workers)
    assert len(dealt) == min(workers, count)
    assert all(dealt)  # no worker is started for nothing
    assert sorted(r["id"] for part in dealt for r in part) == sorted(r["id"] for r in requests)
    assert max(map(len, dealt), default=0) - min(map(len, dealt), default=0) <= 1


def test_vllm_workers_take_consecutive_groups_of_the_visible_gpus():
    layout = plan("vllm", "cuda", 2, 2, ["3", "4", "5", "6", "7"])
    assert layout.gpus == ("3,4", "5,6")
    assert plan("transformers", "cuda", 1, 3, ["0", "1", "2"]).gpus == ("0", "1", "2")


def test_cpu_workers_share_the_cores():
    layout = plan("transformers", "cpu", 1, 2, [])
    assert layout.gpus is None
    assert layout.threads == max(1, (os.cpu_count() or 1) // 2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("vllm", "cuda", 2, 2, ["0", "1", "2"]),
            "--data-parallel 2 x --tensor-parallel-size 2 needs 4 GPUs, but 3 are visible",
        ),
        (("transformers", "cuda", 1, 2, ["0"]), "--data-parallel 2 needs 2 GPUs, but 1 is visible"),
        (("transformers", "cuda:1", 1, 2, ["0", "1"]), "--device cuda:1 names one GPU"),
    ],
)
def test_a_split_the_machine_cannot_hold_is_refused(args, message):
    with pytest.raises(DataParallelError, match="^" + message.replace("+", r"\+")):
        plan(*args)


@pytest.fixture(scope="module")
def short_folder(tmp_path_factory) -> Path:
    """The tiny model with a 256-token context: prompts without the spec, quick outputs."""
    return save_tiny_model(tmp_path_factory.mktemp("short-model"), context=256)


def command(folder: Path, output: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "policyspec", "generate", str(SPEC), "--examples", "--model",
        str(folder), "--device", "cpu", "--data-parallel", "2", "-o", str(output), *args,
    ]  # fmt: skip


def run(args: list[str]) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300
    )


def test_workers_killed_mid_run_lose_no_finished_transcript_and_a_rerun_resumes(
    short_folder, tmp_path
):
    output = tmp_path / "t.jsonl"
    args = command(short_folder, output, "--without-spec")
    run_ = subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and run_.poll() is None:
        if output.exists() and output.read_bytes().count(b"\n") >= 2:
            break
        time.sleep(0.05)
    run_.send_signal(signal.SIGKILL)  # the run's process only: its workers die with it
    run_.wait()
    time.sleep(2)
    kept = output.read_bytes()
    time.sleep(1)
    assert output.read_bytes() == kept, "a worker outlived the run"
    whole = kept[: kept.rfind(b"\n") + 1].splitlines()
    assert len(whole) >= 2
    assert all(json.loads(line)["generation"]["model"] == str(short_folder) for line in whole)

    resumed = run(args)
    assert resumed.returncode == 0, resumed.stderr
    assert "2 data-parallel workers" in resumed.stdout
    lines = output.read_bytes().splitlines()
    assert output.read_bytes().startswith(b"\n".join(whole) + b"\n")
    ids = [json.loads(line)["id"] for line in lines]
    assert sorted(ids) == sorted(r["id"] for r in requests(load(SPEC))[0])  # each once
    assert int(resumed.stdout.split("wrote ")[1].split()[0]) == len(ids) - len(whole)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "no-such-model"], " of 2: unknown model 'no-such-model': not "),
        ([], "leaving no room to generate"),  # with the spec: prompts past a 256-token context
    ],
)
def test_a_worker_that_cannot_start_stops_the_run_with_nothing_written(
    short_folder, tmp_path, args, message
):
    output = tmp_path / "t.jsonl"
    result = run(command(short_folder, output, *args))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.endswith("\n") and "\n\n" not in result.stderr
    assert "Traceback" not in result.stderr
    assert all(line.startswith("error: ") for line in result.stderr.splitlines())
    assert not output.exists() or output.read_bytes() == b""
