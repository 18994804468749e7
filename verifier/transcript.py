"""The transcript model, and reading one from JSON, a dict, or a model's raw output text.

A transcript that does not validate as a whole is read again in three
independent parts, so that a fault in one is reported where it is and does not
hide the others: the envelope (id, spec, category, messages), the answer part of
`output` (reasoning, decision, style, answer) and the confession. A fault in the
confession never stops the answer being verified (the seal of confession).

`output` may be the raw text a model emitted; the JSON object in it is parsed,
and text that ends inside that object is reported as truncated, not malformed.
When the text ends inside the confession, the answer part before it is still
verified (the confession alone is reported).

Every fault becomes a finding with a JSON path; nothing here raises on bad input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.confession import Compliance
from core.diagnostics import Diagnostic


class _Model(BaseModel):
    # strict: "7" is not a grade and 1 is not an ID; unknown keys are ignored.
    model_config = ConfigDict(strict=True, frozen=True, extra="ignore")


class SpecRef(_Model):
    name: str
    version: str | None = None
    hash: str | None = None


class FunctionCall(_Model):
    name: str
    arguments: str | dict[str, Any]  # JSON text in OpenAI's chat format; an object is read too


class ToolCall(_Model):
    """A call in an assistant message, in OpenAI's chat format."""

    id: str | None = None
    type: str = "function"
    function: FunctionCall


class Message(_Model):
    role: str  # user, assistant, system, developer or tool
    content: str | None  # null in an assistant message that only calls tools
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None  # a tool message: the call it answers


class Citation(_Model):
    rule: str
    claim: str


class Objective(_Model):
    objective: str
    rule: str | None = None
    compliance: Compliance
    analysis: str


class Confession(_Model):
    compliance_analysis: list[Objective]
    uncertainties_and_conflicts: list[str]
    overall_compliance_grade: int = Field(ge=1, le=7)


class OutputCall(_Model):
    """A tool call in the output, in the output schema's form: the tool's name and its
    arguments as an object."""

    name: str
    arguments: str | dict[str, Any]


class Output(_Model):
    reasoning: list[Citation]
    decision: str
    style: str | None = None
    answer: str
    tool_calls: list[OutputCall] | None = None  # when the spec declares tools
    confession: Confession | None = None


# One setting of how `policyspec generate` made a transcript. A float is finite: NaN and
# the infinities are not JSON (orjson refuses them; pydantic-core's parser would not).
Setting = str | bool | int | Annotated[float, Field(allow_inf_nan=False)] | None


class Transcript(_Model):
    id: str | None = None
    spec: SpecRef | None = None
    category: str | None = None
    # What the deployment knows of the conversation (`{"audience": "minor"}`): the
    # attributes a spec declares and its rules test with `when` and `unless`.
    metadata: dict[str, Any] | None = None
    messages: list[Message]
    output: Output | None = None  # None when it could not be read (findings say why)
    # How it was made (model, engine, seed, ...): read, not verified.
    generation: dict[str, Setting] | None = None

    @property
    def attributes(self) -> dict[str, str]:
        """The metadata values that are text, what attribute tests compare."""
        if not self.metadata:
            return {}
        return {key: value for key, value in self.metadata.items() if isinstance(value, str)}

    @property
    def conversation(self) -> tuple[tuple[str, str], ...]:
        """The messages as (role, content) pairs and then the output's answer as the last
        assistant turn: what matches read (`match ... in last assistant` reads the answer)."""
        pairs = [(m.role, m.content or "") for m in self.messages]
        if self.output is not None:
            pairs.append(("assistant", self.output.answer))
        return tuple(pairs)

    @property
    def request(self) -> str:
        """The user's turns, one per line: what request matchers read (never a system
        message, which may hold the spec, nor the assistant's own words)."""
        return "\n".join([m.content or "" for m in self.messages if m.role == "user"])


_VALIDATOR = Transcript.__pydantic_validator__


@dataclass
class Parsed:
    """A transcript read as far as it could be, and what stopped it."""

    transcript: Transcript | None
    findings: list[Diagnostic] = field(default_factory=list)
    id: str | None = None  # the transcript's id, when it can be read even if the rest cannot


def parse(item: Transcript | dict | str | bytes) -> Parsed:
    """Read a transcript from a model, a dict, or JSON text."""
    if isinstance(item, str | bytes):
        return _parse_text(item)
    if isinstance(item, Transcript):
        return Parsed(item, _missing_parts(item.output), item.id)
    return _parse_data(item)


