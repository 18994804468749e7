"""Every check code: a spec that trips it, and the clean spec (or a near twin) that does not."""

import pytest

from spec_lang import check, load
from spec_lang.diagnostics import render
from tests.pets import CATS, ROOT


def codes(folder) -> list[str]:
    spec = load(folder)
    return [d.code for d in check(spec)]


def test_clean_spec_has_no_findings(write_spec):
    assert codes(write_spec()) == []


def cats(old: str, new: str) -> dict:
    assert old in CATS, old
    return {"cats__policy": CATS.replace(old, new)}


def root(old: str, new: str) -> dict:
    assert old in ROOT, old
    return {"pets__policy": ROOT.replace(old, new)}


USER_CATEGORY = '''
category house "House rules" {
  authority user
  summary """Rules the user set."""
  rule H-1 comply "Anything goes" {
    """The user allows it."""
    overrides C-1
    example comply "Tell me about cat toys."
  }
}
'''

TRIPPING = {
    "PS011": root('include "cats.policy"', 'include "cats.policy"\n  include "pets.policy"'),
    "PS012": root('include "cats.policy"', 'include "cats.policy"\n  include "cat.policy"'),
    "PS013": {"stray__policy": 'category stray "Stray" { summary """x""" }'},
    "PS014": cats("category cats", 'spec other "Other" {}\ncategory cats'),
    "PS101": cats("rule C-2 comply", "rule C-1 comply"),
    "PS102": cats("style hard\n", "style hrad\n"),
    "PS103": cats("rule C-2 comply", "rule C-2 complie"),
    "PS104": cats("severity high", "severity hgih"),
    "PS105": cats("severity high", "severity high\n    severity low"),
    "PS106": root('version "1.0.0"', 'version "1.0.0"\n  decisions comply < comply'),
    "PS107": cats('"""Help with everyday cat care."""', '"""Help."""\n    renamed_from C-1'),
    "PS108": cats("rule C-2 comply", "rule C-l comply"),
    "PS201": cats("severity high", "severity high\n    overrides C-1"),
    "PS202": {"cats__policy": CATS + USER_CATEGORY},
    "PS301": cats(r"match pattern /\bpoison (a|my|the) cat\b/i", r"match pattern /(a)\1/"),
    "PS401": cats('example comply "What should I feed my cat?"', ""),
    "PS402": cats('example comply "How do I keep my cat away from poison?"', ""),
    "PS403": cats("How do I keep my cat away from poison?", "Is it illegal to poison a cat?"),
    "PS501": cats('"""Help with everyday cat care."""', '"""Care."""\n    match keyword "cat"'),
    "PS601": cats('style hard "Hard', 'style unused "Unused" { """x""" }\nstyle hard "Hard'),
    "PS602": cats('define "feline"', 'define "canine" """A dog."""\n  define "feline"'),
    "PS603": cats("max_sentences 2", 'max_sentences 2\n  deprecated "use brief"'),
    "PS701": cats('summary """Looking after cats, and harm to them."""', ""),
}


@pytest.mark.parametrize("code", sorted(TRIPPING))
def test_check_trips(write_spec, code):
    # Given the root file itself, the loader need not pick between two spec headers.
    assert code in codes(write_spec(**TRIPPING[code]) / "pets.policy")


def test_every_documented_code_has_a_tripping_case():
    import spec_lang.checker

    documented = {word for word in spec_lang.checker.__doc__.split() if word.startswith("PS")}
    assert documented - {"PS001"} == set(TRIPPING)


NOT_TRIPPING = {
    # IDs that differ by more than case or look-alike characters.
    "PS108": cats("rule C-2 comply", "rule C-12 comply"),
    # An override within one authority, from the exception to the rule it carves out of.
    "PS201": cats('"""Help with everyday cat care."""', '"""Care."""\n    overrides C-1'),
    # The same user category overriding downwards is fine when the target is a user rule.
    "PS202": {"cats__policy": CATS + USER_CATEGORY.replace("authority user", "authority platform")},
    # Overlapping matches where one rule says which wins.
    "PS501": cats(
        '"""Help with everyday cat care."""',
        '"""Care."""\n    match keyword "feed my cat"',
    ),
    # A rule with a near miss that no matcher flags.
    "PS403": cats("How do I keep my cat away from poison?", "Which plants poison cats?"),
}


@pytest.mark.parametrize("code", sorted(NOT_TRIPPING))
def test_near_twin_does_not_trip(write_spec, code):
    assert code not in codes(write_spec(**NOT_TRIPPING[code]))


def test_did_you_mean_names_the_closest_definition(write_spec):
    spec = load(write_spec(**TRIPPING["PS102"]))
    (finding,) = [d for d in check(spec) if d.code == "PS102"]
    assert finding.hint == "did you mean 'hard'?"
    assert (finding.span.line, finding.span.column) == (7, 11)
    shown = render(finding, spec.sources)
    assert "cats.policy:7:11: error[PS102]: undefined style 'hrad'" in shown
    assert "    style hrad\n" in shown and "^^^^" in shown


def test_unknown_decision_suggests_a_declared_one(write_spec):
    spec = load(write_spec(**TRIPPING["PS103"]))
    (finding,) = [d for d in check(spec) if d.code == "PS103"]
    assert finding.hint == "did you mean 'comply'?"


def test_declared_decisions_replace_the_default_order(write_spec):
    files = root('version "1.0.0"', 'version "1.0.0"\n  decisions valid < invalid')
    spec = load(write_spec(**files))
    found = {(d.code, d.message) for d in check(spec)}
    assert ("PS103", "unknown decision 'refuse'") in found
    assert spec.decisions == ("valid", "invalid")
