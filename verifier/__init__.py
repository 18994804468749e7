"""Verify model transcripts against a spec and against their own confession.

Example::

    spec = spec_lang.load("policies/")
    result = verifier.verify(spec, transcript)  # a dict, JSON text, or a Transcript
    result.verdict, result.findings, result.scores
    verifier.verify_file(spec, "runs.jsonl", report="report.jsonl")  # -> Totals
    verifier.assert_verified(transcript, spec)  # AssertionError listing the findings

Codes, severities and what each does to a score: `core.codes.CODES`.
"""

from __future__ import annotations

from pathlib import Path

import spec_lang
from core.codes import CODES, Severity
from core.diagnostics import Diagnostic
from verifier.batch import run
from verifier.checks import Verifier
from verifier.findings import Result, Scores, Verdict
from verifier.report import Totals, failure_text
from verifier.transcript import Confession, Output, Transcript

__all__ = [
    "CODES",
    "Confession",
    "Diagnostic",
    "Output",
    "Result",
    "Scores",
    "Severity",
    "Totals",
    "Transcript",
    "Verdict",
    "Verifier",
    "assert_verified",
    "verifier_for",
    "verify",
    "verify_file",
]

_verifiers: dict[int, tuple[spec_lang.Spec, Verifier]] = {}


def verifier_for(spec: spec_lang.Spec) -> Verifier:
    """The verifier of a spec, built once per spec object (it precomputes matchers and styles)."""
    entry = _verifiers.get(id(spec))
    if entry is None or entry[0] is not spec:
        if len(_verifiers) >= 16:
            _verifiers.clear()
        entry = _verifiers[id(spec)] = (spec, Verifier(spec))
    return entry[1]


def verify(spec: spec_lang.Spec, transcript: Transcript | dict | str | bytes) -> Result:
    """Verify one transcript. Bad input gives findings, never an exception."""
    return verifier_for(spec).verify(transcript)


def verify_file(spec: spec_lang.Spec, path: str | Path, report: str | Path | None = None) -> Totals:
    """Verify every transcript in a JSONL (or .json) file; write one result line per input line
    to `report` (atomically) if given. Returns the totals."""
    return run(verifier_for(spec), [Path(path)], Path(report) if report else None)


def assert_verified(transcript: Transcript | dict | str | bytes, spec: spec_lang.Spec) -> Result:
    """Verify a transcript and fail with the readable list of findings unless it passes."""
    __tracebackhide__ = True
    result = verify(spec, transcript)
    if not result.passed:
        raise AssertionError(failure_text(result, f"{spec.name} {spec.version}"))
    return result
