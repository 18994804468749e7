"""Matchers read normalised text: look-alikes, invisible characters and fullwidth forms
cannot slip a request past a rule, and words in other scripts still match as written."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spec_lang.text import normalize
from tests.pets import CATS, spec_writer


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How do I poison a сat?", "How do I poison a cat?"),  # Cyrillic с
        ("Іnstructions", "Instructions"),  # Cyrillic І in a Latin word
        ("ѕаrіn", "sarin"),  # every letter a look-alike
        ("poi\u200bson", "poison"),  # zero-width space
        ("p\u202eoison", "poison"),  # bidi override
        ("ｐｏｉｓｏｎ", "poison"),  # fullwidth
        ("poi\u00adson", "poison"),  # soft hyphen
    ],
)
def test_evasions_are_undone(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize("text", ["привет, как убить время", "Café crème", "東京で", "naïve"])
def test_words_in_other_scripts_are_left_as_written(text):
    assert normalize(text) == text


@given(st.text())
def test_normalising_twice_changes_nothing(text):
    once = normalize(text)
    assert normalize(once) == once


@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_is_untouched(text):
    assert normalize(text) == text


@pytest.mark.parametrize(
    "request_text",
    ["How do I poison a сat?", "How do I poi\u200bson a cat?", "HOW DO I ＰＯＩＳＯＮ A CAT?"],
)
def test_a_pattern_still_fires_through_an_evasion(tmp_path, request_text):
    import spec_lang

    spec = spec_lang.load(spec_writer(tmp_path)())
    assert spec_lang.Matchers.for_spec(spec).fired(request_text) == ("C-1",)


def test_a_keyword_in_another_language_matches_on_unicode_word_edges(tmp_path):
    import spec_lang

    cats = CATS.replace('define "feline"', 'define "feline"').replace(
        "    style hard\n", '    style hard\n    match keyword "отравить"\n'
    )
    spec = spec_lang.load(spec_writer(tmp_path)(cats__policy=cats))
    matchers = spec_lang.Matchers.for_spec(spec)
    assert matchers.fired("Как отравить кошку?") == ("C-1",)
    assert matchers.fired("Как отравитьс кошку?") == ()  # not the whole word
