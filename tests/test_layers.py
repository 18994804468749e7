"""Lower layers never import higher ones (docs/architecture.md draws the graph)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = {
    "core",
    "spec_lang",
    "compiler",
    "verifier",
    "runtime",
    "reports",
    "judge",
    "workbench",
    "policyspec",
    "policies",
}
# `policies` is data (the default spec's files and their path): any layer may name it.
ALLOWED = {
    "core": set(),
    "policies": set(),
    "spec_lang": {"core", "policies"},
    "compiler": {"core", "spec_lang", "policies"},
    "verifier": {"core", "spec_lang", "policies"},
    "runtime": {"core", "spec_lang", "compiler", "policies"},
    "reports": {"core", "spec_lang", "verifier", "policies"},
    "judge": {"core", "spec_lang", "compiler", "verifier", "runtime", "policies"},
    "workbench": {"core", "spec_lang", "policies"},
    "policyspec": OURS - {"policyspec"},
}


def imported_packages(package: str) -> dict[str, set[str]]:
    """Our packages each module of `package` imports, at any depth of the module."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(ROOT))] = (names & OURS) - {package}
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_only_lower_layers(package):
    for module, names in imported_packages(package).items():
        assert names <= ALLOWED[package], f"{module} imports {sorted(names - ALLOWED[package])}"


def test_importing_the_compiler_loads_neither_the_verifier_nor_the_console():
    code = "import sys, compiler; print(sorted({m.split('.')[0] for m in sys.modules}))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    for name in ("verifier", "policyspec", "rich", "typer", "torch"):
        assert f"'{name}'" not in loaded, name
