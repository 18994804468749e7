"""`policyspec lsp`: a language server for .policy files, over stdio (pygls).

Everything it says comes from the same code as the command line: the parser's
recovery and the checker for diagnostics (under the spec's lint settings), `explain`
for hover, the symbol index for definitions, references and rename, the grammar for
completion, the formatter for formatting. It reads a spec as the editor holds it:
open documents in place of their files on disk.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace.position_codec import ServerTextPosition

import spec_lang
from core import settings as core_settings
from core.codes import Severity
from core.diagnostics import Diagnostic, InputError, SourceSpan
from spec_lang.formatter import format_source
from spec_lang.loader import Spec
from spec_lang.parser import WORDS
from workbench.completion import suggestions
from workbench.explain import explain_text
from workbench.symbols import Kind, Occurrence, Role, SymbolIndex, is_identifier

DEBOUNCE_SECONDS = 0.25  # diagnostics wait this long after the last keystroke
SOURCE = "policyspec"
_SUGGESTED = re.compile(r"did you mean ((?:'[^']+'(?: or )?)+)\?")
_QUOTED = re.compile(r"'([^']+)'")
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
}


@dataclass(eq=False)
class Analysis:
    """A spec as the editor holds it: None when its root file does not parse. `sources`:
    the text of each of its files (of the file alone, when it belongs to no spec)."""

    spec: Spec | None
    sources: dict[str, str]
    load_errors: list[Diagnostic]

    @cached_property
    def index(self) -> SymbolIndex | None:
        return SymbolIndex.of(self.spec) if self.spec is not None else None


class PolicyServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("policyspec", "0.1.0")
        self.pending: dict[str, asyncio.Task] = {}
        self.published: dict[str, set[str]] = {}  # a document's URI: the files it reported on
        # Each document's spec as last read; any edit, save, open or file change empties it.
        self.analyses: dict[str, Analysis] = {}

    def forget(self) -> None:
        self.analyses.clear()

    def path_of(self, uri: str) -> str:
        return str(Path(to_fs_path(uri) or uri).resolve())

    def analyse(self, uri: str) -> Analysis:
        if uri not in self.analyses:
            self.analyses[uri] = self._read(uri)
        return self.analyses[uri]

    def _read(self, uri: str) -> Analysis:
        unsaved = {self.path_of(d.uri): d.source for d in self.workspace.text_documents.values()}
        path = self.path_of(uri)
        try:
            spec = spec_lang.load(path, unsaved=unsaved)
        except spec_lang.SpecError as error:
            return Analysis(None, dict(error.sources), list(error.diagnostics))
        except InputError as error:
            span = error.span or SourceSpan(path, 1, 1, 1, 1)
            own = {path: unsaved.get(path, "")}
            return Analysis(None, own, [Diagnostic(error.code, str(error), span)])
        return Analysis(spec, spec.sources, [])

    def lines(self, analysis: Analysis, file: str) -> list[str]:
        return analysis.sources.get(file, "").split("\n")

    def range_of(self, analysis: Analysis, span: SourceSpan) -> types.Range:
        codec = self.workspace.position_codec
        lines = self.lines(analysis, span.file)
        start = ServerTextPosition(span.line - 1, span.column - 1)
        end = ServerTextPosition(span.end_line - 1, span.end_column - 1)
        return types.Range(
            codec.position_to_client_units(lines, start), codec.position_to_client_units(lines, end)
        )

    def location(self, analysis: Analysis, span: SourceSpan) -> types.Location:
        return types.Location(from_fs_path(span.file), self.range_of(analysis, span))

    def occurrence_at(
        self, uri: str, position: types.Position
    ) -> tuple[Analysis, Occurrence | None]:
        analysis = self.analyse(uri)
        index = analysis.index
        if index is None:
            return analysis, None
        document = self.workspace.get_text_document(uri)
        at = document.position_codec.position_from_client_units(document.lines, position)
        return analysis, index.at(self.path_of(uri), at.line + 1, at.character + 1)

    async def publish(self, uri: str) -> None:
        """Check the spec this document belongs to; report on every file of it. The check
        runs on a worker thread, so hover and completion answer meanwhile."""
        analysis = self.analyse(uri)
        loop = asyncio.get_running_loop()
        findings = await loop.run_in_executor(None, self.findings, analysis, uri)
        own = self.path_of(uri)
        by_file: dict[str, list[types.Diagnostic]] = {f: [] for f in (*analysis.sources, own)}
        for finding in findings:
            span = finding.span or SourceSpan(own, 1, 1, 1, 1)
            if finding.severity in _SEVERITY:
                by_file.setdefault(span.file, []).append(self.diagnostic(analysis, finding, span))
        for file in self.published.get(uri, set()) - set(by_file):
            by_file[file] = []  # a file that left the spec keeps no stale findings
        self.published[uri] = set(by_file)
        for file, diagnostics in by_file.items():
            params = types.PublishDiagnosticsParams(from_fs_path(file), diagnostics)
            self.text_document_publish_diagnostics(params)

    def findings(self, analysis: Analysis, uri: str) -> list[Diagnostic]:
        """What `policyspec check` reports, under the spec's lint settings."""
        if analysis.spec is None:
            return analysis.load_errors
        settings = core_settings.discover(Path(self.path_of(uri)))
        return settings.apply(spec_lang.check(analysis.spec))

    def diagnostic(self, analysis: Analysis, finding: Diagnostic, span: SourceSpan):
        message = finding.message + (f"\nhelp: {finding.hint}" if finding.hint else "")
        return types.Diagnostic(
            range=self.range_of(analysis, span),
            message=message,
            severity=_SEVERITY[finding.severity],
            code=finding.code,
            source=SOURCE,
            data={"suggestions": suggested(finding.hint)},
        )

    def schedule(self, uri: str) -> None:
        """Check once the author pauses: each change restarts the wait."""
        waiting = self.pending.pop(uri, None)
        if waiting is not None:
            waiting.cancel()
        self.pending[uri] = asyncio.ensure_future(self._publish_later(uri))

    async def _publish_later(self, uri: str) -> None:
        await asyncio.sleep(DEBOUNCE_SECONDS)
        self.pending.pop(uri, None)
        await self.publish(uri)


