"""Fixtures for the compiler tests: the mini spec, a 50-rule spec, a stand-in tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest

import spec_lang
from compiler import tokens

SPECS = Path(__file__).parent / "specs"
DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def mini() -> spec_lang.Spec:
    return spec_lang.load(SPECS / "mini")


def fifty_rule_source() -> str:
    """A clean spec of five categories with ten rules each, every decision and both styles."""
    lines = ['spec big "Fifty rules" {', '  version "1.0.0"', "}", ""]
    for c in range(5):
        lines += [f'category cat{c} "Category {c}" {{', f'  summary """Summary {c}."""']
        for r in range(10):
            decision = ("comply", "safe_complete", "refuse")[r % 3]
            rule = f"C{c}-{r}"
            lines += [
                f'  rule {rule} {decision} "Rule {rule}" {{',
                f'    """Text of rule {rule}."""',
                f'    example {decision} "prompt {c} {r}"',
            ]
            if decision != "comply":
                style = "gentle" if decision == "safe_complete" else "brief"
                lines += [f'    example comply "near miss {c} {r}"', f"    style {style}"]
            lines.append("  }")
        lines += ["}", ""]
    lines += ['style gentle "Gentle" {', '  """Be kind."""', "}"]
    lines += ['style brief "Brief" {', '  """Be brief."""', "  max_sentences 2", "}"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def fifty(tmp_path_factory) -> spec_lang.Spec:
    folder = tmp_path_factory.mktemp("fifty")
    (folder / "big.policy").write_text(fifty_rule_source())
    return spec_lang.load(folder)


@pytest.fixture
def word_tokens(monkeypatch):
    """Count whitespace-separated words instead of loading a tokenizer (fast, deterministic)."""
    monkeypatch.setattr(
        tokens, "counter", lambda name=None: lambda texts: [len(t.split()) for t in texts]
    )
