"""`policyspec lsp` driven by pygls's real LanguageClient over stdio: one server process
for the module, each test on its own copy of the spec's files."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("pygls")

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

from tests.pets import CATS
from tests.workbench.specs import DOGS, write_pets

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 30


class Session:
    """A LanguageClient on an event loop of its own thread; the tests call it synchronously."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = LanguageClient("policyspec-tests", "1")
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self.versions: dict[str, int] = {}

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def published(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)

    def call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT)

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.call(self.client.start_io(sys.executable, "-m", "policyspec", "lsp", env=env))
        params = types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=None)
        self.call(self.client.initialize_async(params))
        self.client.initialized(types.InitializedParams())

    def stop(self) -> None:
        self.call(self.client.shutdown_async(None))
        self.client.exit(None)
        self.call(self.client.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)

    def open(self, path: Path) -> str:
        uri = from_fs_path(str(path))
        self.diagnostics.pop(uri, None)
        self.versions[uri] = 1
        document = types.TextDocumentItem(uri, "policy", 1, path.read_text(encoding="utf-8"))
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(document))
        return uri

    def type_text(self, uri: str, text: str) -> None:
        """Replace the document's text, as an editor sends each keystroke."""
        self.diagnostics.pop(uri, None)
        self.versions[uri] += 1
        change = types.TextDocumentContentChangeWholeDocument(text)
        document = types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri])
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(document, [change]))

    def wait_diagnostics(self, uri: str) -> list[types.Diagnostic]:
        deadline = time.monotonic() + TIMEOUT
        while uri not in self.diagnostics:
            assert time.monotonic() < deadline, f"no diagnostics for {uri}"
            time.sleep(0.02)
        return self.diagnostics[uri]


@pytest.fixture(scope="module")
def session():
    session = Session()
    session.start()
    yield session
    session.stop()


@pytest.fixture
def pets(tmp_path) -> Path:
    return write_pets(tmp_path / "pets")


def at(uri: str, line: int, character: int) -> dict:
    return {
        "text_document": types.TextDocumentIdentifier(uri),
        "position": types.Position(line, character),
    }


def position_of(path: Path, needle: str, nth: int = 0) -> tuple[int, int]:
    """0-based line and column of the `nth` occurrence of `needle` in the file."""
    text = path.read_text(encoding="utf-8")
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def test_diagnostics_as_the_author_types(session, pets):
    uri = session.open(pets / "cats.policy")
    assert session.wait_diagnostics(uri) == []
    misspelt = CATS.replace("style hard\n", "style hrad\n")
    session.type_text(uri, misspelt[:-40])
    session.type_text(uri, misspelt)  # keystrokes within the debounce: one check, of the last
    (undefined,) = [d for d in session.wait_diagnostics(uri) if d.severity == 1]
    assert undefined.code == "PS102"  # the checker's finding
    assert (undefined.range.start.line, undefined.range.start.character) == (6, 10)
    assert undefined.data["suggestions"] == ["hard"]
    broken = CATS.replace("severity high", "severity {").replace("max_sentences 2", "max 2")
    session.type_text(uri, broken)
    found = session.wait_diagnostics(uri)
    # every syntax error in the file, from the parser's recovery (the file is checked no
    # further: what recovery left out would only echo as other findings)
    assert [(d.code, d.range.start.line) for d in found] == [
        ("PS001", 7),
        ("PS001", 8),
        ("PS001", 21),
    ]
    session.type_text(uri, CATS)
    assert session.wait_diagnostics(uri) == []


