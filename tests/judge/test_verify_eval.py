"""`verify --judge` and `eval` with a judge's verdicts, against a real HTTP judge
(tests/judge/http_judge.py): the judgement sits beside the findings in every format,
marked as a judgement, and eval reads answers by the judge where it scored them."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from typer.testing import CliRunner

from policyspec.cli import app
from tests.judge.conftest import refusals_then
from tests.judge.test_judge import BASELINE, verdict

runner = CliRunner()


def _verify(server, runs: Path, *options: str):
    args = ["verify", str(BASELINE), str(runs), "--judge-url", server.url, "--judge-model", "m"]
    return runner.invoke(app, [*args, "--no-cache", "--backoff", "0", *options])


def test_verify_json_carries_the_judgement_without_a_report(tmp_path, serve):
    server = serve()
    result = _verify(server, refusals_then(tmp_path, "fine", "LOW-GRADE"), "--format", "json")
    assert result.exit_code == 1, result.output  # both verify; the judge fails t2
    summary = json.loads(result.stdout)
    assert summary["totals"]["failed"] == 0
    (failure,) = summary["failures"]
    judgement = failure["judgement"]
    assert failure["id"] == "t2" and failure["verdict"] == "pass"  # the verifier's
    assert judgement["verdict"] == "fail" and judgement["judge"] == f"endpoint:{server.url}#m"
    # LOW-GRADE: the judge and the confession judge both grade 2.
    assert [f["code"] for f in judgement["findings"]] == ["JG030", "JG041"]
    assert all(f["k"] == 1 and f["agreement"] == 1.0 for f in judgement["findings"])
    assert summary["judge"] == {
        "judges": [f"endpoint:{server.url}#m"],
        "judged": 2,
        "failed": 1,
        "unscored": 0,
    }


def test_verify_junit_marks_the_judge_s_findings(tmp_path, serve):
    server = serve()
    result = _verify(server, refusals_then(tmp_path, "fine", "LOW-GRADE"), "--format", "junit")
    assert result.exit_code == 1, result.output
    cases = ElementTree.fromstring(result.stdout).findall("./testsuite/testcase")
    assert [case.get("name") for case in cases] == ["t1 (line 1)", "t2 (line 2)"]
    for case in cases:
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        assert properties["judge"] == f"endpoint:{server.url}#m" and properties["judge.k"] == "1"
        assert properties["judge.agreement.answer"] == "1"
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure.get("type") == "JG030" and f"(judge endpoint:{server.url}#m)" in failure.get(
        "message"
    )
    assert "error[JG030] (judge)" in failure.text and "judged by endpoint:" in failure.text


def test_verify_text_and_report_with_an_unanswered_line(tmp_path, serve):
    server = serve("--fail-marker", "STUCK")
    report = tmp_path / "report.jsonl"
    result = _verify(
        server, refusals_then(tmp_path, "fine", "STUCK"), "--tries", "1", "-o", str(report)
    )
    assert result.exit_code == 1, result.output
    assert "error[JG002] (judge): the judge could not be asked" in result.output
    assert "2 judged by endpoint:" in result.output and "1 failed (1 unscored)" in result.output
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [line["judgement"]["verdict"] for line in lines] == ["pass", "fail"]
    assert all("findings" in line for line in lines)


def _labels(tmp_path: Path) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        "\n".join(json.dumps({"id": f"t{i}", "label": "unsafe"}) for i in (1, 2)) + "\n"
    )
    return path


def _rates(result) -> dict:
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    return {
        name: (rate["numerator"], rate["denominator"], rate["sources"])
        for name, rate in summary["rates"].items()
    }


def test_eval_reads_answers_by_the_judge_where_it_scored_them(tmp_path, serve):
    # The judge reads t1's refusal as compliance, where comply is required; t2 it never
    # answers (unscored), so t2 is read by the verifier: a refusal, as required.
    complying = verdict(answer_kind="full_compliance", required_decision="comply", grade=5)
    server = serve("--verdict", json.dumps(complying), "--fail-marker", "STUCK")
    runs, labels = refusals_then(tmp_path, "fine", "STUCK"), _labels(tmp_path)
    args = ["eval", str(BASELINE), str(runs), "--labels", str(labels), "--format", "json"]
    plain = _rates(runner.invoke(app, args))
    assert plain["not_unsafe"] == (2, 2, {"verifier": 2})
    assert plain["decision_accuracy"] == (2, 2, {"verifier": 2})

    judge = ["--judge-url", server.url, "--judge-model", "m", "--tries", "1", "--backoff", "0"]
    judged = _rates(runner.invoke(app, [*args, *judge, "--no-cache"]))
    assert judged["not_unsafe"] == (1, 2, {"judge": 1, "verifier": 1})
    assert judged["decision_accuracy"] == (1, 2, {"judge": 1, "verifier": 1})
    assert judged["style_adherence"][2] == {"verifier": 2}  # not the judge's to say

    # The same from a judge report written earlier, matched by transcript id.
    report = tmp_path / "judged.jsonl"
    written = runner.invoke(
        app, ["judge", str(BASELINE), str(runs), *judge, "--no-cache", "-o", str(report)]
    )
    assert written.exit_code == 1, written.output
    from_report = runner.invoke(app, [*args, "--judgements", str(report)])
    assert _rates(from_report) == judged
    text = runner.invoke(app, [*args[:-2], "--judgements", str(report)])
    assert "judge 1, verifier 1" in text.stdout and "2 judged (1 unscored" in text.stdout
    both = runner.invoke(app, [*args, *judge, "--judgements", str(report)])
    assert both.exit_code == 2 and "not both" in both.output
