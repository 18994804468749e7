"""What the training tests share: the default model's real tokenizer, with chat templates
from examples/chat_templates; the model is the runtime tests' tiny random Llama at hidden 64,
built in-process (no download), run on one thread."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

CHAT_TEMPLATES = Path(__file__).parents[2] / "examples" / "chat_templates"


def with_template(tokenizer, name: str):
    """A copy of `tokenizer` whose chat template is examples/chat_templates/<name>.jinja."""
    changed = copy.deepcopy(tokenizer)
    changed.chat_template = (CHAT_TEMPLATES / f"{name}.jinja").read_text()
    return changed


@pytest.fixture(autouse=True)
def one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def mini():
    import spec_lang
    from tests.compiler.conftest import SPECS

    return spec_lang.load(SPECS / "mini")
