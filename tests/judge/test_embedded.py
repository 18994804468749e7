"""End to end with the embedded model as the judge, on CPU: `policyspec judge` on one
transcript of the tiny baseline spec. Every verdict parses under its schema (or is
unscored and fails), cites only the spec's rule IDs and decisions, and a rerun is
served from the cache without loading the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import spec_lang
from policyspec.cli import app
from tests.judge.test_judge import BASELINE, transcript

pytest.importorskip("torch")
runner = CliRunner()


@pytest.mark.slow
def test_the_embedded_judge_end_to_end(tmp_path: Path, monkeypatch):
    spec = spec_lang.load(BASELINE)
    ids = {rule.id for rule in spec.rules}
    source = tmp_path / "transcripts.jsonl"
    source.write_text(json.dumps(transcript()) + "\n", encoding="utf-8")
    report, cache = tmp_path / "judged.jsonl", tmp_path / "cache"
    args = ["judge", str(BASELINE), str(source), "--judge", "embedded", "--device", "cpu"]
    args += ["--threads", "1"]  # a shared CPU: one thread is several times faster
    args += ["--cache", str(cache), "-o", str(report)]
    first = runner.invoke(app, args)
    assert first.exit_code in (0, 1), first.output
    print(first.output)
    (line,) = [json.loads(text) for text in report.read_text().splitlines()]
    judgement = line["judgement"]
    assert line["source"] == str(source) and line["line"] == 1 and line["id"] == "t1"
    assert judgement["judge"].startswith("model:smollm2-135m@") and judgement["k"] == 1
    for part in ("answer", "confession"):
        found = judgement[part]
        if found["status"] == "unscored":
            assert judgement["verdict"] == "fail"
            assert "JG001" in [f["code"] for f in judgement["findings"]]
            continue
        verdict = found["verdict"]
        cited = [o["rule"] for o in verdict.get("objectives", [])]
        cited += verdict.get("applicable_rules", []) + [
            s["rule"] for s in verdict.get("rationale", [])
        ]
        assert set(cited) <= ids, cited
        assert verdict["grade"] in range(1, 8)
        if part == "answer":
            assert verdict["required_decision"] in spec.decisions
    for finding in judgement["findings"]:
        assert finding["code"].startswith("JG") and finding["rule"] in (None, *ids)
        assert finding["judge"] == judgement["judge"] and finding["k"] == 1

    # A rerun is served from the cache: the model is not even loaded.
    from judge import backends

    def no_model(self):
        raise AssertionError("the rerun asked the model")

    monkeypatch.setattr(backends.ModelBackend, "load", no_model)
    again = runner.invoke(app, [*args[:-1], str(tmp_path / "again.jsonl")])
    assert again.exit_code == first.exit_code, again.output
    assert "1 from the cache" in again.output and "0 asked" in again.output
    rerun = json.loads((tmp_path / "again.jsonl").read_text())["judgement"]
    assert rerun["cached"] and rerun | {"cached": False} == judgement
