"""The user's language and country, as a conversation states them.

A style may ask for both (`language user`, `country GB /.../`: docs/language.md); the
checker knows the values they may take from here, and the verifier reads conversations
and answers with the same functions.

- The language of a text is told by its function words ("the", "und", "que", ...) in
  English, German, Spanish, French, Italian and Portuguese. `language_of` takes the
  language with the most different ones (two at least, and no tie); `clear_language`
  answers only where the text leaves no doubt, so a short text ("Sorry, can't help.")
  or a mixed one has none;
  `writes_in` whether a text shows a language at all (two words only it has).
- Where the user is comes from what they say of themselves: "I'm in Manchester",
  "vivo en México", "ich wohne in Wien", "I'm British", a phone number written
  "+44 7700 ...". A country that is only mentioned ("a film about Japan", "my friend in
  Germany") is not where the user is. The names, demonyms, places and calling codes are
  data (spec_lang/data/countries.json), in the languages the default spec knows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import re2

__all__ = [
    "COUNTRIES",
    "FUNCTION_WORDS",
    "LANGUAGES",
    "LANGUAGE_NAMES",
    "clear_language",
    "countries_stated",
    "language_of",
    "words",
    "writes_in",
]


def _set_of(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Each language's commonest function words. A word two languages share ("de", "que",
# "para") counts for both; words that would count for a language they are a plain word
# of ("die", "son", "come") or that two languages share as often ("mi", "su", "al",
# "del", "ma", "lui") are left out of all but one, or of all.
FUNCTION_WORDS = {
    "en": _set_of(
        "the a an and or of to in is it you your with for that this on are be i me my we how "
        "what where can but not if about from have has will would they them their she her his "
        "him there i'm it's don't can't won't that's you're i'll i've could should just some "
        "all any"
    ),
    "de": _set_of(
        "der die das und oder ist nicht ich du im am nach bei von zu mit es nie ein eine einen "
        "einem einer mir mich dir dich sie wir ihr auf für aber wenn auch sich den dem kann "
        "dass mein meine meinen meinem meiner deine seine wie nur noch schon über"
    ),
    "es": _set_of(
        "el la los las y o de que en es no para con por una un tu lo pero esto eso muy yo hay "
        "también ella él está estoy unos unas sus mis ya algo nada así eres soy"
    ),
    "fr": _set_of(
        "le la les et ou de que en est ne pas pour avec une un tu je des du au aux qui sur mon "
        "mes ta tes sa ses ce cette ces elle nous vous ils suis c'est j'ai dans mais très moi "
        "toi leur sont être"
    ),
    "it": _set_of(
        "il la le e o di che in non per con una un tu io gli della dello delle degli nel nella "
        "nei sul sulla mio mia miei tuo tua questo questa quello quella sono è anche perché "
        "alla allo ai agli ho hai sei molto tutti"
    ),
    "pt": _set_of(
        "o a os as e ou de que em não para com uma um tu eu do da na isso isto você vocês meu "
        "minha meus minhas seu dele dela mas ao aos pelo pela muito também estou sou é nem "
        "então já só"
    ),
}
LANGUAGES = tuple(FUNCTION_WORDS)
LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "es": "Spanish",
    "fr": "French",
    "it": "Italian",
    "pt": "Portuguese",
}

_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
# What a text quotes or shows rather than says: a fenced block, a quotation of three words
# or more ("Translate 'je veux mourir' for me" is written in English).
_QUOTED = re.compile(
    r"```.*?(?:```|$)|“[^”]*”|„[^“”]*[“”]|«[^»]*»|\"[^\"\n]*\"|(?<!\w)'[^'\n]{1,400}'(?!\w)", re.S
)
# A clear language: this many of its function words at least, this many more than any
# other language's, and half as many again. (Spanish and Portuguese share "de", "que",
# "para": a plain Spanish sentence counts 5 to 3.)
_CLEAR_LEAST = 3
_CLEAR_LEAD = 2


def words(text: str) -> list[str]:
    """The words of a text, lower case (an apostrophe inside a word kept: "can't")."""
    return _WORD.findall(text.lower())


# Each function word's languages, so a text is counted in one lookup a word.
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {}
for _language, _table in FUNCTION_WORDS.items():
    for _word in _table:
        _LANGUAGES_OF[_word] = (*_LANGUAGES_OF.get(_word, ()), _language)


def _counts(text_words: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(FUNCTION_WORDS, 0)
    for word in text_words:
        for language in _LANGUAGES_OF.get(word, ()):
            counts[language] += 1
    return counts


def language_of(text_words: Sequence[str]) -> str | None:
    """The language whose function words the words hold most of (two different ones at
    least, so "No means no" is no Spanish; a tie is no language)."""
    counts = _counts(set(text_words))
    best = max(counts, key=counts.__getitem__)
    tied = sum(count == counts[best] for count in counts.values()) > 1
    return best if counts[best] >= 2 and not tied else None


def _unquoted(quotation: re.Match) -> str:
    """A quotation of three words or more is left out; a quoted word or two stays."""
    text = quotation.group()
    return " " if text.startswith("`") or len(text.split()) >= 3 else text


def clear_language(text: str) -> str | None:
    """The language of a text where it leaves no doubt: three function words of it at
    least, two more than of any other and half as many again, quotations and code left
    out. None for a short text, a mixed one, or one in a language not listed."""
    counts = _counts(words(_QUOTED.sub(_unquoted, text)))
    ranked = sorted(counts.values(), reverse=True)
    best = max(counts, key=counts.__getitem__)
    best_count, second = ranked[0], ranked[1]
    if (
        best_count >= _CLEAR_LEAST
        and best_count >= second + _CLEAR_LEAD
        and 2 * best_count >= 3 * second
    ):
        return best
    return None


def leaning_language(text: str, unlike: str) -> str | None:
    """The language a text leans to where it is surely not in `unlike`: three function
    words of it at least, and at most a third as many of `unlike`'s. Spanish and
    Portuguese share words enough that a Spanish request may have no clear language,
    yet an English answer to it is plainly in another one."""
    counts = _counts(words(_QUOTED.sub(_unquoted, text)))
    best = max(counts, key=counts.__getitem__)
    if best != unlike and counts[best] >= _CLEAR_LEAST and 3 * counts[unlike] <= counts[best]:
        return best
    return None


# Function words only one language has: what shows a language inside a text in another.
_ONLY = {
    lang: table - frozenset().union(*(t for other, t in FUNCTION_WORDS.items() if other != lang))
    for lang, table in FUNCTION_WORDS.items()
}


def writes_in(text: str, language: str) -> bool:
    """The text holds two different function words that only `language` has: the user
    who pastes a French paragraph under "Can you make this meaner for me?" writes in
    English too, whatever the paragraph's count."""
    return len(_ONLY[language].intersection(words(text))) >= 2


