"""How long the language server takes to answer, on the default spec, through a real
client over stdio (`policyspec lsp` in its own process).

    python benchmarks/lsp_latency.py [--runs 5]

Prints the median of each: diagnostics for a whole spec after an edit (from the change
notification to the published diagnostics, less the debounce), hover on a rule ID,
go to definition, completion at the start of a statement, and formatting the file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient
from pygls.uris import from_fs_path

ROOT = Path(__file__).resolve().parent.parent
FILE = ROOT / "policies" / "self_harm.policy"


async def measure(runs: int) -> dict[str, list[float]]:
    client = LanguageClient("lsp-latency", "1")
    published: asyncio.Queue = asyncio.Queue()

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        if params.uri == uri:
            published.put_nowait(time.perf_counter())

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    await client.start_io(sys.executable, "-m", "policyspec", "lsp", env=env)
    await client.initialize_async(types.InitializeParams(capabilities=types.ClientCapabilities()))
    client.initialized(types.InitializedParams())
    uri = from_fs_path(str(FILE))
    text = FILE.read_text(encoding="utf-8")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "policy", 1, text))
    )
    await published.get()
    from workbench.lsp import DEBOUNCE_SECONDS

    lines = text.split("\n")
    rule_line = next(i for i, line in enumerate(lines) if "overrides " in line)
    rule_column = lines[rule_line].index("overrides ") + len("overrides ")
    at = types.Position(rule_line, rule_column)
    document = types.TextDocumentIdentifier(uri)
    timings: dict[str, list[float]] = {}

    async def timed(name: str, request) -> None:
        started = time.perf_counter()
        await request
        timings.setdefault(name, []).append(time.perf_counter() - started)

    for version in range(2, runs + 2):
        changed = text + f"# edit {version}\n"
        started = time.perf_counter()
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangeWholeDocument(changed)],
            )
        )
        done = await published.get()
        timings.setdefault("diagnostics (whole spec)", []).append(done - started - DEBOUNCE_SECONDS)
        await timed("hover", client.text_document_hover_async(types.HoverParams(document, at)))
        await timed(
            "definition",
            client.text_document_definition_async(types.DefinitionParams(document, at)),
        )
        start_of_statement = types.Position(rule_line, lines[rule_line].index("overrides"))
        await timed(
            "completion",
            client.text_document_completion_async(
                types.CompletionParams(document, start_of_statement)
            ),
        )
        options = types.FormattingOptions(tab_size=2, insert_spaces=True)
        await timed(
            "format document",
            client.text_document_formatting_async(
                types.DocumentFormattingParams(document, options)
            ),
        )
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    timings = asyncio.run(measure(runs))
    print(f"policyspec lsp on {FILE.relative_to(ROOT)} (the default spec), median of {runs}:")
    for name, seconds in timings.items():
        print(f"  {name:<26}{1000 * statistics.median(seconds):8.1f} ms")


if __name__ == "__main__":
    main()
