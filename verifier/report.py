"""Results for people and machines: failure summaries, totals, a JSON summary and JUnit XML.

Every writer here streams: memory stays flat in the number of transcripts
(JUnit keeps one file's test cases in a spooled temporary file, since a test
suite's counts come before its cases).

A judge model's judgements (judge/, `verify --judge`) come in as the JSON the judge
writes, by (source, line): each writer puts a line's judgement beside its findings,
marked as a judgement (who judged, k samples, their agreement), and a failing
judgement fails the line as a failing finding does.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO
from xml.sax.saxutils import escape, quoteattr

import orjson
from rich.table import Table

from core.codes import CODES, Severity
from core.diagnostics import render
from verifier.findings import Result


@dataclass
class Totals:
    """Counts over a batch: transcripts, verdicts, findings per check code and per rule."""

    transcripts: int = 0
    passed: int = 0
    by_code: Counter[str] = field(default_factory=Counter)
    by_rule: dict[str, Counter[str]] = field(default_factory=dict)  # rule -> severity -> count

    @property
    def failed(self) -> int:
        return self.transcripts - self.passed

    def add(self, result: Result) -> None:
        self.transcripts += 1
        self.passed += result.passed
        for finding in result.findings:
            self.by_code[finding.code] += 1
            if finding.rule is not None:
                counts = self.by_rule.get(finding.rule)
                if counts is None:
                    counts = self.by_rule[finding.rule] = Counter()
                counts[str(finding.severity)] += 1

    def to_json(self) -> dict:
        return {
            "transcripts": self.transcripts,
            "passed": self.passed,
            "failed": self.failed,
            "by_code": {
                code: {"severity": str(CODES[code].severity), "count": count}
                for code, count in sorted(self.by_code.items())
            },
            "by_rule": {rule: dict(counts) for rule, counts in sorted(self.by_rule.items())},
        }


def failure_text(result: Result, against: str, where: str | None = None) -> str:
    """A readable block: the transcript, its verdict, each finding on a line, the rule that
    decided over the rules an exception dropped (when one did), the scores."""
    errors = sum(f.severity is Severity.ERROR for f in result.findings)
    warnings = sum(f.severity is Severity.WARNING for f in result.findings)
    name = result.id if result.id is not None else "(no id)"
    location = f" ({where})" if where else ""
    lines = [
        f"{result.verdict.value.upper()} {name}{location} against {against}: "
        f"{_count(errors, 'error')}, {_count(warnings, 'warning')}"
    ]
    lines.extend(f"  {render(f)}" for f in result.findings)
    if result.overridden:  # which rule decided, and the matching or cited rules it dropped
        lines.append(f"  decided by {result.winner} over {', '.join(result.overridden)}")
    s = result.scores
    confession = "-" if s.confession is None else f"{s.confession:.2f}"
    lines.append(f"  scores: format {s.format:.2f}, policy {s.policy:.2f}, confession {confession}")
    return "\n".join(lines)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def totals_tables(totals: Totals) -> list[Table]:
    """The totals per check code and per rule, as rich tables."""
    by_code = Table(title="Findings by check", title_justify="left")
    for name, justify in (
        ("code", "left"),
        ("severity", "left"),
        ("count", "right"),
        ("check", "left"),
    ):
        by_code.add_column(name, justify=justify)
    for code, count in sorted(totals.by_code.items()):
        check = CODES[code]
        by_code.add_row(code, check.severity.value, str(count), check.title)
    by_rule = Table(title="Findings by rule", title_justify="left")
    by_rule.add_column("rule")
    for severity in Severity:
        by_rule.add_column(severity.value + "s", justify="right")
    for rule, counts in sorted(totals.by_rule.items()):
        by_rule.add_row(rule, *(str(counts[s.value]) for s in Severity))
    return [by_code, by_rule]


def summary_line(totals: Totals) -> str:
    return f"{totals.transcripts} transcripts: {totals.passed} passed, {totals.failed} failed"


Judgements = Mapping[tuple[str, int], dict]  # a judge's judgement JSON by (source, line)


def record(source: str, line: int, result: Result, judgements: Judgements | None = None) -> bytes:
    """One report line (JSONL): where the transcript was, then its result; when judged,
    its "judgement" (null for a line the judge had nothing to read)."""
    data = {"source": source, "line": line, **result.to_json()}
    if judgements is not None:
        data["judgement"] = judgements.get((source, line))
    return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)


def judgement_failed(judgement: dict | None) -> bool:
    return judgement is not None and judgement["verdict"] == "fail"


def judgement_text(judgement: dict) -> str:
    """A judgement's block: who judged, k, agreement and verdict, then its findings."""
    agreement = ", ".join(f"{part} {value:g}" for part, value in judgement["agreement"].items())
    lines = [
        f"  judged by {judgement['judge']} (k={judgement['k']}, {judgement['aggregate']}"
        + (f"; agreement {agreement}" if agreement else "")
        + f"): {judgement['verdict']}, {judgement['status']}"
    ]
    lines.extend(
        f"  {f['path'] or '-'}: {f['severity']}[{f['code']}] (judge): {f['message']}"
        for f in judgement["findings"]
    )
    return "\n".join(lines)


