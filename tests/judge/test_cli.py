"""`policyspec judge` input handling: one line and exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policyspec.cli import app
from tests.judge.test_judge import BASELINE, transcript

runner = CliRunner()


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "transcripts.jsonl"
    path.write_text(json.dumps(transcript()) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ([], "give either --judge MODEL or --judge-url"),
        (["--judge", "embedded", "--judge-url", "http://x/v1"], "give either"),
        (["--judge-url", "http://127.0.0.1:9/v1"], "needs --judge-model"),
        (["--judge-url", "file:///etc/passwd", "--judge-model", "m"], "http:// or https://"),
        (["--judge-url", "http://", "--judge-model", "m"], "with a host"),
        (["--judge-url", "http://[::1/v1", "--judge-model", "m"], "with a host"),
        (["--judge", "embedded", "--aggregate", "median"], "use min, mean or majority"),
        (["--judge", "embedded", "--device", "tpu"], "unknown --device"),
        (["--judge", "/no/such/model", "--device", "cpu"], "unknown model"),
    ],
)
def test_bad_judge_options_exit_2_with_one_line(tmp_path, source, options, message):
    report = tmp_path / "judged.jsonl"
    result = runner.invoke(app, ["judge", str(BASELINE), str(source), *options, "-o", str(report)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not report.exists()


def test_the_report_never_replaces_an_input(tmp_path, source):
    args = ["judge", str(BASELINE), str(source), "--judge", "embedded", "-o", str(source)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "is also an input" in result.output


@pytest.fixture
def scripted(monkeypatch):
    """The command line's judge replaced by scripted replies (the model and endpoint paths
    have their own tests): what is tested is the command's plumbing."""
    from policyspec import judge_command
    from tests.judge.test_judge import Scripted, verdict

    backend = Scripted([json.dumps(verdict(grade=2))])
    monkeypatch.setattr(judge_command, "backend_for", lambda *args, **kw: backend)
    return backend


def test_judge_writes_one_line_per_transcript_and_reruns_from_the_cache(tmp_path, source, scripted):
    with source.open("a") as stream:
        stream.write("\n" + json.dumps(transcript() | {"id": "t2", "output": "junk"}) + "\n")
    report, cache = tmp_path / "judged.jsonl", tmp_path / "cache"
    args = ["judge", str(BASELINE), str(source), "--judge", "x", "--cache", str(cache)]
    result = runner.invoke(app, [*args, "-o", str(report)])
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [(line["line"], line["id"]) for line in lines] == [(1, "t1"), (3, "t2")]
    assert [f["code"] for f in lines[0]["judgement"]["findings"]] == ["JG030"]
    assert [f["code"] for f in lines[1]["judgement"]["findings"]] == ["JG001"]
    assert "2 transcripts judged" in result.output and "1 asked, 0 from the cache" in result.output
    again = runner.invoke(app, [*args, "-o", str(tmp_path / "again.jsonl"), "--format", "json"])
    payload = json.loads(again.stdout)
    assert payload["asked"] == 0 and payload["cached"] == 1 and scripted.calls == 2


def test_verify_with_a_judge_puts_the_judgement_beside_the_findings(tmp_path, source, scripted):
    report = tmp_path / "report.jsonl"
    args = ["verify", str(BASELINE), str(source), "--judge", "x", "--no-cache", "-o", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    (line,) = [json.loads(text) for text in report.read_text().splitlines()]
    assert "findings" in line and line["judgement"]["verdict"] == "fail"
    assert line["judgement"]["findings"][0]["code"] == "JG030"
    assert "1 judged by scripted:test: 1 failed (0 unscored)" in result.output
    stdin = runner.invoke(app, ["verify", str(BASELINE), "-", "--judge", "x"], input="{}")
    assert stdin.exit_code == 2 and "give files, not -" in stdin.output


def test_a_progress_bar_on_a_terminal(tmp_path, source, scripted, monkeypatch):
    import io

    from rich.console import Console

    from policyspec import judge_command

    stream = io.StringIO()
    monkeypatch.setattr(judge_command, "err", Console(file=stream, force_terminal=True))
    args = ["judge", str(BASELINE), str(source), "--judge", "x", "--no-cache"]
    assert runner.invoke(app, args).exit_code == 1
    assert "judging" in stream.getvalue() and "1/1" in stream.getvalue()
    quiet = io.StringIO()
    monkeypatch.setattr(judge_command, "err", Console(file=quiet, force_terminal=False))
    runner.invoke(app, args)
    assert quiet.getvalue() == ""  # not a terminal: no bar
