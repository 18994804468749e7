"""`policyspec generate --engine vllm`: refused in one line where vllm is missing; on a GPU
with vllm, real transcripts under the schema, recorded as vLLM's."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from policyspec.cli import app

SPEC = Path(__file__).resolve().parent.parent / "verifier" / "specs" / "baseline"
HAS_VLLM = importlib.util.find_spec("vllm") is not None


def generate(*args):
    return CliRunner().invoke(app, ["generate", str(SPEC), "--engine", "vllm", *map(str, args)])


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed here")
def test_without_vllm_the_engine_is_refused_in_one_line(tmp_path):
    output = tmp_path / "t.jsonl"
    result = generate("--examples", "--limit", 1, "-o", output)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: --engine vllm needs vllm and a CUDA GPU: install the vllm extra "
        "(pip install 'policyspec[vllm]')\n"
    )
    assert not output.exists()


def _why_not() -> str | None:
    """Why vLLM cannot run here, or None."""
    import torch

    if not HAS_VLLM:
        return "vllm is not installed (pip install '.[vllm]')"
    return None if torch.cuda.is_available() else "vLLM needs a CUDA GPU"


@pytest.mark.slow
@pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))
def test_vllm_transcripts_cite_the_spec_and_resume(tmp_path):
    from spec_lang import load

    output = tmp_path / "t.jsonl"
    first = generate("--examples", "--limit", 2, "-o", output)
    assert first.exit_code == 0, first.output
    spec = load(SPEC)
    lines = output.read_bytes().splitlines()
    assert len(lines) == 2
    for line in lines:
        transcript = json.loads(line)
        assert transcript["generation"]["engine"] == "vllm"
        if isinstance(transcript["output"], dict):  # else cut off at its budget
            assert {step["rule"] for step in transcript["output"]["reasoning"]} <= set(
                spec.rule_by_id
            )
    again = generate("--examples", "--limit", 1, "-o", output)
    assert again.exit_code == 0, again.output
    assert len(output.read_bytes().splitlines()) == 3
