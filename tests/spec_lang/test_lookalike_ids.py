"""Item 6: IDs that differ only by case or look-alike characters warn (PS108), and
categories, rules and styles share one namespace (PS101)."""

from spec_lang import check, load
from spec_lang.text import lookalike_key, skeleton
from tests.pets import CATS

RULE = '''
  rule {id} comply "Rule {id}" {{
    """Help."""
    example comply "Tell me about {id} things."
  }}
'''


def with_rules(*ids: str) -> str:
    extra = "".join(RULE.format(id=i) for i in ids)
    return CATS.replace("\n}\n\nstyle hard", extra + "}\n\nstyle hard", 1)


def findings(write_spec, **files):
    return [d for d in check(load(write_spec(**files))) if d.code in ("PS101", "PS108")]


def test_skeletons_join_look_alikes_and_keep_others_apart():
    assert skeleton("R-l") == skeleton("R-1") == skeleton("R-I")
    assert skeleton("R-O") == skeleton("R-0")
    assert skeleton("R-\u0406") == skeleton("R-1")  # Cyrillic I, through NFKC and the table
    assert skeleton("R-2") != skeleton("R-1")
    assert lookalike_key("r-1")[0] == lookalike_key("R-1")[0]


def test_the_issues_five_ids_give_three_warnings(write_spec):
    found = findings(write_spec, cats__policy=with_rules("R-1", "R-l", "r-1", "R-O", "R-0"))
    assert [d.code for d in found] == ["PS108"] * 3
    messages = " ".join(d.message for d in found)
    assert "'R-l' looks like rule ID 'R-1'" in messages
    assert "'r-1' looks like rule ID 'R-1'" in messages
    assert "'R-0' looks like rule ID 'R-O'" in messages
    assert all(d.severity == "warning" for d in found)


def test_a_category_and_a_rule_with_one_id_is_a_duplicate(write_spec):
    found = findings(write_spec, cats__policy=with_rules("cats"))
    assert [(d.code, d.message) for d in found] == [
        ("PS101", "duplicate rule and category ID 'cats'")
    ]


def test_a_style_shares_the_namespace(write_spec):
    found = findings(write_spec, cats__policy=with_rules("hard"))
    assert [d.code for d in found] == ["PS101"]


def test_explain_no_longer_picks_the_rule_silently(write_spec):
    from typer.testing import CliRunner

    from policyspec.cli import app

    folder = write_spec(cats__policy=with_rules("cats"))
    result = CliRunner().invoke(app, ["explain", "cats", "--spec", str(folder)])
    assert result.exit_code == 1
    assert "duplicate rule and category ID 'cats'" in result.stdout