def _load_countries() -> dict[str, dict]:
    data = json.loads(Path(__file__).with_name("data").joinpath("countries.json").read_text())
    return {code: entry for code, entry in data.items() if not code.startswith("_")}


_COUNTRY_DATA = _load_countries()
COUNTRIES = frozenset(_COUNTRY_DATA)

# Someone saying where they are: a first-person opening, up to four words, a preposition
# of place, an article, the place ("I'm a student in Manchester", "vivo en el Reino Unido",
# "j'habite à Lyon", "ich wohne seit Jahren in Wien", "moro no Brasil").
_SELF = (
    r"i['’]m|i am|i['’]ve been|i have been|i live|i moved|i grew up|i stay|i work|i study|"
    r"we live|we['’]re|we are|living|here|currently|"
    r"estoy|vivo|resido|estamos|vivimos|soy|somos|aquí|acá|"
    r"je suis|j['’]habite|je vis|je réside|nous sommes|nous habitons|nous vivons|ici|je viens|"
    r"ich bin|ich wohne|ich lebe|wir sind|wir wohnen|wir leben|hier|ich komme|"
    r"sono|abito|stiamo|viviamo|abitiamo|siamo|"
    r"estou|moro|sou|moramos|aqui|"
    r"ik woon|ik ben|wij wonen|we wonen|ik kom"
)
_PREPOSITION = (
    r"in|at|near|outside|from|around|en|desde|de|à|a|au|aux|du|dans|aus|bei|"
    r"di|da|nel|nella|nei|em|no|na|nos|nas|do|uit"
)
_ARTICLE = r"(?:(?:the|el|la|los|las|le|les|der|dem|den|die|il|lo|o|os|as|het)\s+|l['’])?"
# Someone saying what they are: "I'm British", "as an American", "soy mexicana".
_SELF_IS = (
    r"i['’]m|i am|we['’]re|we are|as an?|soy|somos|je suis|nous sommes|ich bin|wir sind|"
    r"sono|siamo|sou|ik ben"
)
_INDEFINITE = r"(?:(?:an?|un|una|une|ein|eine|een|um|uma)\s+)?(?:proud\s+)?"
# A demonym that names a subject, not a nationality: "as an English teacher".
_SUBJECTS = (
    r"teachers?|students?|class(?:es)?|speakers?|majors?|learners?|lessons?|courses?|"
    r"professors?|tutors?|translators?|interpreters?|degrees?|literature|language|food|"
    r"cuisine|speaking"
)


