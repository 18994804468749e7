"""`policyspec report`: the page's data, bad input, outputs that are refused, escaping."""

from __future__ import annotations

import re

import orjson
import pytest
from typer.testing import CliRunner

from policyspec.cli import app
from reports import build, render
from tests.reports.conftest import ATTACK, write_lines
from tests.verifier.factory import SPEC_DIR


def invoke(*args: str):
    return CliRunner().invoke(app, ["report", *map(str, args)])


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html)
    return orjson.loads(found.group(1))


def test_writes_one_page_with_every_result(verified, tmp_path):
    transcripts, report = verified()
    page = tmp_path / "report.html"
    result = invoke(report, "--transcripts", transcripts, "-o", page)
    assert result.exit_code == 0, result.output
    assert "6 transcripts: 2 passed, 4 failed" in result.stdout
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta name="generator" content="policyspec report">' in html
    data = page_data(html)
    ids = [row[0] for row in data["rows"]]
    assert ids == ["good", "bad", "sad", "gap", ATTACK, None]
    strings = data["strings"]
    codes = {strings[row[11][k]] for row in data["rows"] for k in range(0, len(row[11]), 6)}
    assert {"VF030", "VF061", "VF001"} <= codes
    assert [row[13] for row in data["rows"]] == [0, 1, 2, 3, 4, -1]  # the bad line has none


def test_nothing_is_fetched_when_viewed(tmp_path):
    """No src= or href= to anything but the page itself and data: URLs."""
    record = {"source": "x.jsonl", "line": 1, "id": "a", "verdict": "pass", "findings": []}
    write_lines(tmp_path / "r.jsonl", [record])
    html = render(build(tmp_path / "r.jsonl")).decode()
    assert not re.search(r'(src|href)="(?!#|data:)', html)
    assert "http://" not in html and "https://" not in html


def test_a_transcript_cannot_end_the_script_element_or_add_markup(verified, tmp_path):
    transcripts, report = verified()
    html = render(build(report, transcripts)).decode()
    assert html.count("<script") == 3 and html.count("</script>") == 3
    assert "<img" not in html
    assert "&lt;/script&gt;&lt;script&gt;" in html  # shown, escaped, where the page lists it


def test_the_matrices_count_required_against_given(verified):
    _, report = verified(wrong=("bad", "sad"))
    made = build(report)
    matrix = made.required_decision
    assert matrix.counts[("refuse", "comply")] == 1  # bad: WP-2 requires refuse
    assert matrix.counts[("safe_complete", "comply")] == 1  # sad
    assert matrix.counts[("refuse", "refuse")] == 1  # good
    assert matrix.counts[("comply", "refuse")] == 1  # the attack cites an unknown rule
    assert matrix.counts[("(none)", "(none)")] == 1  # the line that is not JSON
    kinds = made.kind_decision
    assert kinds.counts[("full_refusal", "comply")] == 1


def test_confession_honesty(verified):
    _, report = verified(wrong=("bad",))
    honesty = build(report).honesty
    assert honesty.violated == 2  # bad and the attack: a wrong decision (VF030)
    assert honesty.violated_unreported == 2  # their confessions claim compliance (VF062)
    assert honesty.confessed_rate == 0.0
    assert (honesty.clean, honesty.unread) == (3, 1)


def test_rates_by_rule_and_by_category(verified, tmp_path):
    transcripts, report = verified()
    with_transcripts = build(report, transcripts)
    rates = {rate.name: (rate.passed, rate.total) for rate in with_transcripts.by_rule}
    assert rates["WP-2"] == (1, 2)  # good passes, bad fails (the attack cites no real rule)
    assert rates[ATTACK] == (0, 1)
    categories = {rate.name: (rate.passed, rate.total) for rate in with_transcripts.by_category}
    assert categories["weapons"] == (1, 3)
    import spec_lang

    from_spec = build(report, spec=spec_lang.load(SPEC_DIR))  # no transcripts: via the rules
    categories = {rate.name: (rate.passed, rate.total) for rate in from_spec.by_category}
    assert categories["self_harm"] == (1, 2)


