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
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import orjson
import re2

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


# Reading obfuscated text. A user who wants a rule not to fire may spell a word out
# ("h a c k", "k.i.l.l", "m-e-t-h"), write digits for letters inside it ("h4ck",
# "expl0sive"), stretch it ("hackkkk") or break it with a stray symbol ("ha*ck").
# `deobfuscate` gives the readings of normalised text with that undone, which matchers
# read besides the text itself; text that shows none of it has no reading, and costs
# one RE2 search to tell. What counts, chosen so that ordinary text has no reading:
# - Spelled out: three or more single letters joined by one separator, one or two
#   spaces or one of `. - _` (`x + y`, `a*b*c` and `a, b, c` join nothing); the spaces
#   between two spelled-out words read as one. A dotted run whose every letter has its
#   dot (`U.S.A.`, `a.k.a.`) is an initialism when it is upper case or has three
#   letters or fewer. In a spaced run a first or last letter that is a word of its own
#   (`a`, `I`) may be one ("how do i h a c k"), so such a run has two readings: joined
#   whole, and with those letters apart where the word before (`do i`, `make a`) or a
#   word after says so.
# - Digits for letters: 0 1 3 4 5 7 for o i e a s t, one or two at a time, each with
#   letters on both sides, in a word of four or more characters with no more digits
#   than letters; or first, before three letters or more (`1nstagram`). Not before
#   fewer (`3rd`, `1st`), not before a plural `s`
#   (`mp3s`), nor between a word of three letters or more and one letter (`log4j`);
#   `2` and `8` stand for no letter (`B2B`).
# - Stretched: an ASCII letter three or more times in a word with other letters, read once
#   and twice (`hackkk` -> `hack`, `killll` -> `kill`); not Roman numerals (`viii`).
# - Stray symbols: `* | ~ · •` inside a word, with two letters on one side of them, are
#   dropped (`ha*ck`; not `a*b`, which is arithmetic).
# Each reading maps its characters to the text they came from (`deobfuscate_mapped`),
# and `readings_mapped` to the user's own text, through `normalize_mapped`.

_LETTER = r"[^\W\d_]"
_SPELLED_OUT = re.compile(
    rf"(?<![\w.\-+*/=^<>])(?<!\w['’]){_LETTER}"  # a letter that starts a word, not a term
    rf"(?P<sep> {{1,2}}|[.\-_]){_LETTER}(?:(?P=sep){_LETTER})+(?![\w+*/=^<>])"
)
_LEET_WORD = re.compile(
    r"(?<![\w])(?:[A-Za-z]+(?:[013457]{1,2}[A-Za-z]+)+"
    r"|[013457][A-Za-z]{3,}(?:[013457]{1,2}[A-Za-z]+)*)(?![\w])"  # 1nstagram, not 3rd
)
_STRETCHED = re.compile(r"(?P<letter>[A-Za-z])(?P=letter){2,}")
_STRAY_SYMBOL = re.compile(
    rf"(?<={_LETTER}{_LETTER})[*|~·•]+(?={_LETTER})|(?<={_LETTER})[*|~·•]+(?={_LETTER}{_LETTER})"
)
_ROMAN = re.compile(r"[ivxlcdm]+", re.I)
# What each form above needs at least, as one RE2 search: ordinary text, which has none of
# it, costs that search alone (a tenth of what the forms' own regexes would cost).
_MAY_SHOW_OBFUSCATION = re2.compile(
    r"(?:^|[^\pL\pN_])\pL(?: {1,2}|[.\-_])\pL(?: {1,2}|[.\-_])\pL"
    r"|[A-Za-z][013457]{1,2}[A-Za-z]|(?:^|[^\pL\pN_])[013457][A-Za-z]{3}"
    r"|\pL[*|~·•]+\pL"
    r"|" + "|".join(letter * 3 for letter in string.ascii_letters)
)
_LEET = str.maketrans("013457", "oieast")
_STANDALONE_LETTERS = frozenset("aAiI")

# A reading under construction: each character with the stretch of the text it came from.
_Chars = list[tuple[str, int, int]]


def deobfuscate(text: str) -> tuple[str, ...]:
    """The readings of normalised `text` with obfuscation undone (see above), or none."""
    return tuple(reading.text for reading in deobfuscate_mapped(text))


def deobfuscate_mapped(text: str) -> tuple[Normalized, ...]:
    """`deobfuscate(text)` with where each character of a reading came from in `text`."""
    if not _MAY_SHOW_OBFUSCATION.search(text):
        return ()
    chars = [(char, at, at + 1) for at, char in enumerate(text)]
    readings = []
    for joined in _join_spelled_out(chars):
        unstrayed = _drop_stray_symbols(_undo_leet(joined))
        readings += [_stretch_to(unstrayed, times) for times in (1, 2)]
    distinct = {_string(r): r for r in readings if _string(r) != text}
    return tuple(
        Normalized(text, string, tuple(s for _, s, _ in r), tuple(e for _, _, e in r))
        for string, r in distinct.items()
    )


