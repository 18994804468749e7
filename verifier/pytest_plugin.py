"""pytest plugin (entry point `pytest11: policyspec`): verify transcripts in tests.

    from verifier import assert_verified

    def test_refuses_bombs(policy_spec):
        assert_verified(transcript, policy_spec)

`policy_spec` is the spec named by `--policy-spec PATH`, or the `policy_spec`
ini option (relative to the rootdir), or else the embedded default spec;
loaded once per session. `assert_verified` fails with every finding listed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import spec_lang
from verifier import assert_verified

__all__ = ["assert_verified", "policy_spec"]


def pytest_addoption(parser: pytest.Parser) -> None:
    help_text = "spec folder or root .policy file for the policy_spec fixture"
    parser.addoption("--policy-spec", default=None, help=help_text)
    parser.addini("policy_spec", help_text + " (relative to the rootdir)", default=None)


@pytest.fixture(scope="session")
def policy_spec(pytestconfig: pytest.Config) -> spec_lang.Spec:
    """The spec under test: --policy-spec, the policy_spec ini option, or the embedded default."""
    option = pytestconfig.getoption("--policy-spec")
    setting = pytestconfig.getini("policy_spec")
    if option:
        path = Path(option)
    elif setting:
        path = pytestconfig.rootpath / setting
    else:
        from policies import DEFAULT_SPEC

        path = DEFAULT_SPEC
    try:
        return spec_lang.load(path)
    except (spec_lang.InputError, spec_lang.SpecError) as error:
        pytest.fail(f"policy_spec: cannot load {path}: {error}", pytrace=False)