def quick_fixes(session, uri: str, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
    context = types.CodeActionContext(diagnostics=[diagnostic])
    params = types.CodeActionParams(types.TextDocumentIdentifier(uri), diagnostic.range, context)
    return session.call(session.client.text_document_code_action_async(params))


def test_quick_fix_for_every_did_you_mean(session, pets):
    uri = session.open(pets / "cats.policy")
    session.wait_diagnostics(uri)
    session.type_text(uri, CATS.replace("style hard\n", "style hrad\n"))
    undefined = next(d for d in session.wait_diagnostics(uri) if d.code == "PS102")
    actions = quick_fixes(session, uri, undefined)
    assert [a.title for a in actions] == ["Change to 'hard'"]
    (edit,) = actions[0].edit.changes[uri]
    assert edit.new_text == "hard" and edit.range == undefined.range
    session.type_text(uri, CATS.replace("severity high", "severty high"))
    (misspelt,) = session.wait_diagnostics(uri)
    assert misspelt.code == "PS001"  # a keyword, from the parser
    (action,) = quick_fixes(session, uri, misspelt)
    (edit,) = action.edit.changes[uri]
    assert (edit.new_text, edit.range.start.line, edit.range.start.character) == ("severity", 7, 4)
    assert edit.range.end.character == 4 + len("severty")


def test_hover_says_what_explain_says(session, pets):
    uri = session.open(pets / "dogs.policy")
    line, column = position_of(pets / "dogs.policy", "C-1")
    hover = session.call(
        session.client.text_document_hover_async(types.HoverParams(**at(uri, line, column + 1)))
    )
    assert "rule C-1: Harming a feline" in hover.contents.value
    assert "overridden by  D-1" in hover.contents.value


def test_definition_and_references_cross_files(session, pets):
    uri = session.open(pets / "dogs.policy")
    line, column = position_of(pets / "dogs.policy", "overrides C-1")
    params = types.DefinitionParams(**at(uri, line, column + len("overrides ")))
    (found,) = session.call(session.client.text_document_definition_async(params))
    assert found.uri == from_fs_path(str(pets / "cats.policy"))
    assert found.range.start == types.Position(*position_of(pets / "cats.policy", "C-1"))
    context = types.ReferenceContext(include_declaration=True)
    params = types.ReferenceParams(**at(uri, line, column + len("overrides ")), context=context)
    where = session.call(session.client.text_document_references_async(params))
    lines = sorted((Path(w.uri).name, w.range.start.line) for w in where)
    cites = position_of(pets / "dogs.policy", "cites C-1")[0]
    assert lines == [("cats.policy", 4), ("dogs.policy", line), ("dogs.policy", cites)]


def test_completion_offers_names_and_statement_shapes(session, pets):
    uri = session.open(pets / "dogs.policy")
    typed = DOGS.replace("    overrides C-1\n", "    overrides \n")
    session.type_text(uri, typed)
    line, column = position_of(pets / "dogs.policy", "overrides C-1")
    params = types.CompletionParams(**at(uri, line, column + len("overrides ")))
    items = session.call(session.client.text_document_completion_async(params)).items
    assert {i.label for i in items} == {"C-1", "C-2", "D-1"}
    typed = DOGS.replace("    overrides C-1\n", "    \n")
    session.type_text(uri, typed)
    params = types.CompletionParams(**at(uri, line, 4))
    items = session.call(session.client.text_document_completion_async(params)).items
    labels = {i.label for i in items}
    assert {'match keyword "…"', "example DECISION { }", "severity SEVERITY"} <= labels
    assert 'rule RULE_ID DECISION "…" { }' not in labels  # a rule is not a rule's statement
    example = next(i for i in items if i.label == "example DECISION { }")
    assert example.insert_text == "example ${1:DECISION} {\n\t$0\n}"


def test_rename_a_rule_everywhere_and_record_the_old_id(session, pets):
    uri = session.open(pets / "cats.policy")
    line, column = position_of(pets / "cats.policy", "C-1")
    params = types.RenameParams(**at(uri, line, column), new_name="C-10")
    edit = session.call(session.client.text_document_rename_async(params))
    for file_uri, edits in edit.changes.items():
        path = Path(file_uri.removeprefix("file://"))
        path.write_text(apply(path.read_text(encoding="utf-8"), edits), encoding="utf-8")
    cats = (pets / "cats.policy").read_text(encoding="utf-8")
    dogs = (pets / "dogs.policy").read_text(encoding="utf-8")
    assert 'rule C-10 refuse "Harming a feline"' in cats
    assert "    renamed_from C-1\n  }" in cats
    assert "overrides C-10" in dogs and "cites C-10" in dogs
    from policyspec.console import diagnose

    assert diagnose(pets).findings == []


def test_document_symbols_and_formatting(session, pets):
    uri = session.open(pets / "cats.policy")
    params = types.DocumentSymbolParams(types.TextDocumentIdentifier(uri))
    symbols = session.call(session.client.text_document_document_symbol_async(params))
    assert [(s.name, [c.name for c in s.children or []]) for s in symbols] == [
        ("cats", ["C-1", "C-2"]),
        ("hard", []),
    ]
    session.type_text(uri, CATS.replace("  rule C-2", "rule   C-2"))
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)
    params = types.DocumentFormattingParams(types.TextDocumentIdentifier(uri), options)
    (edit,) = session.call(session.client.text_document_formatting_async(params))
    assert edit.new_text == CATS


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP edits (ASCII text: columns are characters) from the last to the first."""
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    ordered = sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))
    for edit in reversed(ordered):
        start = offsets[edit.range.start.line] + edit.range.start.character
        end = offsets[edit.range.end.line] + edit.range.end.character
        text = text[:start] + edit.new_text + text[end:]
    return text


def test_two_specs_open_keep_their_own_findings(session, tmp_path):
    first = write_pets(
        tmp_path / "first", cats__policy=CATS.replace("style hard\n", "style hrad\n")
    )
    second = write_pets(tmp_path / "second")
    broken = session.open(first / "cats.policy")
    assert [d.code for d in session.wait_diagnostics(broken)] == ["PS102", "PS601"]
    clean = session.open(second / "cats.policy")
    assert session.wait_diagnostics(clean) == []
    session.type_text(clean, CATS + "\n")
    assert session.wait_diagnostics(clean) == []
    assert [d.code for d in session.diagnostics[broken]] == ["PS102", "PS601"]
