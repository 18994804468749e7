"""The one normalisation every matcher and check applies to text before reading it.

An attacker who wants a rule not to fire writes a look-alike letter (Cyrillic `І`
for `I`), a zero-width space inside a phrase, or a fullwidth form. `normalize`
undoes that, in this order:

1. NFKC: fullwidth and other compatibility forms become their plain letters.
2. Invisible format characters (Unicode category Cf: zero-width spaces and joiners,
   bidi controls, soft hyphens, byte order marks) are removed.
3. In a word that mixes scripts with Latin letters, or whose letters all look like
   Latin ones, each look-alike letter becomes the Latin letter it imitates (from
   Unicode's confusables table, as the `confusable-homoglyphs` package ships it).
   Words wholly in another script ("привет", "убить") are left alone, so keywords in
   other languages still match.

Keywords go through the same function when a spec is compiled, so both sides agree.
ASCII text is returned as it is, at the cost of one `isascii` call.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache
from importlib import resources

_WORD = re.compile(r"[^\W\d_]+")


def normalize(text: str) -> str:
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text).translate(_invisible())
    if text.isascii():
        return text
    return _WORD.sub(_latin_if_look_alike, text)


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
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
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
