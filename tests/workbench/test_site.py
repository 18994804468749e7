"""policyspec doc in a real headless Chromium: every page loads without errors, every
internal link resolves (file and anchor), search finds a rule, and spec text that looks
like markup or script is shown as text and runs nothing."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from typer.testing import CliRunner

from policyspec.cli import app
from tests.browser import Browser, chromium
from tests.pets import CATS
from tests.workbench.specs import DOGS, write_pets

pytestmark = pytest.mark.skipif(
    chromium() is None,
    reason="no chromium on this machine (apt-get install chromium, as make setup does)",
)
runner = CliRunner()
ATTACK = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("doc")
    hostile = DOGS.replace('"Poison first aid"', json.dumps("Poison " + ATTACK))
    old = write_pets(folder / "old", dogs__policy=DOGS.replace("    overrides C-1\n", ""))
    spec = write_pets(folder / "spec", dogs__policy=hostile)
    result = runner.invoke(app, ["doc", str(spec), "-o", str(folder / "site"), "--since", str(old)])
    assert result.exit_code == 0, result.output
    return folder / "site"


@pytest.fixture(scope="module")
def browser():
    with Browser() as opened:
        yield opened


LINKS = "Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
IDS = "Array.from(document.querySelectorAll('[id]')).map(e => e.id)"


def test_pages_load_without_errors_and_every_link_resolves(site, browser):
    pages = sorted(p.name for p in site.glob("*.html"))
    assert pages == [
        "category-cats.html",
        "category-dogs.html",
        "changes.html",
        "index.html",
        "styles.html",
    ]
    links, ids = {}, {}
    for page in pages:
        browser.open(site / page, ready="document.readyState === 'complete'")
        links[page] = browser.evaluate(LINKS)
        ids[page] = set(browser.evaluate(IDS))
    assert browser.errors == [] and browser.dialogs == []
    assert all(url.startswith("file://") for url in browser.requests), browser.requests
    checked = 0
    for page, urls in links.items():
        for url in urls:
            parsed = urlparse(url)
            target = Path(unquote(parsed.path))
            assert target.parent == site and target.name in ids, (page, url)
            if parsed.fragment:
                assert unquote(parsed.fragment) in ids[target.name], (page, url)
            checked += 1
    assert checked > 30
    assert any(url.endswith("category-cats.html#rule-C-1") for url in links["category-dogs.html"])


def test_search_finds_a_rule_and_links_to_it(site, browser):
    browser.open(site / "index.html", ready="window.__siteSearch !== undefined")
    found = browser.evaluate(
        "(() => { const q = document.getElementById('query'); q.value = 'feline harm';"
        " q.dispatchEvent(new Event('input'));"
        " return Array.from(document.querySelectorAll('#results a'))"
        ".map(a => [a.textContent, a.getAttribute('href')]); })()"
    )
    assert found == [["C-1", "category-cats.html#rule-C-1"]]
    assert browser.evaluate("window.__siteSearch('no such words anywhere')") == 0
    assert browser.errors == []


def test_spec_text_that_looks_like_markup_is_shown_as_text(site, browser):
    browser.open(site / "category-dogs.html", ready="document.readyState === 'complete'")
    title = browser.evaluate("document.querySelector('#rule-D-1 h2').textContent")
    assert ATTACK in title
    assert browser.evaluate("document.querySelectorAll('img, script:not([src])').length") == 0
    browser.open(site / "index.html", ready="window.__siteSearch !== undefined")
    assert browser.evaluate("window.__siteSearch('D-1')") == 1
    assert ATTACK in browser.evaluate("document.querySelector('#results li').textContent")
    assert browser.dialogs == [] and browser.errors == []


def test_change_log_and_an_unsafe_output_folder(site, tmp_path):
    changes = (site / "changes.html").read_text(encoding="utf-8")
    assert "Changed in meaning" in changes and 'href="category-dogs.html#rule-D-1"' in changes
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    spec = write_pets(tmp_path / "spec")
    refused = runner.invoke(app, ["doc", str(spec), "-o", str(taken)])
    assert refused.exit_code == 2 and "no site policyspec doc wrote" in refused.stderr
    assert (taken / "notes.txt").read_text() == "mine"
    inside = runner.invoke(app, ["doc", str(spec), "-o", str(spec / "site")])
    assert inside.exit_code == 0  # a new folder inside the spec holds no input
    again = runner.invoke(app, ["doc", str(spec), "-o", str(spec / "site")])
    assert again.exit_code == 0, again.output
    assert (spec / "cats.policy").read_text() == CATS  # the spec's files are untouched
