"""The report page in a real headless Chromium (Debian's `chromium`; `make setup` installs
it): it loads without errors and fetches nothing, its filters work, its table is virtual,
a finding's link highlights its place in the transcript, and a transcript holding script
runs none of it."""

from __future__ import annotations

import json

import orjson
import pytest

from reports import build, render
from tests.browser import Browser, chromium
from tests.reports.conftest import ATTACK
from tests.verifier.factory import batch
from verifier import Verifier
from verifier.batch import run

pytestmark = pytest.mark.skipif(
    chromium() is None,
    reason="no chromium on this machine (apt-get install chromium, as make setup does)",
)

SET_FILTER = """(function (id, value) {
  var node = document.getElementById(id);
  node.value = value;
  node.dispatchEvent(new Event(node.tagName === "INPUT" ? "input" : "change"));
  return window.__report.visible();
})"""


@pytest.fixture(scope="module")
def browser():
    with Browser() as opened:
        yield opened


@pytest.fixture
def fresh(browser):
    browser.errors.clear()
    browser.dialogs.clear()
    browser.requests.clear()
    return browser


def parsed(line: bytes) -> dict:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}


def set_filter(browser: Browser, id: str, value: str) -> int:
    return browser.evaluate(f"{SET_FILTER}({json.dumps(id)}, {json.dumps(value)})")


def page(tmp_path, report, transcripts=None, **options):
    path = tmp_path / "report.html"
    path.write_bytes(render(build(report, transcripts, **options)))
    return path


def test_loads_without_errors_and_fetches_nothing(fresh, verified, tmp_path):
    transcripts, report = verified()
    fresh.open(page(tmp_path, report, transcripts))
    fresh.pump(0.3)
    assert fresh.errors == []
    assert fresh.requests and all(url.startswith(("file:", "data:")) for url in fresh.requests)
    assert fresh.evaluate("document.getElementById('f-count').textContent") == "6 transcripts"


@pytest.fixture(scope="module")
def big(tmp_path_factory, spec):
    """2,000 synthetic transcripts (one in four faulty), verified."""
    folder = tmp_path_factory.mktemp("big")
    transcripts = folder / "runs.jsonl"
    transcripts.write_bytes(b"".join(line + b"\n" for line in batch(spec, 2000)))
    report = folder / "report.jsonl"
    run(Verifier(spec), [transcripts], report)
    records = [orjson.loads(line) for line in report.read_bytes().splitlines()]
    return transcripts, report, records


def test_filters_count_what_the_report_holds(fresh, big, tmp_path):
    transcripts, report, records = big
    fresh.open(page(tmp_path, report, transcripts))
    assert fresh.evaluate("window.__report.visible()") == 2000
    rendered = fresh.evaluate("document.querySelectorAll('#rows .row').length")
    assert 0 < rendered < 80  # virtual: only the rows in view are in the document
    failed = sum(r["verdict"] == "fail" for r in records)
    assert set_filter(fresh, "f-verdict", "fail") == failed
    with_code = [r for r in records if any(f["code"] == "VF061" for f in r["findings"])]
    assert set_filter(fresh, "f-code", "VF061") == len(with_code)  # every one fails
    assert set_filter(fresh, "f-verdict", "pass") == 0
    assert set_filter(fresh, "f-verdict", "") == len(with_code)
    assert set_filter(fresh, "f-code", "") == 2000
    transcript_of = {r["line"]: r for r in records}
    assert set_filter(fresh, "f-category", "weapons") == sum(
        parsed(text).get("category") == "weapons" for text in transcripts.read_bytes().splitlines()
    )
    assert set_filter(fresh, "f-category", "") == 2000
    assert set_filter(fresh, "f-text", "t-1999") == 1
    assert set_filter(fresh, "f-text", "") == 2000
    assert set_filter(fresh, "f-rule", "WP-9") == sum(
        any(f["rule"] == "WP-9" for f in r["findings"]) for r in transcript_of.values()
    )
    assert fresh.evaluate("document.getElementById('f-count').textContent").endswith(
        "of 2000 transcripts"
    )
    set_filter(fresh, "f-rule", "")
    fresh.evaluate("document.getElementById('scroller').scrollTop = 1e9")
    fresh.pump(0.2)
    last = fresh.evaluate("[...document.querySelectorAll('#rows .row .id')].pop().textContent")
    assert last == "t-1999"
    assert fresh.errors == []


def test_a_finding_link_highlights_its_place_in_the_transcript(fresh, verified, tmp_path):
    transcripts, report = verified()
    fresh.open(page(tmp_path, report, transcripts))
    fresh.evaluate("location.hash = 'row=1'")  # bad: decision comply where WP-2 refuses
    fresh.pump(0.2)
    links = fresh.evaluate("[...document.querySelectorAll('#detail a.path')].map(a => a.text)")
    assert "$.output.decision" in links
    fresh.evaluate(
        "[...document.querySelectorAll('#detail a.path')]"
        ".find(a => a.text === '$.output.decision').click()"
    )
    fresh.pump(0.2)
    assert fresh.evaluate("document.querySelector('#detail .hit').dataset.path") == (
        "$.output.decision"
    )
    assert fresh.evaluate("document.querySelector('#detail .hit').textContent").startswith(
        "decision: "
    )
    assert fresh.errors == []


def test_a_transcript_holding_script_runs_none_of_it(fresh, verified, tmp_path):
    transcripts, report = verified()
    fresh.open(page(tmp_path, report, transcripts))
    set_filter(fresh, "f-text", "onerror")
    fresh.evaluate("location.hash = 'row=4&path=' + encodeURIComponent('$.output.answer')")
    fresh.pump(0.5)
    assert fresh.evaluate("window.__report.visible()") == 1
    assert fresh.evaluate("typeof window.__pwned") == "undefined"
    assert fresh.dialogs == []
    assert fresh.evaluate("document.querySelectorAll('img').length") == 0
    assert fresh.evaluate("document.querySelectorAll('script').length") == 3
    shown = fresh.evaluate("document.getElementById('detail').textContent")
    assert shown.count(ATTACK) >= 3  # its ID, its prompt, its answer: shown as text
    assert fresh.errors == []


def test_a_screenshot_is_taken(fresh, verified, tmp_path):
    transcripts, report = verified()
    fresh.open(page(tmp_path, report, transcripts))
    shot = tmp_path / "report.png"
    fresh.screenshot(shot)
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and shot.stat().st_size > 10_000
