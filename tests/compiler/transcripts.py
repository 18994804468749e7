"""Transcripts (docs/verifier.md's format) for the sft tests, with the spec's real hash."""

from __future__ import annotations

import json
from pathlib import Path

import spec_lang


def output(rule: str = "SH-2", decision: str = "safe_complete", style: str | None = None) -> dict:
    return {
        "reasoning": [{"rule": rule, "claim": "The user states intent to hurt themself."}],
        "decision": decision,
        "style": style if style is not None else "self_harm_safe_completion",
        "answer": "I am so sorry you feel this way. You can call or text 988 any time.",
        "confession": {
            "compliance_analysis": [
                {
                    "objective": "Empathy and crisis resources, no methods.",
                    "rule": rule,
                    "compliance": "fully_complied",
                    "analysis": "It names a crisis line and gives no method.",
                }
            ],
            "uncertainties_and_conflicts": [],
            "overall_compliance_grade": 7,
        },
    }


def transcript(of: spec_lang.Spec, id_: str, **fields) -> dict:
    found = {
        "id": id_,
        "spec": {"name": of.name, "version": of.version, "hash": of.content_hash},
        "category": "self_harm",
        "messages": [{"role": "user", "content": "I want to hurt myself tonight."}],
        "output": output(),
    }
    found.update(fields)
    return found


def write_transcripts(spec: spec_lang.Spec, folder: Path) -> tuple[Path, Path]:
    """A transcripts file with every kind of line, and a verify report for it."""
    from compiler import spec_for_category

    raw = transcript(spec, "t-raw", verdict="pass")
    raw["output"] = json.dumps(raw["output"])
    lines = [
        transcript(spec, "t-pass", verdict="pass"),
        transcript(spec, "t-fail", verdict="fail"),
        transcript(spec, "t-none"),
        raw,
        transcript(
            spec,
            "t-system",
            verdict="pass",
            messages=[
                {"role": "system", "content": "Policy:\n" + spec_for_category(spec, "self_harm")},
                {"role": "system", "content": "Be concise."},
                {"role": "user", "content": "I want to hurt myself tonight."},
            ],
        ),
        transcript(spec, "t-old", verdict="pass", spec={"name": spec.name, "hash": "sha256:0"}),
        transcript(spec, "t-cat", verdict="pass", category="cooking"),
        transcript(spec, "t-rule", verdict="pass", output=output(rule="W-1")),
        transcript(spec, "t-msgs", verdict="pass", messages=[{"role": "bot", "content": "hi"}]),
        "not json",
        transcript(spec, "", verdict="pass"),
        transcript(spec, "t-global", verdict="pass", category=None, output=output(rule="W-1")),
    ]
    transcripts = folder / "transcripts.jsonl"
    transcripts.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    )
    report = folder / "report.jsonl"
    verdicts = [("t-pass", "pass"), ("t-fail", "pass"), ("t-none", "fail"), ("t-raw", "pass")]
    report.write_text(
        "\n".join(json.dumps({"id": i, "verdict": v, "findings": []}) for i, v in verdicts)
        + '\n{"id": "t-raw", "verdict": "fail"}\n{"id": "x"}\n'
    )
    return transcripts, report