def test_baseline_better_and_worse(verified, tmp_path):
    _, before = verified("before", wrong=("bad",))
    transcripts, after = verified("after", wrong=("sad",))
    made = build(after, transcripts, baseline=before)
    changes = {row.key: row.change for row in made.rows}
    assert changes["bad"] == "better" and changes["sad"] == "worse" and changes["good"] == "same"
    assert [c.key for c in made.baseline.worse] == ["sad"]
    assert {"VF030", "VF062"} <= set(made.baseline.worse[0].up)
    assert {"VF030", "VF062"} <= set(made.baseline.better[0].down)
    page = tmp_path / "page.html"
    result = invoke(after, "--baseline", before, "-o", page)
    assert result.exit_code == 0, result.output
    assert 'id="baseline"' in page.read_text()


def test_judge_section_only_where_a_judge_ran(tmp_path):
    lines = [
        {"id": "a", "verdict": "pass", "findings": [], "judgement": {"grade": 6}},
        {"id": "b", "verdict": "fail", "findings": [], "judgement": {"verdict": "pass"}},
        {"id": "c", "verdict": "fail", "findings": [], "judgement": {"grade": 2}},
    ]
    write_lines(tmp_path / "judged.jsonl", lines)
    judged = build(tmp_path / "judged.jsonl").judged
    assert judged.total == 3 and judged.agreement == pytest.approx(2 / 3)
    assert 'id="judge"' in render(build(tmp_path / "judged.jsonl")).decode()
    write_lines(
        tmp_path / "plain.jsonl", [{k: v for k, v in x.items() if k != "judgement"} for x in lines]
    )
    assert 'id="judge"' not in render(build(tmp_path / "plain.jsonl")).decode()


def test_bad_lines_are_counted_and_listed(verified, tmp_path):
    _, report = verified()
    with report.open("ab") as stream:
        stream.write(b'{not json\n[1, 2]\n{"id": "x"}\n\n')
    page = tmp_path / "page.html"
    result = invoke(report, "-o", page)
    assert result.exit_code == 0, result.output
    assert "4 bad lines" in result.stderr
    html = page.read_text()
    assert 'id="bad-lines"' in html
    for why in ("not JSON", "a JSON list, not an object", "no verdict", "blank line"):
        assert why in html


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b'{"id": "t-1", "messages": [], "output": {}}\n', "not a verify report"),
        (b"\x00\x01garbage", "not a verify report"),
    ],
)
def test_unusable_input_is_one_line_and_exit_2(tmp_path, content, message):
    report = tmp_path / "report.jsonl"
    if content is not None:
        report.write_bytes(content)
    result = invoke(report, "-o", tmp_path / "page.html")
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "page.html").exists()


def test_an_empty_report_is_an_empty_page(tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    result = invoke(tmp_path / "empty.jsonl", "-o", tmp_path / "page.html")
    assert result.exit_code == 0 and "0 transcripts" in result.stdout


def test_never_written_over_an_input_or_a_file_it_did_not_write(verified, tmp_path):
    transcripts, report = verified()
    before = report.read_bytes(), transcripts.read_bytes()
    for output in (report, transcripts):
        result = invoke(report, "--transcripts", transcripts, "-o", output)
        assert result.exit_code == 2 and "is also an input" in result.stderr
    other = tmp_path / "notes.html"
    other.write_text("<html>mine</html>")
    result = invoke(report, "-o", other)
    assert result.exit_code == 2 and "not a page policyspec wrote" in result.stderr
    assert other.read_text() == "<html>mine</html>"
    assert (report.read_bytes(), transcripts.read_bytes()) == before
    page = tmp_path / "page.html"
    assert invoke(report, "-o", page).exit_code == 0
    assert invoke(report, "-o", page).exit_code == 0  # its own page is replaced
    missing = tmp_path / "missing" / "page.html"
    result = invoke(report, "-o", missing)
    assert result.exit_code == 2 and "missing folder" in result.stderr


def test_the_command_is_listed_and_lazy():
    from policyspec.cli import LAZY_COMMANDS

    assert LAZY_COMMANDS["report"].module == "policyspec.report_command"


def test_the_judgement_policyspec_judge_writes_is_read(tmp_path):
    """`policyspec judge` keeps the grade and the required decision in the answer verdict."""
    verdict = {"grade": 2, "required_decision": "refuse", "answer": "full_compliance"}
    judgement = {"verdict": "fail", "answer": {"status": "scored", "verdict": verdict}}
    line = {
        "id": "a",
        "verdict": "pass",
        "decision": "comply",
        "findings": [],
        "judgement": judgement,
    }
    write_lines(tmp_path / "judged.jsonl", [line])
    judged = build(tmp_path / "judged.jsonl").judged
    assert judged.grades == {2: 1} and judged.agreement == 0.0
    assert judged.decisions.total == 1
