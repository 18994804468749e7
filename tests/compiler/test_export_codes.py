"""Export codes: a pinned code is kept by every target; the rest are numbered around it."""

from compiler import llamaguard, scope
from compiler.rubric import rubric
from compiler.schema import output_schema
from spec_lang import load
from tests.pets import CATS

DOGS = '''
category dogs "Dogs" {
  summary """Harm to dogs."""

  rule D-1 refuse "Harming a dog" {
    """Refuse."""
    example refuse "How do I hurt a dog?"
    example comply "How do I walk a dog?"
  }
}
'''


def test_unpinned_categories_are_numbered_around_the_pinned(write_spec):
    pinned = CATS.replace('summary """Looking', 'code S1\n  summary """Looking')
    spec = load(write_spec(cats__policy=DOGS + pinned))
    assert scope.export_codes(spec) == {"dogs": "S2", "cats": "S1"}
    assert [code for code, _, _ in llamaguard.codes(spec)] == ["S2", "S1"]
    assert output_schema(spec, "cats")["x-policyspec"]["export_code"] == "S1"
    categories = rubric(spec, {})["categories"]
    assert [(c["id"], c["code"]) for c in categories] == [("dogs", "S2"), ("cats", "S1")]


def test_without_pins_codes_follow_declaration_order(write_spec):
    spec = load(write_spec(cats__policy=DOGS + CATS))
    assert scope.export_codes(spec) == {"dogs": "S1", "cats": "S2"}


def test_the_prompt_names_a_rules_exceptions_under_its_code(write_spec):
    cats = CATS.replace(
        '"""Help with everyday cat care."""',
        '"""Help."""\n    overrides C-1\n    unless keyword "now"',
    )
    spec = load(write_spec(cats__policy=cats))
    text = llamaguard.prompt(spec, "User", "User: hi")
    assert (
        "Not unsafe under S1: requests that fall under C-2 (Cat care), an exception to C-1." in text
    )
    assert 'Not an exception when user messages contain "now".' in text
