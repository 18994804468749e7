"""The symbol index behind definitions, references, rename and hover: every kind of name,
across files, on the spec the language server and the site read."""

from __future__ import annotations

from pathlib import Path

import pytest

import spec_lang
from tests.workbench.specs import DOGS, write_pets
from workbench.symbols import Kind, Role, SymbolIndex, is_identifier

ROOT = Path(__file__).resolve().parents[2]


def test_a_rule_is_found_from_every_use_in_every_file(tmp_path):
    pets = write_pets(tmp_path / "pets", dogs__policy=DOGS.replace("cites C-1", "cites C-1, D-1"))
    index = SymbolIndex.of(spec_lang.load(pets))
    uses = [o for o in index.found if o.kind is Kind.RULE and o.target == "C-1"]
    assert [(Path(o.span.file).name, o.role) for o in uses] == [
        ("cats.policy", Role.DEFINITION),
        ("dogs.policy", Role.REFERENCE),  # overrides C-1
        ("dogs.policy", Role.REFERENCE),  # cites C-1
    ]
    cite = uses[2]
    at = index.at(cite.span.file, cite.span.line, cite.span.column + 1)
    assert at == cite and index.definitions(at) == [uses[0]]
    styles = {(o.name, o.role) for o in index.found if o.kind is Kind.STYLE}
    assert styles == {("hard", Role.DEFINITION), ("hard", Role.REFERENCE)}


def test_attributes_and_former_ids_are_names_too():
    index = SymbolIndex.of(spec_lang.load(ROOT / "examples" / "multilingual"))
    locale = [o for o in index.found if o.kind is Kind.ATTRIBUTE and o.target == "locale"]
    assert locale[0].role is Role.DEFINITION
    assert len(locale) > 2 and all(o.role is Role.REFERENCE for o in locale[1:])


@pytest.mark.parametrize(
    ("text", "expected"),
    [("SH-2", True), ("S2.a", True), ("self_harm", True), ("2x", False), ("a b", False)],
)
def test_identifiers_are_read_as_the_grammar_reads_them(text, expected):
    assert is_identifier(text) is expected


def test_hover_on_an_undefined_name_says_so(tmp_path):
    pytest.importorskip("pygls")
    from workbench.lsp import _hover_text

    pets = write_pets(tmp_path / "pets")
    spec = spec_lang.load(pets)
    index = SymbolIndex.of(spec)
    override = next(o for o in index.found if o.role is Role.REFERENCE and o.kind is Kind.RULE)
    assert _hover_text(spec, override).startswith("rule C-1: Harming a feline")
    unknown = override.__class__(Kind.RULE, "C-9", "C-9", override.span, Role.REFERENCE)
    assert "no rule, category or style 'C-9'" in _hover_text(spec, unknown)
