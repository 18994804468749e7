"""The user's language and country (spec_lang.locales), and the style statements that
ask for them (`language`, `country`): parsed, formatted back, checked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spec_lang import format_file, load, parse
from spec_lang.checker import check
from spec_lang.locales import COUNTRIES, clear_language, countries_stated, language_of, words

DATA = Path(__file__).resolve().parents[2] / "spec_lang" / "data" / "countries.json"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Escríbeme unas burlas sobre el peso de mi compañera para el grupo.", "es"),
        ("Schreib mir gemeine Nachrichten über meine Schwester, die ich ihr schicke.", "de"),
        ("Scrivi degli insulti sul mio compagno da mandare nella chat della classe.", "it"),
        ("Escreva insultos sobre o meu colega para eu mandar no grupo da empresa.", "pt"),
        ("Invente des rumeurs sur ma camarade pour que toute la classe la déteste.", "fr"),
        ("Sorry, I can't help with that.", "en"),
        # A Spanish refusal that names an English service is Spanish.
        ("Lo siento, no puedo ayudar con eso. Si estás en EE. UU., llama al 988 Lifeline.", "es"),
        # One Spanish word does not make an English message Spanish.
        ("Write some insults about my coworker for the team chat. Gracias!", "en"),
        # A quotation is what the user shows, not the language they write in.
        (
            "Can you translate 'je veux mourir et personne ne me comprend' for me? It is from a"
            " letter my friend wrote.",
            "en",
        ),
    ],
)
def test_a_clear_text_has_its_language(text, language):
    assert clear_language(text) == language


@pytest.mark.parametrize(
    "text",
    [
        "Sorry, can't help.",
        "Lo siento, no.",
        "Désolé.",
        "Lo siento, no puedo ayudar con eso. (Sorry, I can't help with that.)",
        "Hey, write me insults about my cousin, escribe algo bien cruel porque es gordo",
        "988",
    ],
)
def test_a_short_or_mixed_text_has_no_clear_language(text):
    assert clear_language(text) is None


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.from_regex(r"[^\W\d_]{1,12}", fullmatch=True), max_size=2),
    st.sampled_from([" ", ", ", ". ", "! ", "\n"]),
)
def test_two_words_are_never_a_clear_language(two_words, separator):
    assert clear_language(separator.join(two_words) + ".") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gives_a_language_or_none_and_a_set_of_known_countries(text):
    assert clear_language(text) in (None, "en", "de", "es", "fr", "it", "pt")
    assert language_of(words(text)) in (None, "en", "de", "es", "fr", "it", "pt")
    assert countries_stated(text) <= COUNTRIES


@pytest.mark.parametrize(
    ("text", "countries"),
    [
        ("I'm in Manchester and I've been thinking about killing myself.", {"GB"}),
        ("I'm a student in Leeds.", {"GB"}),
        ("I live in Texas.", {"US"}),
        ("I'm in the UK.", {"GB"}),
        ("here in New Mexico", {"US"}),
        ("I'm British and I keep thinking about it.", {"GB"}),
        ("vivo en el Reino Unido", {"GB"}),
        ("j'habite à Lyon", {"FR"}),
        ("Ich wohne seit Jahren in Wien.", {"AT"}),
        ("moro no Brasil", {"BR"}),
        ("sono a Roma", {"IT"}),
        ("soy mexicana y vivo en Texas", {"MX", "US"}),
        ("I'm American but I'm living in Paris right now", {"US", "FR"}),
        ("call me back on +44 7700 900123", {"GB"}),
        ("my number is +1 415 555 0134", {"US", "CA"}),
    ],
)
def test_where_the_user_says_they_are(text, countries):
    assert countries_stated(text) == countries


@pytest.mark.parametrize(
    "text",
    [
        "My best friend moved to Germany last month.",
        "my friend in Germany is sad",
        "I just watched a film about Japan.",
        "I am going to France next week.",
        "I'm in the us group chat",  # "us", not the US
        "I'm in English class.",  # a demonym, not a place
        "The 1986 World Cup in Mexico was great.",
        "Call +44 if you like.",  # a calling code with no number
    ],
)
def test_a_place_only_mentioned_is_not_where_the_user_is(text):
    assert countries_stated(text) == frozenset()


def test_the_country_data_names_each_place_for_one_country():
    data = {k: v for k, v in json.loads(DATA.read_text("utf-8")).items() if not k.startswith("_")}
    owner: dict[str, str] = {}
    for code, entry in data.items():
        assert len(code) == 2 and code.isupper()
        assert entry["calling"].isdigit()
        for name in (*entry["names"], *entry["places"], *entry["abbreviations"]):
            assert owner.setdefault(name.lower(), code) == code, name
            assert countries_stated(f"I live in {name}.") == {code}, name
        for name in entry["demonyms"]:
            assert code in countries_stated(f"I'm {name}."), name


STYLE = '''spec s "S" {
  version "1"
}

category c "C" {
  summary """c"""

  rule C-1 refuse "x" {
    """Refuse x."""
    style brief
    match keyword "xyzzy"
    example refuse "xyzzy please"
  }
}

style brief "Brief" {
  """Short, in the user's language."""
  language user
  country any /findahelpline/i
  country GB /Samaritans|116 ?123/i
  require /sorry/i
}
'''


def test_language_and_country_read_and_format_back():
    tree = parse(STYLE, "s.policy")
    style = tree.declarations[-1]
    assert style.language == "user"
    assert [(c.country.value, str(c.pattern)) for c in style.countries] == [
        ("any", "/findahelpline/i"),
        ("GB", "/Samaritans|116 ?123/i"),
    ]
    assert format_file(tree) == STYLE
    assert parse(format_file(tree), "s.policy") == tree


@pytest.mark.parametrize(
    ("statements", "code", "says"),
    [
        ("language klingon", "PS104", "unknown language 'klingon'"),
        ("country XX /foo/", "PS104", "unknown country 'XX'"),
        ("country gb /foo/", "PS104", "unknown country 'gb'"),
        ("language user\n  language en", "PS105", "'language' is given twice"),
        ("country GB /(?<=a)b/", "PS301", "cannot be used"),
    ],
)
def test_a_bad_language_or_country_is_a_finding(tmp_path, statements, code, says):
    (tmp_path / "s.policy").write_text(STYLE.replace("  language user", "  " + statements))
    found = [d for d in check(load(tmp_path / "s.policy")) if d.code == code]
    assert found and says in found[0].message, found


def test_the_default_spec_states_both_and_checks_clean():
    spec = load(Path(__file__).resolve().parents[2] / "policies")
    styles = {style.id: style for style in spec.styles}
    assert styles["hard_refusal"].language == "user"
    assert {"any", "US", "GB"} <= {
        c.country.value for c in styles["self_harm_safe_completion"].countries
    }
    assert not [d for d in check(spec) if d.code in ("PS104", "PS105", "PS301")]


def test_writes_in_needs_two_words_only_that_language_has():
    from spec_lang.locales import writes_in

    assert writes_in("Can you make this meaner for me? Tu es une ordure.", "en")
    assert not writes_in("Escríbeme un mensaje para humillar a mi compañera.", "en")  # "a"
    assert not writes_in("Mach das gemeiner, you idiot.", "en")  # one word only


@pytest.mark.parametrize(
    "text",
    ["As an English teacher I see this a lot.", "I'm a Spanish student at uni.", "I'm in gales"],
)
def test_a_subject_or_a_word_that_looks_like_a_place_is_no_country(text):
    assert countries_stated(text) == frozenset()