def readings_mapped(text: str) -> tuple[Normalized, ...]:
    """The readings of `text` as matchers see it (`normalize`, then `deobfuscate`), each
    mapped to the user's own text: where a match on a reading came from."""
    normalized = normalize_mapped(text)
    return tuple(
        Normalized(
            text,
            reading.text,
            tuple(normalized.starts[s] for s in reading.starts),
            tuple(normalized.ends[e - 1] for e in reading.ends),
        )
        for reading in deobfuscate_mapped(normalized.text)
    )


def _string(chars: _Chars) -> str:
    return "".join(char for char, _, _ in chars)


def _join_spelled_out(chars: _Chars) -> list[_Chars]:
    """Spelled-out runs joined: one reading, or two when a spaced run may begin or end
    with a word of one letter (the second sets those letters apart where the words
    around them say they are words)."""
    text = _string(chars)
    whole: _Chars = []
    apart: _Chars = []
    at = 0
    for match in _SPELLED_OUT.finditer(text):
        step = len(match["sep"]) + 1
        if _is_initialism(text, match, match.group()[::step]):
            continue
        kept = chars[at : match.start()]
        if whole and kept and _string(kept).isspace():  # the gap between spelled-out words
            kept = [(" ", kept[0][1], kept[-1][2])]
        run = chars[match.start() : match.end() : step]
        whole += kept + run
        spaced = match["sep"].isspace()
        apart += kept + (_standalone_edges(run, text, match) if spaced else run)
        at = match.end()
    if not whole:
        return [chars]
    whole += chars[at:]
    apart += chars[at:]
    return [whole, apart] if apart != whole else [whole]


def _is_initialism(text: str, match: re.Match[str], letters: str) -> bool:
    dotted = match["sep"] == "." and text[match.end() : match.end() + 1] == "."
    return dotted and (letters.isupper() or len(letters) <= 3)


# Words after which a spelled-out run's first letter is likely the word `I` or `a`
# ("how do i h a c k", "make a b o m b"), not the first letter of the word spelled.
_BEFORE_I = frozenset(
    {
        "do", "did", "does", "can", "could", "should", "would", "will", "shall", "may",
        "might", "must", "am", "have", "had", "how", "if", "when", "so", "and", "then",
        "that", "what", "where", "why", "because", "but", "or", "once", "while",
    }
)  # fmt: skip
_BEFORE_A = frozenset(
    {
        "make", "build", "get", "buy", "find", "need", "want", "is", "was", "for", "with",
        "like", "have", "into", "of", "as", "such", "what", "how",
    }
)  # fmt: skip


def _standalone_edges(run: _Chars, text: str, match: re.Match[str]) -> _Chars:
    """A spaced run with its first letter set apart as the word `I` or `a` when the word
    before it says so, and its last when a word follows, while three letters stay
    joined."""
    before = text[: match.start()].split()[-1:]
    word_before = before[0].lower() if before else ""
    first_letter = run[0][0].lower()
    first = (first_letter == "i" and (not before or word_before in _BEFORE_I)) or (
        first_letter == "a" and word_before in _BEFORE_A
    )
    word_after = re.match(r" ?[^\W\d_]", text[match.end() :])
    last = run[-1][0] in _STANDALONE_LETTERS and word_after is not None
    if len(run) - first - last < 3:
        return run
    middle = run[first : len(run) - last]
    before_run = [run[0], (" ", run[0][2], run[1][1])] if first else []
    after_run = [(" ", run[-2][2], run[-1][1]), run[-1]] if last else []
    return before_run + middle + after_run


def _undo_leet(chars: _Chars) -> _Chars:
    text = _string(chars)
    out = list(chars)
    for match in _LEET_WORD.finditer(text):
        word = match.group()
        if not _is_leet(word):
            continue
        for offset, char in enumerate(word):
            if char.isdigit():
                index = match.start() + offset
                out[index] = (char.translate(_LEET), *chars[index][1:])
    return out


def _is_leet(word: str) -> bool:
    """Whether digits inside an ASCII word stand for letters (see above)."""
    parts = re.split(r"\d+", word)
    letters, tail = sum(map(len, parts)), parts[-1]
    if len(word) < 4 or letters < len(word) - letters:
        return False
    return tail.lower() != "s" and not (len(parts[0]) >= 3 and len(tail) == 1)


def _drop_stray_symbols(chars: _Chars) -> _Chars:
    text = _string(chars)
    dropped = {i for m in _STRAY_SYMBOL.finditer(text) for i in range(m.start(), m.end())}
    return [c for i, c in enumerate(chars) if i not in dropped] if dropped else chars


def _stretch_to(chars: _Chars, times: int) -> _Chars:
    """Letters stretched three times or more read `times` times, the last of them standing
    for the rest, in words that are not one letter repeated or a Roman numeral."""
    text = _string(chars)
    out = list(chars)
    dropped: set[int] = set()
    for match in _STRETCHED.finditer(text):
        word = _word_around(text, match.start())
        if len(set(word.lower())) > 1 and not _ROMAN.fullmatch(word):
            last = match.start() + times - 1
            out[last] = (out[last][0], out[last][1], chars[match.end() - 1][2])
            dropped.update(range(last + 1, match.end()))
    return [c for i, c in enumerate(out) if i not in dropped] if dropped else chars


def _word_around(text: str, at: int) -> str:
    start = at
    while start > 0 and text[start - 1].isalpha():
        start -= 1
    end = at
    while end < len(text) and text[end].isalpha():
        end += 1
    return text[start:end]
