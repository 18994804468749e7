"""`policyspec lsp`: the language server, imported only when it runs (it needs pygls)."""

from __future__ import annotations

from policyspec.console import fail_input


def lsp() -> None:
    """Run the language server for .policy files on stdin and stdout (LSP).

    Diagnostics as you type, hover, go to definition, references, completion, rename,
    symbols, formatting and quick fixes. Editors start it; see editors/vscode/.
    Example: policyspec lsp
    """
    try:
        from workbench.lsp import serve
    except ImportError as error:
        fail_input(f"the language server needs pygls ({error}); pip install 'policyspec[lsp]'")
    serve()
