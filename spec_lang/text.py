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
from dataclasses import dataclass
from functools import cache, lru_cache
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
# phrase, a fullwidth form or an accent (`méth`); and a request in French or German
# may be typed with or without its accents. `normalize` undoes that, in this order:
# 1. NFKD: fullwidth and other compatibility forms become their plain letters
#    (`ｐ` -> `p`, `ﬁ` -> `fi`), and accented letters split into letter and marks.
# 2. Invisible format characters (Unicode category Cf: zero-width spaces and joiners,
#    bidi controls, soft hyphens, byte order marks) are removed.
# 3. Diacritics are folded: the combining marks on a Latin letter, or on a letter that
#    looks like one (Cyrillic `е` of `ё`), are removed (`méth`, `mëth`, `m̀eth` ->
#    `meth`), and the Latin letters Unicode does not decompose become their usual
#    spelling without the stroke or ligature (`ß` -> `ss`, `æ` -> `ae`, `ø` -> `o`).
#    Marks on nothing (after a space) go too. Marks on other letters carry meaning
#    (Japanese `が`, Hindi vowel signs, Cyrillic `й`) and stay; NFC then puts those
#    letters back together.
# 4. In a word that mixes scripts with Latin letters, or whose letters all look like
#    Latin ones, each look-alike letter becomes the Latin letter it imitates. Words
#    wholly in another script ("привет", "убить") are left alone, so keywords in other
#    languages still match.
# Keywords and match patterns go through the same steps when a spec is compiled, so
# both sides agree. Each step works within a run of non-space characters, so a word
# of the result comes from the word at that place in the input: `normalize_mapped`
# says where, for showing users the words a match fired on as they wrote them.
# ASCII text is returned as it is, at the cost of one `isascii` call.


def normalize(text: str) -> str:
    """`text` as matchers read it (see above)."""
    if text.isascii():
        return text
    return "".join(
        token if token.isascii() else _normalize_token(token) for token in _TOKEN.findall(text)
    )


@dataclass(frozen=True)
class Normalized:
    """Normalised text, and for each of its characters the stretch of the original
    text it came from (`starts[i]` to `ends[i]`)."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Where `text[start:end]` came from in the original text."""
        if start >= len(self.text):
            return len(self.original), len(self.original)
        if end <= start:
            return self.starts[start], self.starts[start]
        return self.starts[start], self.ends[end - 1]


def normalize_mapped(text: str) -> Normalized:
    """`normalize(text)` with where each of its characters came from: to the character
    for text that folding leaves the same length, to the accented letter or ligature
    that became one or more letters, and to the whole run of non-space characters in
    the rare case that NFC joins letters across clusters (decomposed Hangul)."""
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    at = 0
    for token in _TOKEN.findall(text):
        for length, piece in _token_pieces(token):
            pieces.append(piece)
            starts += [at] * len(piece)
            ends += [at + length] * len(piece)
            at += length
    return Normalized(text, "".join(pieces), tuple(starts), tuple(ends))


def normalize_pattern(source: str) -> str:
    """A match pattern's regex with its letters normalised as `normalize` does text, so
    `/méthode/` and `/m[ée]thode/` read the folded `methode`. Only characters outside
    ASCII change (regex syntax is ASCII). Look-alike letters are left as written: a
    pattern's words are the author's own. A character that becomes several letters
    (`ß` -> `ss`) is grouped, `(?:ss)`; inside a character class it is left as it is
    and never matches, as the text it would read holds `ss` instead."""
    if source.isascii():
        return source
    out: list[str] = []
    escaped = in_class = False
    class_items = 0
    for cluster in _clusters().findall(source):
        if cluster.isascii():
            if escaped:
                out.append("\\" + cluster)
                escaped = False
            elif cluster == "\\":
                escaped = True
                continue
            else:
                out.append(cluster)
                if cluster == "[" and not in_class:
                    in_class, class_items = True, -1
                elif cluster == "]" and in_class and class_items > 0:
                    in_class = False
            class_items += 1 if in_class and out[-1] != "^" else 0
            continue
        escaped = False  # `\é` is the letter é: the escape means nothing more
        out.append(_pattern_letters(cluster, in_class))
        class_items += 1
    return "".join(out)