def _alternatives(names: list[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))


@cache
def _statements() -> tuple[tuple[tuple[re.Pattern, dict[str, frozenset[str]]], ...], re2._Regexp]:
    """The patterns of a user's statement of where they are (a place, a demonym, a calling
    code), each with the countries its names name. Three patterns, not one: "soy mexicana
    y vivo en Texas" states two countries over the same words."""
    place_of: dict[str, set[str]] = {}
    demonym_of: dict[str, set[str]] = {}
    calling_of: dict[str, set[str]] = {}
    abbreviations: list[str] = []
    for code, entry in _COUNTRY_DATA.items():
        for name in (*entry["names"], *entry["places"], *entry["abbreviations"]):
            place_of.setdefault(name, set()).add(code)
        abbreviations += entry["abbreviations"]
        for name in entry["demonyms"]:
            demonym_of.setdefault(name, set()).add(code)
        calling_of.setdefault(entry["calling"], set()).add(code)
    places = _alternatives([n for n in place_of if n not in abbreviations])
    end = r"(?![\w-])"
    place = re.compile(
        rf"\b(?:{_SELF})\b(?:\s+[\w'’-]+){{0,4}}?\s+(?:{_PREPOSITION})\s+{_ARTICLE}"
        rf"({places}|(?-i:{_alternatives(abbreviations)})){end}",
        re.I,
    )
    demonym = re.compile(
        rf"\b(?:{_SELF_IS})\s+{_INDEFINITE}({_alternatives(list(demonym_of))}){end}"
        rf"(?!\s+(?:{_SUBJECTS})\b)",
        re.I,
    )
    calling = re.compile(
        rf"(?<![\w+])\+\s?({_alternatives(list(calling_of))})[\s.()-]*\d[\d\s.()-]{{6,}}"
    )
    statements = tuple(
        (pattern, {name.lower(): frozenset(codes) for name, codes in names.items()})
        for pattern, names in ((place, place_of), (demonym, demonym_of), (calling, calling_of))
    )
    # Any name at all, in RE2's one pass: most texts name no place, and Python's engine
    # tries the ~900 names one by one wherever a statement could begin.
    names = [re2.escape(n) for n in (*place_of, *demonym_of)]
    options = re2.Options()
    options.case_sensitive = False
    return statements, re2.compile("|".join(names), options)


def countries_stated(text: str) -> frozenset[str]:
    """The countries (ISO 3166-1 codes) a user's words say they are in or from: one for
    "I'm in Manchester", two for "soy mexicana y vivo en Texas", both of +1's for a number
    written "+1 415 ...", none where no place is said of the user."""
    statements, any_name = _statements()
    if "+" not in text and not any_name.search(text):
        return frozenset()
    found: set[str] = set()
    for pattern, countries_of in statements:
        for match in pattern.finditer(text):
            found |= countries_of[match.group(1).lower()]
    return frozenset(found)
