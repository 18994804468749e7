"""What an HTML report shows, read from a verify report (and, optionally, the transcripts
it was made from, a baseline report and the spec).

Every line of every input is read on its own: a line that is not what it should be is
counted and listed (file, line number, why), never a traceback. Only input that cannot be
used at all (a file that cannot be opened, or a "report" none of whose lines is a report
line) raises `core.diagnostics.InputError`.

The page gets two things: small aggregates computed here (totals, pass rates, confusion
matrices, confession honesty, judge agreement, the baseline comparison), which the
template draws, and one compact row per transcript for the table, which the page's
script filters and draws (`Report.payload`). Strings that repeat (codes, messages, paths,
rules, decisions) are held once in a string table and rows refer to them by index.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson

import spec_lang
from core.codes import CODES, VIOLATIONS
from core.diagnostics import InputError
from verifier.batch import MAX_LINE_BYTES, read_lines

NONE = "(none)"  # how a missing decision, category or kind is shown
SHOWN_BAD_LINES = 200  # bad lines listed per input; all are counted
SHOWN_CHANGES = 200  # transcripts listed per baseline change; all are counted
PROMPT_CHARS = 160  # the excerpt of the last user message a table row shows
FINDING_FIELDS = 6  # code, severity, message, path, rule, hint: a row's findings, flattened
ADMITTED, UNREPORTED = "VF064", "VF062"  # the confession admits a violation / leaves one out


@dataclass
class BadLine:
    file: str
    line: int
    why: str


@dataclass
class Input:
    """One input file as read: how many lines, and which were bad."""

    path: str
    lines: int = 0
    bad: list[BadLine] = field(default_factory=list)
    bad_count: int = 0

    def reject(self, line: int, why: str) -> None:
        self.bad_count += 1
        if len(self.bad) < SHOWN_BAD_LINES:
            self.bad.append(BadLine(self.path, line, why))


@dataclass
class Finding:
    code: str
    severity: str
    message: str
    path: str | None
    rule: str | None
    hint: str | None


@dataclass
class Row:
    """One report line: the result of one transcript."""

    source: str
    line: int
    id: str | None
    passed: bool
    scores: tuple[float | None, float | None, float | None]
    decision: str | None
    required: str | None
    answer_kind: str | None
    winner: str | None
    overridden: list[str]
    findings: list[Finding]
    judgement: dict | None
    category: str | None = None
    rules: list[str] = field(default_factory=list)  # every rule the result or transcript names
    transcript: int = -1  # index into Report.transcripts, -1: none given or none matched
    prompt: str = ""
    change: str = ""  # against the baseline: better, worse, changed, same, new

    @property
    def key(self) -> str:
        return self.id if self.id is not None else f"{self.source}:{self.line}"

    @property
    def codes(self) -> Counter[str]:
        return Counter(f.code for f in self.findings)

    @property
    def violated(self) -> bool:
        return any(f.code in VIOLATIONS for f in self.findings)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _score(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _lines(path: Path) -> Iterator[tuple[int, bytes | int]]:
    try:
        with path.open("rb") as stream:
            yield from enumerate(read_lines(stream, MAX_LINE_BYTES), 1)
    except OSError as error:
        raise InputError(f"{path}: cannot read it ({error.strerror or error})") from error


def _objects(path: Path, read: Input) -> Iterator[tuple[int, dict]]:
    """Each line of a JSONL file that holds a JSON object; the others go to `read.bad`."""
    for number, line in _lines(path):
        read.lines = number
        if isinstance(line, int):
            read.reject(number, f"the line is {line} bytes, over the limit of {MAX_LINE_BYTES}")
        elif not line.strip():
            read.reject(number, "blank line")
        else:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                read.reject(number, f"not JSON ({error})")
                continue
            if isinstance(value, dict):
                yield number, value
            else:
                read.reject(number, f"a JSON {type(value).__name__}, not an object")


def _finding(value: object) -> Finding | None:
    if not isinstance(value, dict) or not isinstance(value.get("code"), str):
        return None
    code = value["code"]
    severity = _text(value.get("severity")) or (
        str(CODES[code].severity) if code in CODES else "error"
    )
    return Finding(
        code,
        severity,
        _text(value.get("message")) or "",
        _text(value.get("path")),
        _text(value.get("rule")),
        _text(value.get("hint")),
    )


def _row(record: dict) -> Row | str:
    """The row of one report line, or why the line is not a report line."""
    verdict = record.get("verdict")
    if verdict not in ("pass", "fail"):
        return "no verdict: not a line of a verify report"
    raw_findings = record.get("findings", [])
    if not isinstance(raw_findings, list):
        return "findings is not a list"
    findings = [_finding(f) for f in raw_findings]
    if any(f is None for f in findings):
        return "a finding without a code"
    scores = record.get("scores") if isinstance(record.get("scores"), dict) else {}
    line = record.get("line")
    overridden = record.get("overridden")
    judgement = record.get("judgement")
    return Row(
        source=_text(record.get("source")) or "",
        line=line if isinstance(line, int) and not isinstance(line, bool) else 0,
        id=_text(record.get("id")),
        passed=verdict == "pass",
        scores=tuple(_score(scores.get(k)) for k in ("format", "policy", "confession")),
        decision=_text(record.get("decision")),
        required=_text(record.get("required")),
        answer_kind=_text(record.get("answer_kind")),
        winner=_text(record.get("winner")),
        overridden=[r for r in overridden if isinstance(r, str)]
        if isinstance(overridden, list)
        else [],
        findings=findings,
        judgement=judgement if isinstance(judgement, dict) else None,
    )


def read_report(path: Path) -> tuple[list[Row], Input]:
    """Every report line of a verify report; raises InputError when none of its lines is."""
    read = Input(str(path))
    rows = []
    for number, record in _objects(path, read):
        row = _row(record)
        if isinstance(row, str):
            read.reject(number, row)
        else:
            rows.append(row)
    if not rows and read.bad_count:
        first = read.bad[0]
        raise InputError(
            f"{path}: not a verify report (none of its {read.lines} lines is a report line; "
            f"line {first.line}: {first.why})"
        )
    return rows, read


@dataclass
class Transcripts:
    """Transcripts by line number and by ID, each kept as compact JSON text."""

    path: Path
    read: Input
    by_line: dict[int, dict] = field(default_factory=dict)
    by_id: dict[str, int] = field(default_factory=dict)  # id -> line number

    def find(self, row: Row) -> tuple[int, dict] | None:
        """The transcript of a report row: by line number when the row's source is this file
        (verify names the file as it was given), else by ID."""
        if row.source and _same_file(row.source, self.path) and row.line in self.by_line:
            return row.line, self.by_line[row.line]
        if row.id is not None and row.id in self.by_id:
            number = self.by_id[row.id]
            return number, self.by_line[number]
        return None


def _same_file(source: str, path: Path) -> bool:
    if source == str(path):
        return True
    try:
        return os.path.samefile(source, path)
    except OSError:
        return Path(source).name == path.name and not os.path.exists(source)


def read_transcripts(path: Path) -> Transcripts:
    read = Input(str(path))
    found = Transcripts(path, read)
    for number, record in _objects(path, read):
        if "output" not in record and "messages" not in record:
            read.reject(number, "not a transcript (no messages, no output)")
            continue
        found.by_line[number] = record
        ident = record.get("id")
        if isinstance(ident, str):
            found.by_id.setdefault(ident, number)
    if not found.by_line and read.bad_count:
        raise InputError(f"{path}: no line of it is a transcript (line 1: {read.bad[0].why})")
    return found


def _cited(transcript: dict) -> list[str]:
    output = transcript.get("output")
    reasoning = output.get("reasoning") if isinstance(output, dict) else None
    if not isinstance(reasoning, list):
        return []
    return [s["rule"] for s in reasoning if isinstance(s, dict) and isinstance(s.get("rule"), str)]


def _prompt(transcript: dict) -> str:
    messages = transcript.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                text = " ".join(content.split())
                return text if len(text) <= PROMPT_CHARS else text[: PROMPT_CHARS - 1] + "…"
    return ""


def _script_json(value: object) -> bytes:
    """JSON that can stand inside a <script> element: no <, > or & at all (JSON escapes
    them inside strings, and they occur nowhere else), so no `</script>` or `<!--`."""
    return (
        orjson.dumps(value)
        .replace(b"<", b"\\u003c")
        .replace(b">", b"\\u003e")
        .replace(b"&", b"\\u0026")
    )


def _rate(passed: int, total: int) -> float | None:
    return passed / total if total else None


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


@dataclass
class Matrix:
    """Counts of (row label, column label) pairs, with labels in a stable order."""

    title: str
    row_name: str
    column_name: str
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    order: list[str] = field(default_factory=list)  # preferred label order (the spec's decisions)

    def add(self, row: str | None, column: str | None) -> None:
        self.counts[(row or NONE, column or NONE)] += 1

    def _labels(self, index: int) -> list[str]:
        seen = {key[index] for key in self.counts}
        known = [label for label in self.order if label in seen]
        return known + sorted(seen - set(known))

    @property
    def rows(self) -> list[str]:
        return self._labels(0)

    @property
    def columns(self) -> list[str]:
        return self._labels(1)

    @property
    def largest(self) -> int:
        return max(self.counts.values(), default=0)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def diagonal(self) -> int:
        return sum(n for (row, column), n in self.counts.items() if row == column)


@dataclass
class Rate:
    name: str
    passed: int
    total: int

    @property
    def value(self) -> float:
        return self.passed / self.total if self.total else 0.0


@dataclass
class Report:
    """Everything the page shows. Build one with `build`."""

    title: str
    inputs: list[Input]
    rows: list[Row]
    transcripts: list[bytes]  # compact JSON text, safe inside a <script> element
    baseline: Baseline | None
    order: list[str]  # the spec's decisions, strictest last, when a spec was given

    @property
    def passed(self) -> int:
        return sum(row.passed for row in self.rows)

    @property
    def failed(self) -> int:
        return len(self.rows) - self.passed

    @property
    def pass_rate(self) -> float | None:
        return _rate(self.passed, len(self.rows))

    @property
    def bad_lines(self) -> int:
        return sum(read.bad_count for read in self.inputs)

    @property
    def mean_scores(self) -> dict[str, float | None]:
        names = ("format", "policy", "confession")
        return {
            name: _mean([row.scores[i] for row in self.rows if row.scores[i] is not None])
            for i, name in enumerate(names)
        }

    @property
    def by_code(self) -> list[tuple[str, str, str, int, int]]:
        """(code, severity, title, findings, transcripts) by findings, most first."""
        findings: Counter[str] = Counter()
        transcripts: Counter[str] = Counter()
        severity: dict[str, str] = {}
        for row in self.rows:
            codes = row.codes
            findings.update(codes)
            transcripts.update(codes.keys())
            for finding in row.findings:
                severity.setdefault(finding.code, finding.severity)
        return [
            (
                code,
                severity[code],
                CODES[code].title if code in CODES else "",
                count,
                transcripts[code],
            )
            for code, count in sorted(findings.items(), key=lambda item: (-item[1], item[0]))
        ]

    def _rates(self, names_of) -> list[Rate]:
        passed: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for row in self.rows:
            for name in names_of(row):
                total[name] += 1
                passed[name] += row.passed
        rates = [Rate(name, passed[name], total[name]) for name in total]
        return sorted(rates, key=lambda rate: (rate.value, -rate.total, rate.name))

    @property
    def by_rule(self) -> list[Rate]:
        """Pass rate among the transcripts that name each rule (cited, deciding, overridden
        or in a finding), worst first."""
        return self._rates(lambda row: row.rules)

    @property
    def by_category(self) -> list[Rate]:
        return self._rates(lambda row: [row.category or NONE])

    @property
    def required_decision(self) -> Matrix:
        matrix = Matrix("Required decision against given decision", "required", "given")
        matrix.order = self.order
        for row in self.rows:
            matrix.add(row.required, row.decision)
        return matrix

    @property
    def kind_decision(self) -> Matrix:
        kinds = ["full_compliance", "partial_refusal", "full_refusal"]
        matrix = Matrix("Answer kind against given decision", "answer kind", "given")
        for row in self.rows:
            matrix.add(row.answer_kind, row.decision)
        matrix.order = kinds + self.order
        return matrix

    @property
    def honesty(self) -> Honesty:
        honesty = Honesty()
        for row in self.rows:
            honesty.add(row)
        return honesty

    @property
    def judged(self) -> Judged | None:
        judged = Judged(order=self.order)
        for row in self.rows:
            if row.judgement is not None:
                judged.add(row)
        return judged if judged.total else None

    def payload(self) -> bytes:
        """The table's data as compact JSON for the page's script (see reports/report.js)."""
        strings: dict[str, int] = {}

        def index(text: str | None) -> int:
            if text is None:
                return -1
            found = strings.get(text)
            if found is None:
                found = strings[text] = len(strings)
            return found

        rows = []
        for row in self.rows:
            flat = []
            for f in row.findings:
                flat += [index(f.code), index(f.severity), index(f.message), index(f.path)]
                flat += [index(f.rule), index(f.hint)]
            rows.append(
                [
                    row.id,
                    int(row.passed),
                    index(row.source),
                    row.line,
                    *row.scores,
                    index(row.decision),
                    index(row.required),
                    index(row.answer_kind),
                    index(row.category),
                    flat,
                    [index(rule) for rule in row.rules],
                    row.transcript,
                    row.prompt,
                    index(row.change or None),
                ]
            )
        return _script_json(
            {"strings": list(strings), "rows": rows, "baseline": self.baseline is not None}
        )


@dataclass
class Honesty:
    """What the checks found against what the confession says, over readable outputs."""

    violated_admitted: int = 0  # a violation, and the confession admits one (VF064)
    violated_unreported: int = 0  # a violation the confession leaves out (VF062)
    violated_other: int = 0  # a violation, neither: e.g. the confession is unreadable
    clean_admitted: int = 0  # no violation found, yet the confession admits one
    clean: int = 0  # no violation found, none admitted
    unread: int = 0  # outputs that could not be read: nothing to weigh (not counted above)

    def add(self, row: Row) -> None:
        if row.scores[2] is None:  # the verifier gives no confession score to an unread output
            self.unread += 1
            return
        codes = {f.code for f in row.findings}
        admitted = ADMITTED in codes
        if row.violated:
            if UNREPORTED in codes:
                self.violated_unreported += 1
            elif admitted:
                self.violated_admitted += 1
            else:
                self.violated_other += 1
        elif admitted:
            self.clean_admitted += 1
        else:
            self.clean += 1

    @property
    def violated(self) -> int:
        return self.violated_admitted + self.violated_unreported + self.violated_other

    @property
    def confessed_rate(self) -> float | None:
        """P(confessed | violated): the confession admits it and leaves nothing out."""
        return _rate(self.violated_admitted, self.violated)


@dataclass
class Judged:
    """The verifier's verdict against a judge's, where report lines carry a `judgement`:
    `{"verdict": "pass" | "fail"}` or `{"grade": 1..7}` (4 and above pass, as in the
    rubric), and optionally the judge's `decision`; or the judgement `policyspec judge`
    writes, whose answer verdict holds the grade and the required decision."""

    order: list[str]
    verdicts: Matrix = field(
        default_factory=lambda: Matrix("Verifier against judge", "verifier", "judge")
    )
    decisions: Matrix = field(
        default_factory=lambda: Matrix("Given decision against the judge's", "given", "judge")
    )
    grades: Counter[int] = field(default_factory=Counter)

    def add(self, row: Row) -> None:
        judgement = row.judgement
        verdict = judgement.get("verdict")
        # `policyspec judge` keeps the answer judge's verdict under answer.verdict: its
        # grade and the decision it requires.
        answer = judgement.get("answer")
        judged = answer.get("verdict") if isinstance(answer, dict) else None
        judged = judged if isinstance(judged, dict) else {}
        grade = judgement.get("grade", judged.get("grade"))
        valid_grade = isinstance(grade, int) and not isinstance(grade, bool) and 1 <= grade <= 7
        if valid_grade:
            self.grades[grade] += 1
        if verdict not in ("pass", "fail"):
            verdict = ("pass" if grade >= 4 else "fail") if valid_grade else "unscored"
        self.verdicts.order = ["pass", "fail", "unscored"]
        self.verdicts.add("pass" if row.passed else "fail", verdict)
        decision = _text(judgement.get("decision", judged.get("required_decision")))
        if decision is not None:
            self.decisions.order = self.order
            self.decisions.add(row.decision, decision)

    @property
    def total(self) -> int:
        return self.verdicts.total

    @property
    def agreement(self) -> float | None:
        scored = sum(n for (_, judge), n in self.verdicts.counts.items() if judge != "unscored")
        return _rate(self.verdicts.diagonal, scored)


@dataclass
class Change:
    key: str
    row: int  # index of the current row, -1 when the transcript is gone
    before: str
    after: str
    up: list[str]  # codes found more often now
    down: list[str]  # codes found less often now


@dataclass
class Baseline:
    """What changed from a baseline report to this one, by transcript ID."""

    path: str
    transcripts: int
    passed: int
    better: list[Change] = field(default_factory=list)
    worse: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)  # same verdict, other findings
    new: int = 0
    gone: list[Change] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    codes: list[tuple[str, int, int]] = field(default_factory=list)  # code, before, now

    @property
    def pass_rate(self) -> float | None:
        return _rate(self.passed, self.transcripts)


def _compare(rows: list[Row], before: list[Row], path: Path) -> Baseline:
    baseline = Baseline(str(path), len(before), sum(row.passed for row in before))
    then = {row.key: row for row in before}
    verdict = {True: "pass", False: "fail"}
    lists = {"better": baseline.better, "worse": baseline.worse, "changed": baseline.changed}
    counts: Counter[str] = Counter()
    for index, row in enumerate(rows):
        old = then.pop(row.key, None)
        if old is None:
            row.change = "new"
            counts["new"] += 1
            continue
        now_codes, old_codes = row.codes, old.codes
        up = sorted(code for code in now_codes if now_codes[code] > old_codes[code])
        down = sorted(code for code in old_codes if old_codes[code] > now_codes[code])
        if row.passed != old.passed:
            row.change = "better" if row.passed else "worse"
        else:
            row.change = "changed" if up or down else "same"
        counts[row.change] += 1
        if row.change in lists:
            target = lists[row.change]
            if len(target) < SHOWN_CHANGES:
                target.append(
                    Change(row.key, index, verdict[old.passed], verdict[row.passed], up, down)
                )
    for key, old in then.items():
        counts["gone"] += 1
        if len(baseline.gone) < SHOWN_CHANGES:
            baseline.gone.append(Change(key, -1, verdict[old.passed], "-", [], sorted(old.codes)))
    baseline.new = counts["new"]
    baseline.counts = dict(counts)
    now_total = Counter(f.code for row in rows for f in row.findings)
    old_total = Counter(f.code for row in before for f in row.findings)
    baseline.codes = sorted(
        ((code, old_total[code], now_total[code]) for code in now_total.keys() | old_total.keys()),
        key=lambda item: (-abs(item[2] - item[1]), item[0]),
    )
    return baseline


def build(
    report: Path,
    transcripts: Path | None = None,
    baseline: Path | None = None,
    spec: spec_lang.Spec | None = None,
    title: str | None = None,
) -> Report:
    rows, read = read_report(report)
    inputs = [read]
    kept: list[bytes] = []
    found = read_transcripts(transcripts) if transcripts is not None else None
    if found is not None:
        inputs.append(found.read)
        kept_at: dict[int, int] = {}  # transcript line -> index in kept
        for row in rows:
            match = found.find(row)
            if match is None:
                continue
            number, record = match
            if number not in kept_at:
                kept_at[number] = len(kept)
                kept.append(_script_json(record))
            row.transcript = kept_at[number]
            category = record.get("category")
            if isinstance(category, str):
                row.category = category
            row.prompt = _prompt(record)
            row.rules = _cited(record)
    for row in rows:
        named = [*row.rules, *([row.winner] if row.winner else []), *row.overridden]
        named += [f.rule for f in row.findings if f.rule]
        row.rules = list(dict.fromkeys(named))
        if row.category is None and spec is not None:
            row.category = _category(spec, row)
    compared = None
    if baseline is not None:
        before, read_before = read_report(baseline)
        inputs.append(read_before)
        compared = _compare(rows, before, baseline)
    order = list(spec.decisions) if spec is not None else []
    return Report(title or f"policyspec report: {report.name}", inputs, rows, kept, compared, order)


def _category(spec: spec_lang.Spec, row: Row) -> str | None:
    for rule in row.rules:
        current = spec.resolve(rule)
        if current is not None and current in spec.category_of:
            return spec.category_of[current].id
    return None
