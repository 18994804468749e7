"""The decision semantics: overrides, strictness, style, tie-breaks, renames, fail-closed."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec_lang import decide, load

SPEC = '''spec s "S" {}
category c "C" {
  summary """x"""
  rule A comply "a" { style plain }
  rule B safe_complete "b" { style gentle  severity low }
  rule C refuse "c" { style hard  severity medium }
  rule D refuse "d" { style firm  severity high }
  rule E comply "e" { overrides C }
  rule F comply "f" { overrides E  renamed_from OLD-F }
  rule G safe_complete "g" { overrides D }
}
category loop "Loop" {
  summary """x"""
  rule X refuse "x" { overrides Y }
  rule Y comply "y" { overrides X }
}
'''


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    folder = tmp_path_factory.mktemp("semantics")
    (folder / "s.policy").write_text(SPEC)
    return load(folder)


def test_no_rule_gives_the_default(spec):
    decided = decide(spec, [])
    assert (decided.decision, decided.style, decided.winner) == ("comply", None, None)


def test_no_rule_gives_the_default_style_when_the_spec_names_one(tmp_path):
    (tmp_path / "s.policy").write_text(
        SPEC.replace('spec s "S" {}', 'spec s "S" { default comply style plain }')
    )
    decided = decide(load(tmp_path), [])
    assert (decided.decision, decided.style, decided.winner) == ("comply", "plain", None)


def test_strictest_wins_and_brings_its_style(spec):
    decided = decide(spec, ["A", "B", "C"])
    assert (decided.decision, decided.style, decided.winner) == ("refuse", "hard", "C")


def test_severity_breaks_ties_between_equally_strict_rules(spec):
    assert decide(spec, ["C", "D"]).winner == "D"


def test_declaration_order_breaks_remaining_ties(spec):
    assert decide(spec, ["A", "E"]).winner == "A"


def test_an_exception_drops_the_rule_it_overrides(spec):
    decided = decide(spec, ["C", "E"])
    assert (decided.decision, decided.applied, decided.overridden) == ("comply", ("E",), ("C",))


def test_overrides_are_transitive(spec):
    # F overrides E, which overrides C: with F applying, C is dropped too.
    decided = decide(spec, ["C", "E", "F"])
    assert decided.applied == ("F",) and decided.overridden == ("C", "E")


def test_override_only_drops_rules_that_apply(spec):
    assert decide(spec, ["G", "C"]).decision == "refuse"  # G overrides D, not C


def test_renamed_ids_resolve(spec):
    assert decide(spec, ["OLD-F", "E"]).applied == ("F",)


def test_unknown_rule_raises(spec):
    with pytest.raises(KeyError):
        decide(spec, ["NOPE"])


def test_an_override_cycle_fails_closed(spec):
    decided = decide(spec, ["X", "Y"])
    assert decided.decision == "refuse" and decided.applied == ("X", "Y")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from("ABCDEFGXY"), max_size=8), st.randoms())
def test_order_and_repetition_do_not_matter(spec, rule_ids, random):
    shuffled = list(rule_ids) * 2
    random.shuffle(shuffled)
    assert decide(spec, shuffled) == decide(spec, rule_ids)
