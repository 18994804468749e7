"""Layers: a spec built on a base with `extends`, and the static checks of what a layer may do."""

from pathlib import Path

import pytest

from spec_lang import check, decide, load
from spec_lang.formatter import format_source
from tests.pets import CATS, ROOT

# The pets spec as a base whose cat-harm rule a deployment may adjust, down to safe_complete.
BASE_CATS = CATS.replace(
    "    style hard\n    severity high\n",
    "    style hard\n    severity high\n    authority developer\n    floor safe_complete\n",
)

LAYER = '''spec shelter "Pets, for an animal shelter" {
  version "0.1.0"
  extends "../base"
}

category shelter "Shelter work" {
  summary """What shelter staff may ask about cats in their care."""

  rule SHL-1 safe_complete "Euthanasia of a shelter cat" {
    """Staff may ask how humane euthanasia is done; answer with care, give no method for harm."""
    overrides C-1
    match keyword "euthanize a cat"
    example safe_complete "How do vets euthanize a cat humanely?"
    example comply "How old is a cat at ten in human years?"
  }
}
'''


def write_layer(tmp_path: Path, layer: str = LAYER, base_cats: str = BASE_CATS) -> Path:
    base = tmp_path / "base"
    base.mkdir(exist_ok=True)
    (base / "pets.policy").write_text(ROOT, encoding="utf-8")
    (base / "cats.policy").write_text(base_cats, encoding="utf-8")
    folder = tmp_path / "layer"
    folder.mkdir(exist_ok=True)
    (folder / "shelter.policy").write_text(layer, encoding="utf-8")
    return folder


def codes(folder: Path) -> list[str]:
    return [d.code for d in check(load(folder))]


def layer(old: str, new: str) -> dict:
    assert old in LAYER, old
    return {"layer": LAYER.replace(old, new)}


def base(old: str, new: str) -> dict:
    assert old in BASE_CATS, old
    return {"base_cats": BASE_CATS.replace(old, new)}


TRIPPING = {
    "PS016": layer('extends "../base"', 'extends "../nowhere"'),
    "PS017": layer('extends "../base"', 'extends "../base"\n  decisions comply < refuse'),
    "PS017 severities": layer('extends "../base"', 'extends "../base"\n  severities minor < major'),
    "PS111": layer("rule SHL-1", "rule C-2"),
    "PS205": base("    authority developer\n", ""),
    "PS206": base("floor safe_complete", "floor refuse"),
    "PS207": layer('  summary """What', '  authority platform\n  summary """What'),
}
# Near twins: the clean layer, whose exception keeps within what the base allows.
NOT_TRIPPING = {
    "PS205": {},
    "PS206": base("floor safe_complete", "floor comply"),
    "PS207": layer('  summary """What', '  authority user\n  summary """What'),
    # the base's own scales, said again
    "PS017": layer(
        'extends "../base"', 'extends "../base"\n  decisions comply < safe_complete < refuse'
    ),
}


def test_clean_layer_has_no_findings(tmp_path):
    assert codes(write_layer(tmp_path)) == []


@pytest.mark.parametrize("code", sorted(TRIPPING))
def test_layer_check_trips(tmp_path, code):
    assert code.split()[0] in codes(write_layer(tmp_path, **TRIPPING[code]))


@pytest.mark.parametrize("code", sorted(NOT_TRIPPING))
def test_layer_near_twin_does_not_trip(tmp_path, code):
    assert code not in codes(write_layer(tmp_path, **NOT_TRIPPING[code]))


def test_the_base_is_loaded_as_it_is_before_the_layer(tmp_path):
    spec = load(write_layer(tmp_path))
    assert spec.name == "shelter" and spec.version == "0.1.0"
    assert [c.id for c in spec.categories] == ["cats", "shelter"]
    assert spec.decisions == spec.base.decisions and spec.default_decision == "comply"
    assert spec.in_base(spec.rule_by_id["C-1"]) and not spec.in_base(spec.rule_by_id["SHL-1"])
    # A layer's rules speak for the developer unless they say otherwise.
    assert spec.authority("SHL-1").value == "developer"
    assert spec.authority("C-2").value == "platform"
    assert decide(spec, ["C-1", "SHL-1"]).decision == "safe_complete"


def test_a_warning_in_the_base_is_not_the_layers(tmp_path):
    unused_style = BASE_CATS + 'style spare "Spare" { """x""" }\n'
    folder = write_layer(tmp_path, base_cats=unused_style)
    assert "PS601" in codes(tmp_path / "base") and codes(folder) == []


def test_an_error_that_stops_the_base_loading_is_the_layers_too(tmp_path):
    folder = write_layer(tmp_path)
    (tmp_path / "base" / "pets.policy").write_text(
        ROOT.replace('include "cats.policy"', 'include "cats.policy"\n  include "dogs.policy"')
    )
    assert "PS012" in codes(folder)


def test_a_spec_built_on_itself_is_a_cycle(tmp_path):
    folder = write_layer(tmp_path)
    (tmp_path / "base" / "pets.policy").write_text(
        ROOT.replace('version "1.0.0"', 'version "1.0.0"\n  extends "../layer"')
    )
    found = [d for d in check(load(folder)) if d.code == "PS016"]
    assert found and "cycle" in found[0].message


def test_fmt_round_trips_a_layer():
    assert format_source(LAYER) == LAYER