class JudgeTotals:
    """Counts of judgements: judged, failed, unscored (JG001/JG002 among them)."""

    def __init__(self, judgements: Judgements):
        values = [j for j in judgements.values() if j is not None]
        self.judged = len(values)
        self.failed = sum(judgement_failed(j) for j in values)
        self.unscored = sum(j["status"] == "unscored" for j in values)
        self.judges = sorted({j["judge"] for j in values})

    def to_json(self) -> dict:
        return {
            "judges": self.judges,
            "judged": self.judged,
            "failed": self.failed,
            "unscored": self.unscored,
        }

    def line(self) -> str:
        return (
            f"{self.judged} judged by {', '.join(self.judges) or 'the judge'}: "
            f"{self.failed} failed ({self.unscored} unscored)"
        )


class JsonSummary:
    """`{"spec": ..., "failures": [...], "totals": {...}}`, failures written as they come.
    Nothing is written before the first result, so an input error can still be the
    command's only output."""

    def __init__(self, stream: TextIO, spec: dict, judgements: Judgements | None = None):
        self.stream = stream
        self.head = '{"spec": ' + orjson.dumps(spec).decode() + ', "failures": ['
        self.first = True
        self.judgements = judgements

    def add(self, source: str, line: int, result: Result) -> None:
        judged = self.judgements.get((source, line)) if self.judgements is not None else None
        if result.passed and not judgement_failed(judged):
            return
        self._begin()
        text = record(source, line, result, self.judgements).decode().rstrip()
        self.stream.write(("\n  " if self.first else ",\n  ") + text)
        self.first = False

    def close(self, totals: Totals) -> None:
        """The totals; with judgements, the judge's beside them as "judge"."""
        self._begin()
        self.stream.write('\n], "totals": ' + orjson.dumps(totals.to_json()).decode())
        if self.judgements is not None:
            judged = JudgeTotals(self.judgements).to_json()
            self.stream.write(', "judge": ' + orjson.dumps(judged).decode())
        self.stream.write("}\n")

    def _begin(self) -> None:
        if self.head:
            self.stream.write(self.head)
            self.head = ""


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    return escape(_NOT_XML.sub("\ufffd", text))


def _attr(text: str) -> str:
    return quoteattr(_NOT_XML.sub("\ufffd", text))


class JUnitWriter:
    """JUnit XML: a test suite per input file, a test case per transcript."""

    def __init__(self, stream: TextIO, against: str, judgements: Judgements | None = None):
        self.stream = stream
        self.against = against
        self.judgements = judgements
        self.cases: tempfile.SpooledTemporaryFile | None = None
        stream.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="policyspec verify">\n'
        )

    def start_suite(self, source: str) -> None:
        """Begin the test suite of one input file (ending the one before)."""
        if self.cases is not None:
            self._end_suite()
        self.source, self.tests, self.failures = source, 0, 0
        self.cases = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed in _end_suite)
            max_size=8 << 20, mode="w+", encoding="utf-8"
        )

    def add(self, line: int, result: Result) -> None:
        """A test case; with a judgement, its block follows the findings, its judge, k and
        agreement are the case's properties, and a failing judgement fails the case."""
        self.tests += 1
        name = f"{result.id} (line {line})" if result.id is not None else f"line {line}"
        case = f"    <testcase classname={_attr(self.source)} name={_attr(name)}>\n"
        judged = self.judgements.get((self.source, line)) if self.judgements else None
        text = failure_text(result, self.against, f"{self.source}:{line}")
        if judged is not None:
            case += _properties(judged)
            text += "\n" + judgement_text(judged)
        errors = [f for f in result.findings if f.severity is Severity.ERROR]
        if errors or judgement_failed(judged):
            self.failures += 1
            if errors:
                first = errors[0]
                code, message = first.code, f"{first.code} {first.path}: {first.message}"
            else:
                first = next(f for f in judged["findings"] if f["severity"] == "error")
                code = first["code"]
                message = f"{code} {first['path']} (judge {judged['judge']}): {first['message']}"
            attributes = f"type={_attr(code)} message={_attr(message)}"
            case += f"      <failure {attributes}>{_xml(text)}</failure>\n"
        elif result.findings or (judged is not None and judged["findings"]):
            case += f"      <system-out>{_xml(text)}</system-out>\n"
        self.cases.write(case + "    </testcase>\n")

    def _end_suite(self) -> None:
        self.stream.write(
            f'  <testsuite name={_attr(self.source)} tests="{self.tests}" '
            f'failures="{self.failures}" errors="0" skipped="0">\n'
        )
        self.cases.seek(0)
        while chunk := self.cases.read(1 << 20):
            self.stream.write(chunk)
        self.cases.close()
        self.cases = None
        self.stream.write("  </testsuite>\n")

    def close(self) -> None:
        if self.cases is not None:
            self._end_suite()
        self.stream.write("</testsuites>\n")


def _properties(judgement: dict) -> str:
    """Who judged, k and agreement as JUnit properties (the judgement's findings are in
    the case's text, each marked "(judge)")."""
    values = {
        "judge": judgement["judge"],
        "judge.k": str(judgement["k"]),
        "judge.verdict": judgement["verdict"],
        "judge.status": judgement["status"],
        **{f"judge.agreement.{part}": f"{v:g}" for part, v in judgement["agreement"].items()},
    }
    rows = "".join(
        f"        <property name={_attr(name)} value={_attr(value)}/>\n"
        for name, value in values.items()
    )
    return f"      <properties>\n{rows}      </properties>\n"