def _parse_text(text: str | bytes) -> Parsed:
    # A byte order mark at the start is not JSON; drop it, as the spec loader does.
    text = text.removeprefix(b"\xef\xbb\xbf" if isinstance(text, bytes) else "\ufeff")
    transcript = _exact_transcript(text)
    if transcript is not None:
        return parse(transcript)
    data, finding = load_json(text, "$")
    return Parsed(None, [finding]) if finding else _parse_data(data)


def _exact_transcript(text: str | bytes) -> Transcript | None:
    """The transcript in JSON text that holds the model's keys and nothing else, parsed and
    validated in one pydantic-core call; None for any other text.

    Such text reads the same as through orjson and `Transcript.model_validate`: with no
    key the model ignores, every value is a string, an integer from 1 to 7, an array, an
    object or null, so none is one of the numbers only pydantic-core's parser accepts
    (NaN, Infinity, a float past the double range). Other text takes the general path.
    """
    try:
        return _VALIDATOR.validate_json(text, extra="forbid")
    except ValidationError:
        return None


def _parse_data(item: Any) -> Parsed:
    """Read a transcript from parsed JSON (or a dict), part by part where it does not validate."""
    if not isinstance(item, dict):
        return Parsed(
            None,
            [Diagnostic("VF003", f"a transcript is a JSON object, not {_kind(item)}", path="$")],
        )
    findings: list[Diagnostic] = []
    output = item.get("output")
    if isinstance(output, str):
        output = extract_object(output, findings)
        item = {**item, "output": output}
    if isinstance(output, dict) and output.get("confession") is not _CUT:
        try:  # the common case: all of it valid, read in one go
            transcript = Transcript.model_validate(item)
        except ValidationError:
            pass
        else:
            return Parsed(transcript, findings + _missing_parts(transcript.output), transcript.id)
    return _parse_parts(item, output, findings)


def _missing_parts(output: Output | None) -> list[Diagnostic]:
    if output is None:
        return [Diagnostic("VF003", "the transcript has no output", path="$.output")]
    if output.confession is None:
        return [Diagnostic("VF060", "the output has no confession", path="$.output.confession")]
    return []


def _parse_parts(item: dict, output: Any, findings: list[Diagnostic]) -> Parsed:
    """Read the envelope, the answer part and the confession each on its own, to report
    every fault where it is."""
    envelope = {key: value for key, value in item.items() if key != "output"}
    try:
        transcript = Transcript.model_validate(envelope)
    except ValidationError as error:
        known = item.get("id")
        findings.extend(_schema_findings(error, "$", "VF003"))
        return Parsed(None, findings, known if isinstance(known, str) else None)
    if output is None and not findings:
        findings.append(Diagnostic("VF003", "the transcript has no output", path="$.output"))
    if output is not None:
        output = _parse_output(output, findings)
    if output is not None:
        transcript = transcript.model_copy(update={"output": output})
    return Parsed(transcript, findings, transcript.id)


def _parse_output(raw: Any, findings: list[Diagnostic]) -> Output | None:
    if not isinstance(raw, dict):
        findings.append(
            Diagnostic("VF003", f"output is a JSON object, not {_kind(raw)}", path="$.output")
        )
        return None
    answer_part = dict(raw)
    raw_confession = answer_part.pop("confession", None)
    try:
        output = Output.model_validate(answer_part)
    except ValidationError as error:
        findings.extend(_schema_findings(error, "$.output", "VF003"))
        return None
    path = "$.output.confession"
    if raw_confession is None:
        findings.append(Diagnostic("VF060", "the output has no confession", path=path))
        return output
    if raw_confession is _CUT:
        findings.append(
            Diagnostic("VF060", "the output was cut off inside the confession", path=path)
        )
        return output
    try:
        confession = Confession.model_validate(raw_confession)
    except ValidationError as error:
        findings.extend(_schema_findings(error, path, "VF060"))
        return output
    return output.model_copy(update={"confession": confession})


