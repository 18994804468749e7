"""An endpoint that fails: retried with backoff, bounded in flight, and, when it still
fails, one unscored result (JG002) for that transcript while the run goes on.

Against real HTTP: a port nobody listens on, and a real server process
(tests/judge/http_judge.py) that answers 500, 429, 503 or 401 on purpose.
"""

from __future__ import annotations

import json
import time
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policyspec.cli import app
from tests.judge.conftest import free_port, refusals_then
from tests.judge.test_judge import BASELINE

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def _judge(url: str, source: Path, report: Path, *options: str):
    args = ["judge", str(BASELINE), str(source), "--judge-url", url, "--judge-model", "m"]
    return runner.invoke(app, [*args, "--backoff", "0", *options, "-o", str(report)])


def _report(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_an_unreachable_endpoint_gives_each_line_an_unscored_result(tmp_path):
    source, report = refusals_then(tmp_path, "a", "b"), tmp_path / "judged.jsonl"
    url = f"http://127.0.0.1:{free_port()}/v1"
    result = _judge(url, source, report, "--no-cache", "--tries", "2")
    assert result.exit_code == 1, result.output
    lines = _report(report)
    assert [line["line"] for line in lines] == [1, 2]
    for line in lines:
        judgement = line["judgement"]
        assert judgement["verdict"] == "fail" and judgement["status"] == "unscored"
        (finding,) = judgement["findings"]
        assert finding["code"] == "JG002" and finding["severity"] == "error"
        assert "no reply after 2 tries" in finding["message"]
    assert "2 failed (2 unscored, 2 of them not answered)" in result.output


@pytest.mark.parametrize("status", [500, 429])
def test_transient_errors_are_retried(tmp_path, serve, status):
    server = serve("--fail-first", "2", "--status", str(status))
    source, report = refusals_then(tmp_path, "a"), tmp_path / "judged.jsonl"
    result = _judge(server.url, source, report, "--no-cache", "--tries", "3")
    assert result.exit_code == 0, result.output
    assert _report(report)[0]["judgement"]["verdict"] == "pass"
    assert server.stats()["requests"] == 4  # 2 failed, then the judge and the confession judge


def test_retries_back_off_exponentially(tmp_path, serve):
    server = serve("--fail-first", "3", "--status", "500")
    source, report = refusals_then(tmp_path, "a"), tmp_path / "judged.jsonl"
    result = _judge(server.url, source, report, "--no-cache", "--tries", "4", "--backoff", "0.3")
    assert result.exit_code == 0, result.output
    times = server.stats()["times"]
    first, second, third = [later - earlier for earlier, later in pairwise(times[:4])]
    # urllib3: no wait before the 2nd try, then backoff * 2, backoff * 4 (+ up to backoff).
    assert first < second and 0.6 <= second < third and 1.2 <= third < 5


def test_errors_that_persist_fail_one_line_and_a_rerun_asks_only_for_it(tmp_path, serve):
    source = refusals_then(tmp_path, "a", "STUCK", "c")
    report, cache = tmp_path / "judged.jsonl", str(tmp_path / "cache")
    port = str(free_port())
    flaky = serve("--port", port, "--fail-marker", "STUCK")
    result = _judge(flaky.url, source, report, "--cache", cache, "--tries", "2")
    assert result.exit_code == 1, result.output
    lines = _report(report)
    assert [line["judgement"]["verdict"] for line in lines] == ["pass", "fail", "pass"]
    assert [f["code"] for f in lines[1]["judgement"]["findings"]] == ["JG002"]
    assert "HTTP 503 after 2 tries" in result.output
    assert flaky.stats()["requests"] == 2 + 2 + 2  # a, c: both judges; STUCK: 2 tries
    flaky.stop()

    # The endpoint is back, at the same URL (the cache keys the judge by URL and model):
    # a rerun asks only about the line that failed, and the report is whole again.
    healthy = serve("--port", port)
    again = _judge(healthy.url, source, report, "--cache", cache, "--format", "json")
    assert again.exit_code == 0, again.output
    payload = json.loads(again.stdout)
    assert (payload["asked"], payload["cached"], payload["failed"]) == (1, 2, 0)
    assert healthy.stats()["requests"] == 2
    assert [line["judgement"]["cached"] for line in _report(report)] == [True, False, True]


def test_requests_in_flight_are_bounded(tmp_path, serve):
    server = serve("--delay", "0.3")
    source = refusals_then(tmp_path, *"abcdef")
    report = tmp_path / "judged.jsonl"
    started = time.monotonic()
    result = _judge(server.url, source, report, "--no-cache", "--concurrency", "3")
    assert result.exit_code == 0, result.output
    assert server.stats()["max_in_flight"] == 3 and server.stats()["requests"] == 12
    assert time.monotonic() - started < 12 * 0.3  # in parallel, not one after another
    assert [line["id"] for line in _report(report)] == [f"t{i}" for i in range(1, 7)]


def test_a_key_the_server_demands_is_a_usage_error(tmp_path, serve, monkeypatch):
    server = serve("--key", "sesame")
    source, report = refusals_then(tmp_path, "a"), tmp_path / "judged.jsonl"
    monkeypatch.delenv("POLICYSPEC_JUDGE_API_KEY", raising=False)
    result = _judge(server.url, source, report, "--no-cache")
    assert result.exit_code == 2 and "POLICYSPEC_JUDGE_API_KEY" in result.output
    assert not report.exists() and server.stats()["requests"] == 1  # a 401 is not retried
    monkeypatch.setenv("POLICYSPEC_JUDGE_API_KEY", "sesame")
    assert _judge(server.url, source, report, "--no-cache").exit_code == 0


def test_a_reply_too_slow_times_out_and_is_unscored(tmp_path, serve):
    server = serve("--delay", "1.5")
    source, report = refusals_then(tmp_path, "a"), tmp_path / "judged.jsonl"
    result = _judge(server.url, source, report, "--no-cache", "--tries", "1", "--timeout", "1")
    assert result.exit_code == 1, result.output
    (finding,) = _report(report)[0]["judgement"]["findings"]
    assert finding["code"] == "JG002" and "timed out" in finding["message"]
