"""A style's `opens`: the answer's first sentence, counted as count_sentences counts, matches
each `opens` pattern (VF034 naming the statement that failed); each case with a near twin."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec_lang import load
from spec_lang.semantics import Decision
from tests.spec_lang.test_opens import SPEC
from verifier.checks import Verifier, check_style, count_sentences, first_sentence


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("Call 911 now. Then check his breathing.", "Call 911 now."),
        ("Dr. Patel says to call 911. Then wait.", "Dr. Patel says to call 911."),
        ("The U.S. line is 911. Call it.", "The U.S. line is 911."),
        ("**Call 911 now.** Then check his breathing.", "**Call 911 now.**"),
        ("_Call 911 now._ Then wait.", "_Call 911 now._"),
        ("## Call 911 now\nThen check his breathing.", "## Call 911 now"),
        ("Call 911 now\nThen check his breathing.", "Call 911 now"),  # a line break ends it
        ("\n---\n\nButton batteries are common. Call 911.", "Button batteries are common."),
        ("1. Call 911.\n2. Check breathing.", "1. Call 911."),
        ("Is he breathing? Call 911.", "Is he breathing?"),
        ("Call 911... then wait.", "Call 911... then wait."),  # an ellipsis trails off
        ("Take 2.5 ml. Then rest.", "Take 2.5 ml."),
        ("", ""),
    ],
)
def test_first_sentence(text, first):
    assert first_sentence(text) == first


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from("Ab1 .!?*\n#-é。"), max_size=60))
def test_the_first_sentence_opens_the_text_and_is_one_sentence(text):
    first = first_sentence(text)
    assert first in text
    assert count_sentences(first) == (1 if first else 0)
    assert not first or text.lstrip().startswith(first) or "\n" in text.split(first, 1)[0]


@pytest.fixture(scope="module")
def verifier(tmp_path_factory) -> Verifier:
    path = tmp_path_factory.mktemp("opens") / "s.policy"
    path.write_text(SPEC)
    return Verifier(load(path))


def findings(verifier: Verifier, answer: str) -> list[str]:
    decided = Decision("refuse", "urgent", "C-1", ("C-1",), ())
    found: list = []
    check_style(verifier, SimpleNamespace(style="urgent", answer=answer), decided, found)
    return [f.message for f in found if f.code == "VF034"]


@pytest.mark.parametrize(
    "answer",
    ["Call 911 now. Then wait.", "**Dial 911 right away.** Then wait.", "## Call 911 now\nWait."],
)
def test_an_answer_that_opens_as_the_style_says_passes(verifier, answer):
    assert findings(verifier, answer) == []


def test_each_opens_must_match_and_the_finding_names_it(verifier):
    later = findings(verifier, "Stay calm. Call 911 now.")
    assert len(later) == 2 and "'Stay calm.'" in later[0]
    assert "`opens /\\b(call|dial) 911\\b/i` (s.policy:" in later[0]
    one = findings(verifier, "Call 911 when you can. Now wait.")
    assert len(one) == 1 and "`opens /now|right away/i` (s.policy:" in one[0]
