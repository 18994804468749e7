"""The registry is the one list of codes: the docs are generated from it, and every code
of every layer has a case that trips it (the language's and the verifier's in their own
test modules; compile's and the command line's here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from compiler import compile_spec
from core.codes import CODES, Effect, Score, Severity, markdown
from policyspec.cli import app
from tests.compiler.fit import LONG_SENTENCE, write_fit_spec
from tests.pets import ROOT

DOCS = Path(__file__).resolve().parent.parent / "docs" / "codes.md"
MINI = Path(__file__).resolve().parent / "compiler" / "specs" / "mini"
runner = CliRunner()


def test_docs_table_is_generated_from_the_registry():
    assert DOCS.read_text(encoding="utf-8") == markdown(), (
        "run: python -m core.codes > docs/codes.md"
    )


def test_every_entry_is_well_formed():
    for code, entry in CODES.items():
        assert entry.code == code and code[:2] in ("US", "PS", "CP", "VF", "JG") and len(code) == 5
        assert entry.title and entry.help and entry.anchor.endswith(code.lower())
        # Every verifier code lowers a score but those saying which spec a transcript is of.
        scored = entry.layer == "verifier" and not code.startswith("VF01")
        assert (entry.score is not None) == scored
        assert entry.effect is Effect.NONE or entry.score is not None
        assert not entry.violation or entry.score is Score.POLICY


def _compile(tmp_path: Path, **options) -> set[str]:
    result = compile_spec(MINI, options.pop("target", "sft-gen"), tmp_path / "out", **options)
    return {d.code for d in result.diagnostics}


def _rows(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text(text, encoding="utf-8")
    return path


COMPILE_CASES = {
    # (trips, near twin)
    "CP001": ('{"prompt": "hi"\n', '{"prompt": "hi"}\n'),
    "CP002": ('{"prompt": ""}\n', '{"prompt": "hi"}\n'),
}


@pytest.mark.parametrize("code", sorted(COMPILE_CASES))
def test_compile_row_codes_trip_and_their_twins_do_not(tmp_path, code):
    trips, twin = COMPILE_CASES[code]
    assert code in _compile(tmp_path, prompts=_rows(tmp_path, trips))
    assert code not in _compile(tmp_path, prompts=_rows(tmp_path, twin))


def test_token_budget_code_trips_only_past_the_budget(tmp_path):
    assert "CP010" in _compile(tmp_path, target="safeguard", token_warning=10)
    assert "CP010" not in _compile(tmp_path, target="safeguard", token_warning=100_000)


def test_uncounted_tokens_are_a_warning_not_a_failure(tmp_path, monkeypatch):
    from compiler import tokens
    from core.diagnostics import InputError

    def unavailable(tokenizer=None):
        raise InputError("no tokenizer here")

    monkeypatch.setattr(tokens, "counter", unavailable)
    assert "CP011" in _compile(tmp_path, target="safeguard")


@pytest.mark.parametrize(
    "summary, form, warned",
    [
        (LONG_SENTENCE, "compact", True),
        ("Scams.", "compact", False),
        (LONG_SENTENCE, "full", False),
    ],
)
def test_safeguard_budget_code_trips_when_a_compact_policy_cannot_fit(
    tmp_path, summary, form, warned
):
    spec = write_fit_spec(tmp_path / "spec", summary=summary)
    result = compile_spec(spec, "safeguard", tmp_path / "out", safeguard_form=form)
    found = [d for d in result.diagnostics if d.code == "CP012"]
    assert bool(found) is warned
    assert not found or "shorten the category's summary or its rules' titles" in found[0].hint


def _json(*args: str) -> tuple[int, dict]:
    result = runner.invoke(app, [*args, "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


def test_usage_codes_come_as_json_with_exit_2(tmp_path):
    code, payload = _json("check", str(tmp_path / "missing"))
    assert code == 2 and [d["code"] for d in payload["diagnostics"]] == ["US002"]
    code, payload = _json("explain", "NOPE-1", "--spec", str(MINI))
    assert code == 2 and [d["code"] for d in payload["diagnostics"]] == ["US001"]
    (tmp_path / "pyproject.toml").write_text('[tool.policyspec]\nignore = ["PS999"]\n')
    (tmp_path / "pets.policy").write_text(ROOT.replace('include "cats.policy"', ""))
    code, payload = _json("check", str(tmp_path))
    assert code == 2 and [d["code"] for d in payload["diagnostics"]] == ["US004"]


def test_every_compile_and_usage_code_has_a_case():
    covered = set(COMPILE_CASES) | {"CP010", "CP011", "CP012", "US001", "US002", "US004"}
    assert {c for c, e in CODES.items() if e.layer in ("compile", "usage")} == covered


def test_severities_are_the_three_levels():
    assert {entry.severity for entry in CODES.values()} <= set(Severity)