def suggested(hint: str | None) -> list[str]:
    """The names a "did you mean" hint offers."""
    found = _SUGGESTED.search(hint or "")
    return _QUOTED.findall(found.group(1)) if found else []


server = PolicyServer()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
async def did_open(ls: PolicyServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.forget()
    await ls.publish(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
async def did_change(ls: PolicyServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.forget()
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
async def did_save(ls: PolicyServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.forget()
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
async def did_close(ls: PolicyServer, params: types.DidCloseTextDocumentParams) -> None:
    ls.forget()  # the file on disk counts again


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
async def files_changed(ls: PolicyServer, params: types.DidChangeWatchedFilesParams) -> None:
    ls.forget()


@server.feature(types.TEXT_DOCUMENT_HOVER)
def hover(ls: PolicyServer, params: types.HoverParams) -> types.Hover | None:
    analysis, found = ls.occurrence_at(params.text_document.uri, params.position)
    if found is None or analysis.spec is None:
        return None
    text = _hover_text(analysis.spec, found)
    value = f"```text\n{text}\n```"
    return types.Hover(
        types.MarkupContent(types.MarkupKind.Markdown, value),
        ls.range_of(analysis, found.span),
    )


def _hover_text(spec: Spec, found: Occurrence) -> str:
    if found.kind is Kind.DECISION:
        order = " < ".join(spec.decisions)
        if found.target not in spec.strictness:
            return f"unknown decision {found.name}; the spec's decisions are {order}"
        return f"decision {found.name}: answers {spec.answer_kinds[found.target]}\n{order}"
    if found.kind is Kind.ATTRIBUTE:
        values = spec.attributes.get(found.target)
        if values is None:
            return f"undeclared attribute {found.name}"
        return f"attribute {found.name}: {', '.join(values)} (from the conversation's metadata)"
    try:
        return explain_text(spec, found.target)
    except LookupError as error:  # a name the spec does not define: the checker says so too
        return str(error.args[0])


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: PolicyServer, params: types.DefinitionParams) -> list[types.Location]:
    analysis, found = ls.occurrence_at(params.text_document.uri, params.position)
    if found is None:
        return []
    index = analysis.index
    return [ls.location(analysis, o.span) for o in index.definitions(found)]


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def references(ls: PolicyServer, params: types.ReferenceParams) -> list[types.Location]:
    analysis, found = ls.occurrence_at(params.text_document.uri, params.position)
    if found is None:
        return []
    declared = params.context.include_declaration
    related = analysis.index.related(found)
    shown = [o for o in related if declared or o.role is not Role.DEFINITION]
    return [ls.location(analysis, o.span) for o in shown]


@server.feature(types.TEXT_DOCUMENT_RENAME)
def rename(ls: PolicyServer, params: types.RenameParams) -> types.WorkspaceEdit | None:
    analysis, found = ls.occurrence_at(params.text_document.uri, params.position)
    if found is None or found.kind is not Kind.RULE or analysis.spec is None:
        return None
    spec, new = analysis.spec, params.new_name
    if not is_identifier(new):
        raise ValueError(f"{new!r} is not a rule ID: {WORDS['RULE_ID']}")
    if spec.resolve(new) is not None:
        raise ValueError(f"the spec already has a rule {new}")
    rule = spec.rule_by_id.get(found.target)
    if rule is None:
        return None
    changes: dict[str, list[types.TextEdit]] = {}
    for occurrence in analysis.index.related(found):
        if occurrence.role is not Role.RENAMED_FROM:
            edit = types.TextEdit(ls.range_of(analysis, occurrence.span), new)
            changes.setdefault(from_fs_path(occurrence.span.file), []).append(edit)
    changes[from_fs_path(rule.span.file)].append(_renamed_from(ls, analysis, rule))
    return types.WorkspaceEdit(changes=changes)


def _renamed_from(ls: PolicyServer, analysis: Analysis, rule) -> types.TextEdit:
    """`renamed_from OLD` as the rule's last statement, so stored transcripts still resolve."""
    closing = rule.span._replace(line=rule.span.end_line, column=rule.span.end_column - 1)
    line = ls.lines(analysis, rule.span.file)[closing.line - 1]
    before = line[: closing.column - 1]
    if before.strip():  # `{ ... }` on one line: the statement goes before the brace
        text = f"renamed_from {rule.id} "
    else:
        closing = closing._replace(column=1)
        text = f"{before}  renamed_from {rule.id}\n"
    at = ls.range_of(analysis, closing._replace(end_line=closing.line, end_column=closing.column))
    return types.TextEdit(at, text)


@server.feature(
    types.TEXT_DOCUMENT_COMPLETION,
    types.CompletionOptions(trigger_characters=[" ", ","]),
)
def completion(ls: PolicyServer, params: types.CompletionParams) -> types.CompletionList:
    uri = params.text_document.uri
    document = ls.workspace.get_text_document(uri)
    offset = document.offset_at_position(params.position)
    analysis = ls.analyse(uri)
    items = [
        types.CompletionItem(
            label=s.label,
            kind=(
                types.CompletionItemKind.Keyword
                if s.kind == "keyword"
                else types.CompletionItemKind.Reference
            ),
            detail=s.detail,
            filter_text=s.label.split(" ")[0],
            insert_text=s.snippet or s.label,
            insert_text_format=(
                types.InsertTextFormat.Snippet if s.snippet else types.InsertTextFormat.PlainText
            ),
        )
        for s in suggestions(document.source, offset, analysis.spec)
    ]
    return types.CompletionList(is_incomplete=False, items=items)


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(
    ls: PolicyServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol]:
    document = ls.workspace.get_text_document(params.text_document.uri)
    tree, _ = spec_lang.parse_all(document.source, ls.path_of(document.uri))
    if tree is None:
        return []
    analysis = Analysis(None, {ls.path_of(document.uri): document.source}, [])
    return [_symbol(ls, analysis, d) for d in tree.declarations]


_SYMBOL_KINDS = {
    "spec": types.SymbolKind.Package,
    "category": types.SymbolKind.Namespace,
    "rule": types.SymbolKind.Function,
    "style": types.SymbolKind.Class,
}


def _symbol(ls: PolicyServer, analysis: Analysis, node) -> types.DocumentSymbol:
    children = [_symbol(ls, analysis, r) for r in getattr(node, "rules", ())]
    name_end = node.id_span._replace(
        end_line=node.id_span.line, end_column=node.id_span.column + len(node.id)
    )
    detail = f"{node.decision.value}: {node.title}" if node.kind == "rule" else node.title
    return types.DocumentSymbol(
        name=node.id,
        detail=detail,
        kind=_SYMBOL_KINDS[node.kind],
        range=ls.range_of(analysis, node.span),
        selection_range=ls.range_of(analysis, name_end),
        children=children,
    )


@server.feature(types.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: PolicyServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
    document = ls.workspace.get_text_document(params.text_document.uri)
    try:
        formatted = format_source(document.source, ls.path_of(document.uri))
    except spec_lang.SpecError:
        return []  # a file with syntax errors is left as it is: the diagnostics say why
    if formatted == document.source:
        return []
    lines = document.lines
    end = types.Position(len(lines), 0)
    return [types.TextEdit(types.Range(types.Position(0, 0), end), formatted)]


@server.feature(
    types.TEXT_DOCUMENT_CODE_ACTION,
    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
)
def code_actions(ls: PolicyServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    """A quick fix for every "did you mean": the misspelt name replaced by the suggestion."""
    document = ls.workspace.get_text_document(params.text_document.uri)
    actions = []
    for diagnostic in params.context.diagnostics:
        data = diagnostic.data if isinstance(diagnostic.data, dict) else {}
        target = _replaced_range(document, diagnostic.range)
        if target is None:
            continue
        for name in data.get("suggestions", []):
            edit = types.TextEdit(target, name)
            actions.append(
                types.CodeAction(
                    title=f"Change to '{name}'",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=len(data["suggestions"]) == 1,
                    edit=types.WorkspaceEdit(changes={document.uri: [edit]}),
                )
            )
    return actions


def _replaced_range(document, where: types.Range) -> types.Range | None:
    """What a suggestion replaces: the diagnostic's word, or the inside of the one string
    it spans (`include "styels.policy"`); None when it is neither."""
    if where.start.line != where.end.line:
        return None
    line = document.lines[where.start.line] if where.start.line < len(document.lines) else ""
    codec = document.position_codec
    start = codec.position_from_client_units(document.lines, where.start).character
    end = codec.position_from_client_units(document.lines, where.end).character
    text = line[start:end]
    if re.fullmatch(r"[^\s\"]+", text):
        return where
    strings = list(re.finditer(r'"([^"\\]*)"', text))
    if len(strings) != 1:
        return None
    inside = (start + strings[0].start(1), start + strings[0].end(1))
    row = where.start.line
    to_client = codec.position_to_client_units
    return types.Range(
        to_client(document.lines, ServerTextPosition(row, inside[0])),
        to_client(document.lines, ServerTextPosition(row, inside[1])),
    )


def serve() -> None:
    server.start_io()
