"""Text helpers every layer shares: ID skeletons for look-alike IDs, the normalisation
matchers read text through, short excerpts of input for messages, and "did you mean"
hints that stay linear in the number of asks.

The look-alike table is Unicode's confusables (UTS #39), as the confusable-homoglyphs
package ships it: characters it lists as confusable with each other form one group,
and a skeleton replaces each character by its group's smallest member, so `R-1`,
`R-l` and `R-I` share the skeleton `R-1`, and `R-O` and `R-0` share `R-0`. Case is
compared separately (`casefold`): `r-1` and `R-1` differ only by case.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

import orjson

from core.diagnostics import EXCERPT_CHARS


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """`text` cut to `limit` characters, with an ellipsis and the length when cut."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


@cache
def _confusables() -> dict[str, list[dict]]:
    """Unicode's confusables table as the package ships it. Read with orjson: importing
    its module takes 0.18 s, this 0.01 s."""
    return orjson.loads(
        (resources.files("confusable_homoglyphs") / "confusables.json").read_bytes()
    )


@cache
def _groups() -> dict[str, str]:
    """Each confusable character to its group's representative (the group's smallest
    character)."""
    data = _confusables()
    parent: dict[str, str] = {}

    def find(char: str) -> str:
        parent.setdefault(char, char)
        while parent[char] != char:
            parent[char] = parent[parent[char]]
            char = parent[char]
        return char

    for char, entries in data.items():
        for entry in entries:
            other = entry["c"].replace("\u200e", "").replace("\u200f", "")
            if len(char) == 1 and len(other) == 1:
                first, second = find(char), find(other)
                if first != second:
                    parent[max(first, second)] = min(first, second)
    return {char: find(char) for char in parent}


def skeleton(text: str) -> str:
    """`text` with each character replaced by its look-alike group's representative,
    after NFKC normalisation. Two IDs with one skeleton look alike."""
    groups = _groups()
    return "".join(groups.get(char, char) for char in unicodedata.normalize("NFKC", text))


def lookalike_key(text: str) -> tuple[str, str]:
    """What two IDs that differ only by case or look-alike characters share: their
    case-folded text, and the case-folded skeleton."""
    return text.casefold(), skeleton(text).casefold()


class Suggester:
    """ "Did you mean" hints over a fixed set of candidates, linear in the number of asks.

    A word whose case-folded skeleton matches a candidate's gets it at once (a dict
    lookup); otherwise difflib compares the word with every candidate, while the asks so
    far have made fewer than `budget` comparisons in all (20,000 took 0.1 to 0.2 s):
    1,000 misspelt includes in a folder of 1,000 files took 58 s of difflib when every
    one was tried.
    """

    def __init__(self, candidates: Iterable[str], budget: int = 20_000):
        self.candidates = list(dict.fromkeys(candidates))
        self.by_skeleton: dict[str, str] = {}
        for candidate in self.candidates:
            self.by_skeleton.setdefault(skeleton(candidate).casefold(), candidate)
        self.budget = budget

    def hint(self, word: str) -> str | None:
        found = self.by_skeleton.get(skeleton(word).casefold())
        if found is None and self.budget >= len(self.candidates):
            self.budget -= len(self.candidates)
            close = difflib.get_close_matches(word, self.candidates, n=1, cutoff=0.6)
            found = close[0] if close else None
        return f"did you mean '{found}'?" if found is not None and found != word else None


# Normalising text before matchers read it. An attacker who wants a rule not to fire
# writes a look-alike letter (Cyrillic `І` for `I`), a zero-width space inside a
# phrase, or a fullwidth form; `normalize` undoes that, in this order:
# 1. NFKC: fullwidth and other compatibility forms become their plain letters.
# 2. Invisible format characters (Unicode category Cf: zero-width spaces and joiners,
#    bidi controls, soft hyphens, byte order marks) are removed.
# 3. In a word that mixes scripts with Latin letters, or whose letters all look like
#    Latin ones, each look-alike letter becomes the Latin letter it imitates. Words
#    wholly in another script ("привет", "убить") are left alone, so keywords in other
#    languages still match.
# Keywords go through the same function when a spec is compiled, so both sides agree.
# ASCII text is returned as it is, at the cost of one `isascii` call.


def normalize(text: str) -> str:
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text).translate(_invisible())
    if text.isascii():
        return text
    return _WORD.sub(_latin_if_look_alike, text)


_WORD = re.compile(r"[^\W\d_]+")


def _latin_if_look_alike(match: re.Match[str]) -> str:
    word = match.group()
    if word.isascii():
        return word
    table = _look_alikes()
    mapped = word.translate(table)
    if mapped == word:
        return word
    mixed = any(c.isascii() for c in word)
    if mixed or mapped.isascii():
        return mapped
    return word


@cache
def _invisible() -> dict[int, None]:
    """Every format character (Cf) of the planes they live in (0, 1 and 14)."""
    planes = (range(0x20000), range(0xE0000, 0xE1000))
    return {cp: None for plane in planes for cp in plane if unicodedata.category(chr(cp)) == "Cf"}


@cache
def _look_alikes() -> dict[int, str]:
    """Non-ASCII letter -> the ASCII letter it imitates. An upper-case letter whose
    prototype is `l` (Cyrillic `І`, Greek `Ι`) follows its lower case (`і` -> `i`)."""
    data = _confusables()
    single: dict[str, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii() or not char.isalpha():
            continue
        latin = [
            g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii() and g["c"].isalpha()
        ]
        if latin:
            single[char] = latin[0]
    table = {}
    for char, latin in single.items():
        lower = single.get(char.lower()) if char.lower() != char else None
        table[ord(char)] = lower.upper() if lower else latin
    return table
