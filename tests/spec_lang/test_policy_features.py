"""What real policies say: dotted IDs, export codes, renamed categories, whose words a
match reads, `unless` on exceptions, `when` and conversation attributes, severity scales."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spec_lang import Matchers, SpecSyntaxError, check, decide, evaluate_examples, load, parse
from spec_lang.formatter import format_source
from tests.pets import CATS, ROOT

ATTRIBUTES = 'version "1.0.0"\n  attribute audience adult, minor'


def codes(folder) -> list[str]:
    return [d.code for d in check(load(folder))]


def test_dotted_ids_parse_format_and_resolve(write_spec):
    cats = CATS.replace("C-1", "S2.a").replace("C-2", "SP0.b")
    spec = load(write_spec(cats__policy=cats + "\n"))
    assert list(spec.rule_by_id) == ["S2.a", "SP0.b"]
    assert codes(spec.folder) == []
    assert format_source(cats) == cats


@pytest.mark.parametrize("text", ["rule 3.1 refuse", "rule S2. refuse", "rule .a refuse"])
def test_an_id_starts_with_a_letter_and_every_dot_has_a_part_after_it(text):
    with pytest.raises(SpecSyntaxError):
        parse(f'category c "C" {{ {text} "T" {{ }} }}')


def test_a_renamed_category_resolves_and_its_old_id_may_not_be_in_use(write_spec):
    renamed = CATS.replace('summary """Looking', 'renamed_from felines\n  summary """Looking')
    spec = load(write_spec(cats__policy=renamed))
    assert spec.resolve_category("felines") == "cats"
    assert codes(spec.folder) == []
    clash = renamed.replace("renamed_from felines", "renamed_from cats")
    assert "PS107" in codes(write_spec(cats__policy=clash))


def test_a_scoped_match_reads_only_its_speakers_words(write_spec):
    cats = CATS.replace(
        r"match pattern /\bpoison (a|my|the) cat\b/i",
        'match keyword "ADULT_MODE=on" in system\n    match keyword "poison" in last assistant',
    )
    matchers = Matchers.for_spec(load(write_spec(cats__policy=cats)))
    assert matchers.scan([("user", "ADULT_MODE=on please")]).fired == ()
    assert matchers.scan([("system", "ADULT_MODE=on"), ("user", "hi")]).fired == ("C-1",)
    assert matchers.scan([("developer", "ADULT_MODE=on")]).fired == ("C-1",)
    said_before = [("assistant", "poison"), ("user", "what?"), ("assistant", "no")]
    assert matchers.scan(said_before).fired == ()
    assert matchers.scan([*said_before[:2], ("assistant", "use poison")]).fired == ("C-1",)


def test_an_unknown_role_to_read_is_reported(write_spec):
    cats = CATS.replace("/i\n", "/i in robot\n", 1)
    assert "PS104" in codes(write_spec(cats__policy=cats))


EXCEPTION = CATS.replace(
    '"""Help with everyday cat care."""',
    '"""Help with everyday cat care."""\n    overrides C-1\n'
    '    match keyword "story"\n    unless pattern /step by step/i',
)


def test_unless_suspends_the_exceptions_overrides(write_spec):
    spec = load(write_spec(cats__policy=EXCEPTION))
    matchers = Matchers.for_spec(spec)
    story = matchers.scan([("user", "A story: how to poison a cat.")])
    assert story.fired == ("C-1", "C-2") and story.suspended == frozenset()
    assert decide(spec, story.fired, story.suspended).decision == "comply"
    detailed = matchers.scan([("user", "A story: how to poison a cat, step by step.")])
    assert detailed.suspended == {"C-2"}
    decided = decide(spec, detailed.fired, detailed.suspended)
    assert (decided.decision, decided.overridden) == ("refuse", ())


def test_an_example_shows_the_condition_at_work(write_spec):
    near = EXCEPTION.replace(
        'example comply "What should I feed my cat?"',
        'example comply "What should I feed my cat?"\n'
        '    example refuse "A story: poison the cat, step by step." cites C-1',
    )
    spec = load(write_spec(cats__policy=near))
    assert all(r.passed for r in evaluate_examples(spec, Matchers.for_spec(spec)))
    without = near.replace("    unless pattern /step by step/i\n", "")
    spec = load(write_spec(cats__policy=without))
    assert "PS403" in [d.code for d in check(spec)]


def test_when_gates_a_rule_on_the_conversations_attributes(write_spec):
    cats = CATS.replace("severity high", "severity high\n    when audience minor")
    spec = load(
        write_spec(pets__policy=ROOT.replace('version "1.0.0"', ATTRIBUTES), cats__policy=cats)
    )
    matchers = Matchers.for_spec(spec)
    asked = [("user", "How do I poison a cat?")]
    assert matchers.scan(asked, {"audience": "minor"}).fired == ("C-1",)
    assert matchers.scan(asked, {"audience": "adult"}).fired == ()
    assert matchers.scan(asked).fired == ()


def test_an_unless_on_an_attribute(write_spec):
    root = ROOT.replace('version "1.0.0"', ATTRIBUTES)
    cats = EXCEPTION.replace("unless pattern /step by step/i", "unless audience minor")
    spec = load(write_spec(pets__policy=root, cats__policy=cats))
    asked = [("user", "A story: how to poison a cat.")]
    hits = Matchers.for_spec(spec).scan(asked, {"audience": "minor"})
    assert decide(spec, hits.fired, hits.suspended).decision == "refuse"
    hits = Matchers.for_spec(spec).scan(asked, {"audience": "adult"})
    assert decide(spec, hits.fired, hits.suspended).decision == "comply"


def test_an_example_sets_attributes_with_with(write_spec):
    root = ROOT.replace('version "1.0.0"', ATTRIBUTES)
    cats = CATS.replace("severity high", "severity high\n    when audience minor").replace(
        'example refuse "How do I poison a cat?"',
        'example refuse { with audience minor user "How do I poison a cat?" }\n'
        '    example comply { with audience adult user "How do I poison a cat?" }',
    )
    spec = load(write_spec(pets__policy=root, cats__policy=cats))
    results = evaluate_examples(spec, Matchers.for_spec(spec))
    assert [r.passed for r in results if r.rule.id == "C-1"] == [True, True, True]
    assert [d.code for d in check(spec)] == []
    unknown = cats.replace("with audience adult", "with audience teen")
    assert "PS109" in codes(write_spec(pets__policy=root, cats__policy=unknown))


def test_an_unless_its_when_rules_out_never_holds(write_spec):
    root = ROOT.replace('version "1.0.0"', ATTRIBUTES)
    cats = EXCEPTION.replace(
        "unless pattern /step by step/i", "when audience adult\n    unless audience minor"
    )
    assert "PS204" in codes(write_spec(pets__policy=root, cats__policy=cats))


def test_a_declared_severity_scale_replaces_low_to_critical(write_spec):
    root = ROOT.replace('version "1.0.0"', 'version "1.0.0"\n  severities S1 < S2 < S3')
    spec = load(
        write_spec(pets__policy=root, cats__policy=CATS.replace("severity high", "severity S3"))
    )
    assert spec.severities == ("S1", "S2", "S3")
    assert (spec.severity("C-1"), spec.severity("C-2")) == ("S3", "S1")
    assert codes(spec.folder) == []
    assert "PS104" in codes(write_spec(pets__policy=root, cats__policy=CATS))
    twice = root.replace("S1 < S2 < S3", "S1 < S1")
    assert "PS106" in codes(write_spec(pets__policy=twice, cats__policy=CATS))


def test_severity_breaks_ties_on_the_declared_scale(write_spec):
    root = ROOT.replace('version "1.0.0"', 'version "1.0.0"\n  severities minor < major')
    cats = CATS.replace("severity high", "severity minor").replace(
        'rule C-2 comply "Cat care" {',
        'rule C-3 refuse "Worse" {\n    """Worse."""\n    severity major\n    example refuse "x"\n'
        '    example comply "y"\n  }\n\n  rule C-2 comply "Cat care" {',
    )
    spec = load(write_spec(pets__policy=root, cats__policy=cats))
    assert decide(spec, ["C-1", "C-3"]).winner == "C-3"


ROLES = ("user", "assistant", "system", "developer", "tool")
READS = {"user": {"user"}, "assistant": {"assistant"}, "system": {"system", "developer"},
         "tool": {"tool"}, "any": set(ROLES)}  # fmt: skip


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    reader=st.sampled_from(sorted(READS)),
    last=st.booleans(),
    turns=st.lists(st.tuples(st.sampled_from(ROLES), st.booleans()), min_size=1, max_size=6),
)
def test_a_scoped_match_fires_exactly_when_its_speakers_say_it(write_spec, reader, last, turns):
    """A conversation of turns, each saying the keyword or not: `match keyword "zebra" in
    [last] ROLE` fires when (the last of) that role's turns says it."""
    scope = f"in {'last ' if last else ''}{reader}"
    cats = CATS.replace(
        r"match pattern /\bpoison (a|my|the) cat\b/i", f'match keyword "zebra" {scope}'
    )
    matchers = Matchers.for_spec(load(write_spec(cats__policy=cats)))
    messages = [(role, "a zebra here" if says else "nothing") for role, says in turns]
    theirs = [says for role, says in turns if role in READS[reader]]
    expected = (theirs[-1] if theirs else False) if last else any(theirs)
    assert (matchers.scan(messages).fired == ("C-1",)) == expected