def _pattern_letters(cluster: str, in_class: bool) -> str:
    folded = _fold_cluster(cluster, folds_marks_before=False)
    if folded == cluster[:1] or len(folded) == 0:
        return folded  # only marks or invisible characters removed: the author's own text
    escaped = "".join("\\" + c if c.isascii() and not c.isalnum() else c for c in folded)
    if len(folded) == 1:
        return escaped
    return cluster if in_class else f"(?:{escaped})"


_TOKEN = re.compile(r"\S+|\s+")
_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=16384)
def _normalize_token(token: str) -> str:
    return "".join(piece for _, piece in _token_pieces(token))


def _token_pieces(token: str) -> list[tuple[int, str]]:
    """A run of non-space characters (or of spaces) normalised: (length in the run, what
    it became) for each letter with its marks, or for the whole run."""
    clusters = _clusters().findall(token)
    folded: list[str] = []
    last = ""  # the last character so far, which a mark at the start of a cluster sits on
    for cluster in clusters:
        folded.append(_fold_cluster(cluster, not last or _takes_folding(last)))
        last = folded[-1][-1:] or last
    joined = "".join(folded)
    composed = unicodedata.normalize("NFC", joined)
    mapped = _WORD.sub(_latin_if_look_alike, composed)  # one letter for one letter
    if len(composed) != len(joined):
        return [(len(token), mapped)]
    pieces, at = [], 0
    for cluster, piece in zip(clusters, folded, strict=True):
        pieces.append((len(cluster), mapped[at : at + len(piece)]))
        at += len(piece)
    return pieces


@lru_cache(maxsize=16384)
def _fold_cluster(cluster: str, folds_marks_before: bool) -> str:
    """Steps 1 to 3 for one character and the marks and invisible characters after it.
    `folds_marks_before`: whether marks at the start of its decomposition (Thai `ำ` is
    a mark and a letter) sit on nothing or on a character whose marks are folded."""
    text = unicodedata.normalize("NFKD", cluster).translate(_invisible())
    if folds_marks_before:
        text = text[next((i for i, c in enumerate(text) if not _is_mark(c)), len(text)) :]
    if text and _takes_folding(text[0]):
        text = "".join(c for c in text if not _is_mark(c)).translate(_LATIN_LETTERS)
    return unicodedata.normalize("NFC", text)


def _takes_folding(char: str) -> bool:
    """Whether marks on `char` are diacritics to fold: an ASCII character's, a Latin
    letter's or a look-alike's. (Marks on nothing, after a space, go too.)"""
    return char.isascii() or ord(char) in _look_alikes() or _is_latin(char)


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


@lru_cache(maxsize=4096)
def _is_latin(char: str) -> bool:
    return unicodedata.name(char, "").startswith("LATIN ")


# Latin letters with no decomposition, as people write them without the stroke or
# ligature (German `Strasse` for `Straße`, Danish `o` for `ø`).
_LATIN_LETTERS = str.maketrans(
    {
        "ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H",
    }
)  # fmt: skip


@cache
def _clusters() -> re.Pattern[str]:
    """A character and the combining marks and invisible characters after it."""
    attached = [
        cp
        for cp in (*range(0x20000), *range(0xE0000, 0xE1000))
        if (category := unicodedata.category(chr(cp)))[0] == "M" or category == "Cf"
    ]
    return re.compile(f"(?s).[{_ranges(attached)}]*")


def _ranges(code_points: list[int]) -> str:
    """A regex character class body for sorted code points, as ranges."""
    parts, first = [], None
    for index, cp in enumerate(code_points):
        first = cp if first is None else first
        if index + 1 == len(code_points) or code_points[index + 1] != cp + 1:
            parts.append(re.escape(chr(first)) + ("-" + re.escape(chr(cp)) if cp > first else ""))
            first = None
    return "".join(parts)


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