def load_json(data: str | bytes, path: str) -> tuple[Any, Diagnostic | None]:
    """Parse JSON text; a failure says whether the text was cut off, malformed or not UTF-8."""
    try:
        return orjson.loads(data), None
    except orjson.JSONDecodeError as error:
        reason = str(error)
    if isinstance(data, bytes):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError as error:
            return None, Diagnostic(
                "VF004",
                f"not UTF-8: byte {data[error.start]:#04x} at offset {error.start}",
                path=path,
            )
    if not data.strip():
        return None, Diagnostic("VF001", "empty: no JSON at all", path=path)
    if reason.startswith(_END_OF_DATA):
        return None, Diagnostic("VF002", f"the JSON is cut off: {reason}", path=path)
    return None, Diagnostic("VF001", f"not valid JSON: {reason}", path=path)


_END_OF_DATA = "unexpected end of data"  # how orjson says the text ended inside a value


# The raw output was cut off inside its confession: the answer part before it is kept.
_CUT = object()


def extract_object(text: str, findings: list[Diagnostic]) -> dict | None:
    """The JSON object in a model's raw text (which may have prose or a code fence around it)."""
    start = text.find("{")
    if start < 0:
        findings.append(
            Diagnostic("VF001", "the output text holds no JSON object", path="$.output")
        )
        return None
    last = text.rfind("}") + 1
    try:
        found = orjson.loads(text[start:last])
    except orjson.JSONDecodeError:
        pass
    else:
        _outside(text, start, last, findings)
        return found
    end, cut = _scan(text, start)
    try:
        found = orjson.loads(text[start:] if end < 0 else text[start:end])
    except orjson.JSONDecodeError as error:
        reason = str(error)
    else:
        _outside(text, start, len(text) if end < 0 else end, findings)
        return found
    if not reason.startswith(_END_OF_DATA):
        findings.append(
            Diagnostic("VF001", f"the output is not valid JSON: {reason}", path="$.output")
        )
        return None
    if cut is not None:
        try:
            answer_part = orjson.loads(text[start:cut] + "}")
        except orjson.JSONDecodeError:
            answer_part = None
        if isinstance(answer_part, dict):
            return answer_part | {"confession": _CUT}
    findings.append(Diagnostic("VF002", f"the output is cut off: {reason}", path="$.output"))
    return None


# A Markdown code fence around the object is packaging, not text outside it.
_FENCE_OPEN = re.compile(r"\s*```[a-zA-Z]*\s*\Z")
_FENCE_CLOSE = re.compile(r"\A\s*```\s*\Z")


def _outside(text: str, start: int, end: int, findings: list[Diagnostic]) -> None:
    """VF006 for words before or after the object: prose the schema did not constrain, which
    the verifier would otherwise never read (a second object, a plan, an answer)."""
    before, after = text[:start], text[end:]
    if before.strip() and not _FENCE_OPEN.fullmatch(before):
        where = f"{len(before.strip())} characters before it"
    elif after.strip() and not _FENCE_CLOSE.fullmatch(after):
        where = f"{len(after.strip())} characters after it"
    else:
        return
    findings.append(
        Diagnostic(
            "VF006", f"the output text holds {where} outside its JSON object", path="$.output"
        )
    )


_TOKEN = re.compile(r'\\.|["{}\[\],]', re.S)
_COLON = re.compile(r"\s*:")


def _scan(text: str, start: int) -> tuple[int, int | None]:
    """Where the JSON value opening at `start` ends, and where to cut it before its confession.

    The end is the index after the closing bracket, or -1 when the text ends
    first. The cut is the comma before a top-level "confession" key.
    """
    depth, in_string, string_start, last_comma, cut = 0, False, 0, None, None
    for match in _TOKEN.finditer(text, start):
        token = match.group()
        if in_string:
            if token == '"':
                in_string = False
                key = text[string_start : match.start()]
                if depth == 1 and key == "confession" and _COLON.match(text, match.end()):
                    cut = last_comma
        elif token == '"':
            in_string, string_start = True, match.end()
        elif token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
            if depth == 0:
                return match.end(), cut
        elif token == "," and depth == 1:
            last_comma = match.start()
    return -1, cut


def _schema_findings(error: ValidationError, root: str, code: str) -> list[Diagnostic]:
    findings = []
    for problem in error.errors(include_url=False):
        path = root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in problem["loc"])
        message = problem["msg"]
        if problem["type"] not in (
            "missing",
            "literal_error",
            "greater_than_equal",
            "less_than_equal",
        ):
            message += f", got {_kind(problem['input'])}"
        findings.append(Diagnostic(code, message, path=path))
    return findings


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    names |= {int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
