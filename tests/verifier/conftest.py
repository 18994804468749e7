from pathlib import Path

import pytest

import spec_lang
from tests.verifier.factory import changed, consistent, load_spec
from verifier import Verifier


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture(scope="session")
def verifier(spec):
    return Verifier(spec)


@pytest.fixture
def make(spec):
    """make("WP-2", output__decision="comply"): a consistent transcript citing the rules,
    with the fields named by `__`-separated paths replaced (or deleted, with DROP)."""

    def build(*rules: str, **changes) -> dict:
        return changed(consistent(spec, list(rules)), **changes)

    return build


@pytest.fixture(scope="session")
def default_verifier() -> Verifier:
    """The default spec's (policies/) verifier, built once for every file that reads it."""
    return Verifier(spec_lang.load(Path(__file__).resolve().parents[2] / "policies"))
