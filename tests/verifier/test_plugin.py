"""The pytest plugin, run in a separate project that only has policyspec importable."""

import os
import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

import orjson

from tests.verifier.factory import SPEC_DIR, consistent, load_spec

REPO = Path(__file__).resolve().parents[2]
TEST_FILE = """
import json
from verifier import assert_verified

GOOD = json.loads({good!r})
BAD = json.loads({bad!r})

def test_good(policy_spec):
    assert policy_spec.name == "baseline"
    assert assert_verified(GOOD, policy_spec).passed

def test_bad(policy_spec):
    assert_verified(BAD, policy_spec)
"""


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess:
    installed = any(ep.name == "policyspec" for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "verifier.pytest_plugin"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_project(tmp_path: Path) -> Path:
    spec = load_spec()
    good = consistent(spec, ["WP-2"])
    bad = {**good, "id": "bad-1", "output": {**good["output"], "decision": "comply"}}
    source = TEST_FILE.format(good=orjson.dumps(good).decode(), bad=orjson.dumps(bad).decode())
    (tmp_path / "test_policy.py").write_text(textwrap.dedent(source))
    return tmp_path


def test_fixture_and_readable_failure(tmp_path):
    project = write_project(tmp_path)
    result = run_pytest(project, "--policy-spec", str(SPEC_DIR))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout
    assert "FAIL bad-1 against baseline 0.1.0" in result.stdout
    assert "$.output.decision: error[VF030]" in result.stdout


def test_spec_from_ini(tmp_path):
    project = write_project(tmp_path)
    (project / "pytest.ini").write_text(f"[pytest]\npolicy_spec = {SPEC_DIR}\n")
    result = run_pytest(project, "-k", "good")
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_plugin_needs_no_dev_dependencies():
    code = (
        "import sys, verifier.pytest_plugin, verifier.rewards;"
        "assert not {'hypothesis', 'jsonschema', 'trl', 'torch'} & set(sys.modules), sys.modules"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": str(REPO)}
    )
