"""The style statement `opens /pattern/` (the answer's first sentence matches it): parsed,
formatted back, checked, and shown wherever a style's limits are."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.rubric import rubric
from spec_lang import format_file, load, parse
from spec_lang.checker import check
from workbench.explain import explain_text
from workbench.site import build_site

SPEC = '''spec s "S" {
  version "1.0.0"
  decisions comply < refuse
  default comply style urgent
}

category c "C" {
  summary """Emergencies."""

  rule C-1 refuse "Emergency" {
    """Send them to emergency services."""
    style urgent
    match keyword "xyzzy"
    example refuse "xyzzy please"
  }
}

style urgent "Urgent" {
  """The first sentence says to call emergency services."""
  opens /\\b(call|dial) 911\\b/i
  opens /now|right away/i
  require /911/
}
'''


def test_opens_reads_and_formats_back():
    tree = parse(SPEC, "s.policy")
    style = tree.declarations[-1]
    assert [str(p) for p in style.opens] == ["/\\b(call|dial) 911\\b/i", "/now|right away/i"]
    assert [str(p) for p in style.required] == ["/911/"]
    assert format_file(tree) == SPEC
    assert parse(format_file(tree), "s.policy") == tree


def test_a_pattern_re2_cannot_run_in_opens_is_a_finding(tmp_path):
    (tmp_path / "s.policy").write_text(SPEC.replace("/now|right away/i", "/(?<=a)now/"))
    found = [d for d in check(load(tmp_path / "s.policy")) if d.code == "PS301"]
    assert found and "(?<=a)now" in found[0].message, found
    (tmp_path / "s.policy").write_text(SPEC)
    assert not [d for d in check(load(tmp_path / "s.policy")) if d.code == "PS301"]


def test_the_rubric_and_explain_show_what_the_answer_opens_with(tmp_path):
    (tmp_path / "s.policy").write_text(SPEC)
    spec = load(tmp_path / "s.policy")
    criteria = rubric(spec, {})["categories"][0]["rules"][0]["criteria"]
    assert "Answer's first sentence matches /now|right away/i" in criteria
    shown = explain_text(spec, "urgent")
    assert "opens" in shown and "/\\b(call|dial) 911\\b/i" in shown
    page = build_site(spec)["styles.html"].decode()
    assert "Opens with" in page and "<code>/now|right away/i</code>" in page


def test_the_default_spec_opens_adv6_with_the_emergency_call():
    spec = load(Path(__file__).resolve().parents[2] / "policies")
    assert spec.rule_by_id["ADV-6"].style.value == "emergency_safe_completion"
    assert spec.style_by_id["emergency_safe_completion"].opens
    assert not [d for d in check(spec) if d.code == "PS301"]


@pytest.mark.parametrize("line", ["opens", "opens 911", 'opens "call 911"'])
def test_opens_without_a_pattern_is_a_syntax_error(tmp_path, line):
    (tmp_path / "s.policy").write_text(SPEC.replace("opens /now|right away/i", line))
    found = [d for d in check(load(tmp_path / "s.policy")) if d.code.startswith("PS0")]
    assert found, line
