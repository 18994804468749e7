"""verify --jobs N: real worker processes give the report, the output and the exit code
of one process, byte for byte; a bad --jobs, a worker killed and Ctrl-C each give one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import verifier.distributed
from policyspec.cli import app
from policyspec.verify_command import _parse_jobs
from tests.verifier.factory import SPEC_DIR, batch, load_spec
from verifier.batch import run
from verifier.distributed import pool_results

ROOT = Path(__file__).resolve().parents[2]
# One of each kind of line verify reads: passing and failing transcripts, JSON cut off or
# malformed (from the factory's batch), a blank line, a line of JSON that is no transcript.
KINDS = [*batch(load_spec(), 10), b"", b"   ", b"[1, 2]", b"{oops", b'"text"']


def _mixed_file(path: Path, count: int) -> Path:
    lines = (KINDS[index * 7 % len(KINDS)] for index in range(count))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


@pytest.mark.parametrize("output_format", ["text", "json", "junit"])
def test_two_jobs_write_what_one_writes(tmp_path, output_format):
    """Over more lines than a chunk holds, so the chunks come back from both workers."""
    runs = _mixed_file(tmp_path / "runs.jsonl", 2 * verifier.distributed.POOL_CHUNK_LINES + 37)
    array = tmp_path / "array.json"
    array.write_bytes(b"[" + b",".join(KINDS[:4]) + b", 3]")
    outputs = {}
    for jobs in ("1", "2"):
        report = tmp_path / f"report-{jobs}.jsonl"
        arguments = [str(runs), str(array), "-o", str(report), "--format", output_format]
        result = CliRunner().invoke(app, ["verify", str(SPEC_DIR), *arguments, "--jobs", jobs])
        outputs[jobs] = (result.exit_code, result.stdout, report.read_bytes())
    assert outputs["2"] == outputs["1"]
    assert outputs["1"][0] == 1
    assert len(outputs["1"][2].splitlines()) == 2 * verifier.distributed.POOL_CHUNK_LINES + 37 + 5


@pytest.fixture(scope="module")
def pooled():
    """Two workers for the module, and chunks of two lines: a short file spans more chunks
    than are let in flight."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(verifier.distributed, "POOL_CHUNK_LINES", 2)
        with pool_results(SPEC_DIR, None, 2) as results:
            yield results


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(lines=[], ending=b"")  # an empty file: one result saying so
@given(
    lines=st.lists(st.sampled_from(KINDS), min_size=20, max_size=60),
    ending=st.sampled_from([b"\n", b""]),
)
def test_any_mix_of_lines_gets_the_same_report(pooled, verifier, tmp_path_factory, lines, ending):
    folder = tmp_path_factory.mktemp("mix")
    runs = folder / "runs.jsonl"
    runs.write_bytes(b"\n".join(lines) + ending)
    here, there = folder / "here.jsonl", folder / "there.jsonl"
    totals = run(verifier, [runs], here)
    assert run(verifier, [runs], there, results=pooled) == totals
    assert there.read_bytes() == here.read_bytes()


@pytest.mark.parametrize("jobs", ["-1", "two", "1.5", ""])
def test_a_bad_jobs_value_is_one_line_and_exit_2(tmp_path, jobs):
    runs = _mixed_file(tmp_path / "runs.jsonl", 3)
    result = CliRunner().invoke(app, ["verify", str(SPEC_DIR), str(runs), "--jobs", jobs])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "--jobs" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("jobs", ["0", "auto", "AUTO"])
def test_zero_or_auto_is_one_job_per_usable_cpu(jobs):
    assert _parse_jobs(jobs) == len(os.sched_getaffinity(0))


def test_jobs_and_ray_together_are_refused(tmp_path):
    runs = _mixed_file(tmp_path / "runs.jsonl", 3)
    arguments = ["verify", str(SPEC_DIR), str(runs), "--jobs", "2", "--ray", "local"]
    result = CliRunner().invoke(app, arguments)
    assert (result.exit_code, result.stderr.count("\n")) == (2, 1)


def _workers(pid: int) -> list[int]:
    """The worker processes of verify `pid`: its grandchildren (the forkserver's children;
    its other child, multiprocessing's resource tracker, has none)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    children = {child for child, parent in parents.items() if parent == pid}
    return [child for child, parent in parents.items() if parent in children]


def _verifying_from_a_pipe(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """verify --jobs 2 reading stdin, its workers busy: the pipe stays open, so it runs on."""
    tmp_path.mkdir()
    report = tmp_path / "report.jsonl"
    command = [sys.executable, "-m", "policyspec", "verify", str(SPEC_DIR), "-", "-o", str(report)]
    process = subprocess.Popen(
        [*command, "--jobs", "2"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, as a shell gives a pipeline
    )
    line = orjson.dumps(orjson.loads(KINDS[1])) + b"\n"
    deadline = time.monotonic() + 30
    while len(_workers(process.pid)) < 2 and time.monotonic() < deadline:
        process.stdin.write(line * 256)  # a chunk's worth (the pooled fixture patches that)
        process.stdin.flush()
        time.sleep(0.2)
    assert len(_workers(process.pid)) == 2, "the two workers never started"
    return process, report


def _ended_cleanly(process: subprocess.Popen, report: Path) -> tuple[int, list[str]]:
    """The exit code and stderr lines, once no report and no temporary file is left.
    Closing stdin ends the input, as a pipeline's writer would."""
    _, stderr = process.communicate(timeout=30)
    assert "Traceback" not in stderr.decode()
    assert list(report.parent.iterdir()) == []
    return process.returncode, stderr.decode().splitlines()


def test_killed_workers_are_one_line_and_no_report(tmp_path):
    process, report = _verifying_from_a_pipe(tmp_path / "out")
    # Every worker: with one left alive, it may finish all the work before the pool sees
    # the other's death, and then the report is whole and rightly written.
    for worker in _workers(process.pid):
        os.kill(worker, signal.SIGKILL)
    # More lines after the kill: work for the pool, whether or not the dead workers were busy.
    process.stdin.write(orjson.dumps(orjson.loads(KINDS[1])) + b"\n")
    code, stderr = _ended_cleanly(process, report)
    assert code == 2
    assert len(stderr) == 1 and "worker process died" in stderr[0]


def test_ctrl_c_is_one_line_and_no_report(tmp_path):
    process, report = _verifying_from_a_pipe(tmp_path / "out")
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C in a terminal: the whole group
    code, stderr = _ended_cleanly(process, report)
    assert (code, stderr) == (130, ["interrupted: no report was written"])
