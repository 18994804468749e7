"""Tool calls in the language: declarations, `match tool`, `call` in examples, and fmt."""

import json

from hypothesis import given
from hypothesis import strategies as st

from spec_lang import Matchers, check, evaluate_examples, load, parse
from spec_lang.formatter import format_source
from spec_lang.matchers import arguments_text
from tests.pets import CATS, ROOT

TOOLS = ROOT.replace(
    'version "1.0.0"',
    'version "1.0.0"\n  tool feeder "Set the automatic feeder" arguments grams, time',
)
FEEDER = '''
category feeding "Feeding" {
  summary """The automatic feeder."""

  rule F-1 refuse "Overfeeding" {
    """Never set the feeder above 100 grams a meal."""
    match tool feeder pattern /^grams: ([1-9][0-9]{3,}|[2-9][0-9]{2}|1[0-9][1-9]|1[1-9]0)$/m
    example refuse {
      user "Feed her a lot tonight."
      call feeder """{"grams": 500, "time": "18:00"}"""
    }
    example comply {
      user "Feed her at six."
      call feeder """{"grams": 60, "time": "18:00"}"""
    }
  }
}
'''


def write(write_spec, root: str = TOOLS, feeder: str = FEEDER):
    return write_spec(pets__policy=root, cats__policy=CATS + feeder)


def test_a_spec_with_tools_checks_clean_and_its_call_examples_pass(write_spec):
    spec = load(write(write_spec))
    assert [d.code for d in check(spec)] == []
    assert list(spec.tools) == ["feeder"]
    results = [r for r in evaluate_examples(spec, Matchers.for_spec(spec)) if r.rule.id == "F-1"]
    assert [(r.expected, r.fired, r.passed) for r in results] == [
        ("refuse", ("F-1",), True),
        ("comply", (), True),
    ]


def test_an_undeclared_tool_is_an_undefined_reference(write_spec):
    findings = check(load(write(write_spec, feeder=FEEDER.replace("tool feeder", "tool fedeer"))))
    (found,) = [d for d in findings if d.code == "PS102"]
    assert "undefined tool 'fedeer'" in found.message and "feeder" in found.hint


def test_without_declared_tools_a_matcher_names_its_own(write_spec):
    spec = load(write(write_spec, root=ROOT))
    assert not spec.tools and [d.code for d in check(spec)] == []


def test_every_call_form_and_a_tool_message_round_trip():
    text = (
        'spec s "S" {\n  tool shell "Run" arguments command\n  tool ping "Ping"\n}\n\n'
        'category c "C" {\n  rule R-1 refuse "R" {\n    match tool ping\n'
        '    match tool shell keyword "sudo"\n    match tool shell pattern /rm -rf/\n'
        '    example refuse {\n      user "x"\n      call shell """{"command": "sudo rm"}"""\n'
        '      tool "done"\n      cites R-1\n    }\n  }\n}\n'
    )
    assert format_source(text) == text
    rule = parse(text).declarations[1].rules[0]
    assert [m.keyword for m in rule.tool_matches] == [None, "sudo", None]
    assert rule.examples[0].calls[0].arguments == '{"command": "sudo rm"}'


ARGUMENTS = st.dictionaries(
    st.from_regex(r"[a-z_]{1,8}", fullmatch=True),
    st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none()),
    max_size=4,
)


@given(ARGUMENTS)
def test_arguments_read_the_same_as_json_text_or_as_an_object(arguments):
    text = arguments_text(arguments)
    assert arguments_text(json.dumps(arguments)) == text
    assert len(text.splitlines()) >= len(arguments) or not arguments
    for name, value in arguments.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        assert f"{name}: {shown}" in text
