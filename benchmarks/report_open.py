"""How fast a report page opens in headless Chromium, at 100,000 transcripts.

Writes LINES synthetic transcripts (tests/verifier/factory.py: one in four faulty),
verifies them into a report, renders the page with and without --transcripts, and
opens each RUNS times in Debian's headless Chromium (tests/browser.py, the DevTools
protocol over a pipe). Prints, as medians:

- render: `reports.build` + `reports.render` (what `policyspec report` spends), and the
  page's size;
- open: from navigation start to the table drawn and usable (the page's own
  performance.now() when its script is done: HTML parsed, data parsed, first rows drawn);
- script: the page script's own time (JSON.parse of the data, filters, first draw);
- filter: setting the verdict filter, and a text search over every row (the first
  search also builds the search text);
- the transcript view: opening one transcript (the first one splits the embedded
  transcripts).

    python benchmarks/report_open.py [--lines 100000] [--runs 5] [--screenshot docs/report.png]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from reports import build, render  # noqa: E402
from tests.browser import Browser, chromium  # noqa: E402
from tests.verifier.factory import batch, load_spec  # noqa: E402
from verifier import Verifier  # noqa: E402
from verifier.batch import run  # noqa: E402

FILTER = """(async function () {
  var node = document.getElementById("f-verdict"), started = performance.now();
  node.value = "fail"; node.dispatchEvent(new Event("change"));
  var verdict = performance.now() - started;
  var text = document.getElementById("f-text"); started = performance.now();
  text.value = "unknown rule"; text.dispatchEvent(new Event("input"));
  var search = performance.now() - started; started = performance.now();
  await window.__report.show(window.__report.rows - 2, "$.output.decision");
  var show = performance.now() - started;
  node.value = ""; node.dispatchEvent(new Event("change"));
  text.value = ""; text.dispatchEvent(new Event("input"));
  return [verdict, search, show];
})()"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--screenshot", type=Path, help="also write a screenshot of the page")
    args = parser.parse_args()
    if chromium() is None:
        sys.exit("no chromium on this machine: apt-get install chromium")
    spec = load_spec()
    folder = Path(tempfile.mkdtemp(prefix="report-open-"))
    transcripts, report = folder / "runs.jsonl", folder / "report.jsonl"
    with transcripts.open("wb") as stream:
        stream.writelines(line + b"\n" for line in batch(spec, args.lines))
    run(Verifier(spec), [transcripts], report)
    print(
        f"{args.lines:,} transcripts, {transcripts.stat().st_size / 1e6:.1f} MB; report "
        f"{report.stat().st_size / 1e6:.1f} MB; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; medians of {args.runs}"
    )
    pages = {}
    for name, given in (("report only", None), ("with --transcripts", transcripts)):
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            page = render(build(report, given))
            times.append(time.perf_counter() - started)
        path = folder / f"{name.split()[0]}.html"
        path.write_bytes(page)
        pages[name] = path
        print(f"render, {name}: {statistics.median(times):.2f} s, page {len(page) / 1e6:.1f} MB")
    with Browser() as browser:
        for name, path in pages.items():
            opened, script, wall, verdict, search, show = [], [], [], [], [], []
            for _ in range(args.runs):
                browser.call("Page.navigate", url="about:blank")
                wall.append(browser.open(path))
                opened.append(browser.evaluate("window.__reportReady"))
                script.append(browser.evaluate("window.__reportScriptMs"))
                times = browser.evaluate(FILTER)
                verdict.append(times[0])
                search.append(times[1])
                show.append(times[2])
            assert browser.errors == [], browser.errors
            med = statistics.median
            print(
                f"open, {name}: {med(opened) / 1000:.2f} s to a usable table "
                f"(script {med(script):.0f} ms; wall from navigate, polled: {med(wall):.2f} s); "
                f"verdict filter {med(verdict):.0f} ms, text search {med(search):.0f} ms, "
                f"a transcript shown {med(show):.0f} ms"
            )
        if args.screenshot:
            browser.call("Page.navigate", url="about:blank")
            browser.open(pages["with --transcripts"])
            browser.evaluate(
                "location.hash = 'row=0&path=' + encodeURIComponent('$.output.decision')"
            )
            browser.pump(0.5)
            browser.screenshot(args.screenshot, full_page=True)
            print(f"screenshot: {args.screenshot}")


if __name__ == "__main__":
    main()
