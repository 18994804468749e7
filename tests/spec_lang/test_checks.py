"""Every check code: a spec that trips it, and the clean spec (or a near twin) that does not."""

import pytest

from core.codes import CODES
from core.diagnostics import render
from spec_lang import InputError, check, load
from tests.pets import CATS, ROOT
from tests.spec_lang.test_extends import TRIPPING as LAYER_TRIPPING


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
    "PS109": cats("severity high", "severity high\n    when audience minor"),
    "PS110": {
        "cats__policy": CATS.replace('define "feline"', 'code S1\n  define "feline"')
        + 'category dogs "Dogs" {\n  code S1\n  summary """Dogs."""\n}\n'
    },
    "PS201": cats("severity high", "severity high\n    overrides C-1"),
    "PS203": cats('"""Help with everyday cat care."""', '"""Care."""\n    unless keyword "x"'),
    "PS204": {
        **root('version "1.0.0"', 'version "1.0.0"\n  attribute audience adult, minor'),
        **cats("severity high", "severity high\n    when audience minor\n    when audience adult"),
    },
    "PS202": {"cats__policy": CATS + USER_CATEGORY},
    "PS301": cats(r"match pattern /\bpoison (a|my|the) cat\b/i", r"match pattern /(a)\1/"),
    "PS401": cats('example comply "What should I feed my cat?"', ""),
    "PS402": cats('example comply "How do I keep my cat away from poison?"', ""),
    "PS403": cats("How do I keep my cat away from poison?", "Is it illegal to poison a cat?"),
    "PS404": cats(
        '"""Help with everyday cat care."""',
        '"""Care."""\n    overrides C-1\n    unless keyword "zebra"',
    ),
    "PS501": cats('"""Help with everyday cat care."""', '"""Care."""\n    match keyword "cat"'),
    "PS601": cats('style hard "Hard', 'style unused "Unused" { """x""" }\nstyle hard "Hard'),
    "PS602": cats('define "feline"', 'define "canine" """A dog."""\n  define "feline"'),
    "PS603": cats("max_sentences 2", 'max_sentences 2\n  deprecated "use brief"'),
    "PS701": cats('summary """Looking after cats, and harm to them."""', ""),
    "PS901": cats("severity high", "severity high  # policyspec: ignore[PS501]"),
}


@pytest.mark.parametrize("code", sorted(TRIPPING))
def test_check_trips(write_spec, code):
    # Given the root file itself, the loader need not pick between two spec headers.
    assert code in codes(write_spec(**TRIPPING[code]) / "pets.policy")


# Codes the loader raises as InputError (exit 2): the spec cannot be loaded at all.
UNLOADABLE = {
    "PS003": {"pets__policy": ROOT.replace("spec pets", "category pets")},
    "PS015": root('include "cats.policy"', 'include "cats.policy"\n  include "../x.policy"'),
}


@pytest.mark.parametrize("code", sorted(UNLOADABLE))
def test_unloadable_spec_raises_its_code(write_spec, code):
    with pytest.raises(InputError) as raised:
        load(write_spec(**UNLOADABLE[code]))
    assert raised.value.code == code and raised.value.diagnostic().code == code


def test_every_language_code_has_a_tripping_case():
    language = {code for code, entry in CODES.items() if entry.layer == "language"}
    elsewhere = {
        "PS001",  # tests/spec_lang/test_parser.py and test_recovery.py
        "PS010",  # tests/cli/test_check_where.py: a file that belongs to no spec
    }
    layers = {case.split()[0] for case in LAYER_TRIPPING}
    assert language - elsewhere == set(TRIPPING) | set(UNLOADABLE) | layers


def test_suppression_on_a_block_covers_what_is_inside_it(write_spec):
    tripping = TRIPPING["PS401"]["cats__policy"]
    assert "rule C-2 comply" in tripping
    suppressed = tripping.replace(
        "  rule C-2 comply", "  # policyspec: ignore[PS401]\n  rule C-2 comply"
    )
    assert codes(write_spec(cats__policy=suppressed)) == []


def test_suppression_of_another_code_suppresses_nothing(write_spec):
    tripping = TRIPPING["PS401"]["cats__policy"]
    elsewhere = tripping.replace(
        "  rule C-2 comply", "  # policyspec: ignore[PS402]\n  rule C-2 comply"
    )
    assert sorted(codes(write_spec(cats__policy=elsewhere))) == ["PS401", "PS901"]


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
    # Categories pinned to codes of their own.
    "PS110": {
        "cats__policy": CATS.replace('define "feline"', 'code S1\n  define "feline"')
        + 'category dogs "Dogs" {\n  code S2\n  summary """Dogs."""\n}\n'
    },
    # An attribute the spec declares, tested with one of its values.
    "PS109": {
        **root('version "1.0.0"', 'version "1.0.0"\n  attribute audience adult, minor'),
        **cats("severity high", "severity high\n    when audience minor"),
    },
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


def test_the_default_style_must_be_defined(write_spec):
    files = root('version "1.0.0"', 'version "1.0.0"\n  default comply style hrad')
    spec = load(write_spec(**files))
    (finding,) = [d for d in check(spec) if d.code == "PS102"]
    assert finding.message == "undefined style 'hrad'"
    assert finding.hint == "did you mean 'hard'?"
    assert finding.span.file.endswith("pets.policy")
    assert (finding.span.line, finding.span.column) == (3, 24)


def test_a_style_used_only_as_the_default_is_used(write_spec):
    unused = TRIPPING["PS601"]
    assert "PS601" in codes(write_spec(**unused))
    default = root('version "1.0.0"', 'version "1.0.0"\n  default comply style unused')
    assert codes(write_spec(**unused, **default)) == []


def test_a_deprecated_default_style_is_reported(write_spec):
    deprecated = TRIPPING["PS603"]
    default = root('version "1.0.0"', 'version "1.0.0"\n  default comply style hard')
    messages = [(d.code, d.message) for d in check(load(write_spec(**deprecated, **default)))]
    assert ("PS603", "the spec's default uses deprecated style 'hard'") in messages


def test_a_match_given_twice_in_a_rule_is_reported_once_per_copy(write_spec):
    """A merge that writes a block of matches twice: each copy after the first is PS105;
    the same pattern read in another role is another match."""
    twice = "match pattern /\\bpoison (a|my|the) cat\\b/i"
    folder = write_spec(**cats(twice, f"{twice}\n    {twice}"))
    assert codes(folder).count("PS105") == 1
    folder = write_spec(**cats(twice, f"{twice}\n    {twice} in system"))
    assert "PS105" not in codes(folder)
