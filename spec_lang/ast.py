"""The syntax tree of a .policy file: frozen pydantic models that keep source spans.

The tree is faithful to the source: statements stay in the order they were
written, comments are attached to the statement they sit by, and nothing is
resolved across files. Equality ignores spans, so `parse(format(tree)) == tree`
states exactly what the formatter promises; serialising leaves out spans and
comments too, so the JSON of a tree is what it means (the spec's content hash).
Resolution (includes, IDs, the decision order) is the loader's job; judgement is
the checker's.
"""

from __future__ import annotations

from collections import defaultdict
from enum import StrEnum
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SkipValidation

from core.diagnostics import SourceSpan

# The parser builds spans itself, so validating them would only cost time. Nor are a
# block's statements validated again (SkipValidation below): checking each against its
# union of kinds made a rule take three times as long to build as to parse (measured).
Span = Annotated[SourceSpan, SkipValidation]


class Authority(StrEnum):
    """Who a category speaks for; a rule may only override rules of its own level or lower."""

    USER = "user"
    DEVELOPER = "developer"
    PLATFORM = "platform"

    @property
    def rank(self) -> int:
        return _RANK[self]


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {member: rank for kind in (Authority, Severity) for rank, member in enumerate(kind)}


DEFAULT_DECISIONS = ("comply", "safe_complete", "refuse")
DEFAULT_SEVERITIES = tuple(level.value for level in Severity)
# Whose words a match reads: the roles of a conversation's messages. `system` reads the
# system and developer messages alike (OpenAI's chat format renamed one to the other).
READER_ROLES = ("user", "assistant", "system", "tool", "any")
MESSAGE_ROLES = ("user", "assistant", "system", "developer", "tool")
# What a decision may ask of the answer (`answer DECISION KIND`); none: nothing.
ANSWER_KINDS = (*DEFAULT_DECISIONS, "none")
# `language user`: the language the user writes in; `country any`: wherever the user is.
USER_LANGUAGE = "user"
ANY_COUNTRY = "any"
DEFAULT_SEVERITY = Severity.MEDIUM
DEFAULT_AUTHORITY = Authority.PLATFORM


V = TypeVar("V")


class view(Generic[V]):
    """A value derived from a block's statements, declared `text = view[str]()`.

    The first use of any view of a block computes them all in one pass over its
    statements (the block's `_views`) and stores them on the node, where later uses
    find them without a call. A 10,000-rule spec has ~130,000 views: one call per
    block instead of one per view costs 36% fewer instructions (callgrind)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> V:
        if instance is None:
            return self  # type: ignore[return-value]
        instance.__dict__.update(instance._views())
        return instance.__dict__[self.name]


_SPANS = ("span", "id_span")


class Node(BaseModel):
    """Base of every tree node. `span` is where it was written; it takes no part in equality."""

    model_config = ConfigDict(frozen=True, ignored_types=(view,))

    span: Span = Field(exclude=True, repr=False)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self._compared() == other._compared()  # type: ignore[union-attr]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._compared()))

    def _compared(self) -> tuple:
        return tuple(getattr(self, name) for name in type(self).model_fields if name not in _SPANS)

    def __copy__(self) -> Node:
        return _without_views(super().__copy__())

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Node:
        return _without_views(super().__deepcopy__(memo))


def _without_views(node: Node) -> Node:
    """A copy keeps no view computed from the original's statements: `model_copy` copies
    `__dict__`, where views are kept, and may replace the statements they came from."""
    fields = type(node).model_fields
    if len(node.__dict__) > len(fields):
        for name in [name for name in node.__dict__ if name not in fields]:
            del node.__dict__[name]
    return node


class Name(Node):
    """An identifier where it is used (a reference), so diagnostics can point at it."""

    value: str


class Statement(Node):
    """Anything written on its own line(s): it may carry comments before it and one after it."""

    comments: tuple[str, ...] = Field((), exclude=True)
    trailing_comment: str | None = Field(None, exclude=True)


class Block(Statement):
    """A statement with a `{ ... }` body.

    `trailing_comment` follows the opening brace, `end_comments` stand on their
    own lines before the closing brace, and `closing_comment` follows it.
    """

    end_comments: tuple[str, ...] = Field((), exclude=True)
    closing_comment: str | None = Field(None, exclude=True)


def _grouped(statements: tuple) -> defaultdict[type, list]:
    """A body's statements by type, each group in order; an absent type gives []."""
    groups: defaultdict[type, list] = defaultdict(list)
    for statement in statements:
        groups[type(statement)].append(statement)
    return groups


def _first(statements: list, attribute: str, default: Any = None) -> Any:
    """An attribute of the first of some statements (a block says each at most once)."""
    return getattr(statements[0], attribute) if statements else default


class Pattern(Node):
    """A `/source/flags` literal. Compiled with RE2 semantics by the checker and matchers."""

    source: str
    flags: str = ""

    def __str__(self) -> str:
        return f"/{self.source}/{self.flags}"


# Statements of a spec header.


class Version(Statement):
    kind: Literal["version"] = "version"
    value: str


class Decisions(Statement):
    kind: Literal["decisions"] = "decisions"
    labels: tuple[Name, ...]


class Severities(Statement):
    """A declared severity scale, lowest first: `severities S1 < S2 < S3`. It replaces
    low < medium < high < critical; a rule that names none gets the lowest."""

    kind: Literal["severities"] = "severities"
    labels: tuple[Name, ...]


class Attribute(Statement):
    """An attribute of the conversation that rules can test (`when audience minor`), and
    its values: `attribute audience adult, minor`. A transcript's metadata supplies it."""

    kind: Literal["attribute"] = "attribute"
    name: Name
    values: tuple[Name, ...]


class Default(Statement):
    kind: Literal["default"] = "default"
    decision: Name
    # How an answer is written when no rule applies. Left out of the tree's JSON when
    # absent, so the content hash of a spec that names no default style is unchanged.
    style: Name | None = Field(None, exclude_if=lambda style: style is None)


class Answer(Statement):
    """What a decision asks of the answer: `answer block refuse` checks that an answer
    labelled `block` reads as a refusal. The default decisions ask their own kind; any
    other decision asks nothing unless the spec says so."""

    kind: Literal["answer"] = "answer"
    decision: Name
    answer: Name


class Include(Statement):
    kind: Literal["include"] = "include"
    path: str


class Extends(Statement):
    """`extends "../base"`: this spec is a layer over the spec at that path (relative to
    the root file's folder); the base's files are loaded as they are, before the layer's."""

    kind: Literal["extends"] = "extends"
    path: str


class Tool(Statement):
    """`tool NAME "what it does" arguments a, b`: a tool the model may call. Declared
    tools give the output schema its tool-call form and are the tools `match tool` names."""

    kind: Literal["tool"] = "tool"
    name: Name
    description: str
    arguments: tuple[Name, ...] = ()


# Statements that several blocks share.


class Text(Statement):
    kind: Literal["text"] = "text"
    value: str


class Deprecated(Statement):
    kind: Literal["deprecated"] = "deprecated"
    reason: str


# Statements of a category.


class AuthorityStatement(Statement):
    kind: Literal["authority"] = "authority"
    level: Name


class Summary(Statement):
    kind: Literal["summary"] = "summary"
    value: str


class Define(Statement):
    kind: Literal["define"] = "define"
    term: str
    value: str


class CategoryCode(Statement):
    """The code a category is exported under (`code S9`): every target keeps it."""

    kind: Literal["code"] = "code"
    code: Name


# Statements of a rule.


class StyleRef(Statement):
    kind: Literal["style"] = "style"
    style: Name


class SeverityStatement(Statement):
    kind: Literal["severity"] = "severity"
    level: Name


class Overrides(Statement):
    kind: Literal["overrides"] = "overrides"
    rules: tuple[Name, ...]


class Reads(Node):
    """Whose words a match reads: `in user` (the default), `in last assistant`, `in system`."""

    role: Name
    last: bool = False

    def __str__(self) -> str:
        return f"in {'last ' if self.last else ''}{self.role.value}"


def _absent(value: object) -> bool:
    return value is None


class MatchKeyword(Statement):
    kind: Literal["match_keyword"] = "match_keyword"
    keyword: str
    # Left out of the tree's JSON when absent (the default, user turns), so the content
    # hash of a spec written before `in` is unchanged.
    reads: Reads | None = Field(None, exclude_if=_absent)


class MatchPattern(Statement):
    kind: Literal["match_pattern"] = "match_pattern"
    pattern: Pattern
    reads: Reads | None = Field(None, exclude_if=_absent)


class AttributeTest(Statement):
    """`audience minor`: the conversation's attribute has that value."""

    kind: Literal["attribute_test"] = "attribute_test"
    attribute: Name
    value: Name

    def __str__(self) -> str:
        return f"{self.attribute.value} {self.value.value}"


class When(Statement):
    """`when audience minor`: the rule's matches fire only in such conversations."""

    kind: Literal["when"] = "when"
    test: AttributeTest


class Unless(Statement):
    """`unless pattern /.../` on an exception: where the condition holds, the rule's
    overrides do not apply (the rules it carves out of keep their force)."""

    kind: Literal["unless"] = "unless"
    condition: Annotated[MatchKeyword | MatchPattern | AttributeTest, Field(discriminator="kind")]


class ExampleWith(Statement):
    """`with audience minor` in an example: the conversation's attributes."""

    kind: Literal["with"] = "with"
    test: AttributeTest


class MatchTool(Statement):
    """`match tool NAME [pattern /re/ | keyword "..."]`: the rule applies to a call of the
    tool (an action), every call or those whose arguments the pattern or keyword finds."""

    kind: Literal["match_tool"] = "match_tool"
    tool: Name
    pattern: Pattern | None = None
    keyword: str | None = None


class Floor(Statement):
    """`floor DECISION`: the weakest decision an exception from outside the rule's
    category (a layer's, say) may give in the rule's place."""

    kind: Literal["floor"] = "floor"
    decision: Name


class RenamedFrom(Statement):
    kind: Literal["renamed_from"] = "renamed_from"
    old_id: Name


class Message(Statement):
    kind: Literal["message"] = "message"
    role: Name
    content: str


class Cites(Statement):
    kind: Literal["cites"] = "cites"
    rules: tuple[Name, ...]


class Call(Statement):
    """`call TOOL '{"arg": "value"}'` (written as a string) in an example: the assistant
    calls a tool, with its arguments as JSON text (as in OpenAI's chat format)."""

    kind: Literal["call"] = "call"
    tool: Name
    arguments: str


class Example(Block):
    """`example DECISION "prompt"` (short form) or `example DECISION { user "..." ... }`."""

    kind: Literal["example"] = "example"
    decision: Name
    block: bool
    statements: SkipValidation[
        tuple[Annotated[Message | Call | Cites | ExampleWith, Field(discriminator="kind")], ...]
    ]

    messages = view[tuple[Message, ...]]()
    calls = view[tuple[Call, ...]]()
    cites = view[tuple[Name, ...]]()
    attributes = view[dict[str, str]]()  # `with` statements: attribute to value
    text = view[str]()  # every message and call, one per line: how prompts show the example
    request = view[str]()  # the user messages, one per line: what matchers read

    def _views(self) -> dict[str, Any]:
        messages = tuple(s for s in self.statements if type(s) is Message)
        lines = (
            s.content if type(s) is Message else f"call {s.tool.value} {s.arguments}"
            for s in self.statements
            if type(s) is Message or type(s) is Call
        )
        return {
            "messages": messages,
            "calls": tuple(s for s in self.statements if type(s) is Call),
            "cites": tuple(n for s in self.statements if type(s) is Cites for n in s.rules),
            "attributes": {
                s.test.attribute.value: s.test.value.value
                for s in self.statements
                if type(s) is ExampleWith
            },
            "text": "\n".join(lines),
            "request": "\n".join(m.content for m in messages if m.role.value == "user"),
        }


RuleStatement = Annotated[
    Text
    | StyleRef
    | SeverityStatement
    | Overrides
    | MatchKeyword
    | MatchPattern
    | Example
    | MatchTool
    | Deprecated
    | RenamedFrom
    | AuthorityStatement
    | Floor
    | When
    | Unless,
    Field(discriminator="kind"),
]


class Rule(Block):
    kind: Literal["rule"] = "rule"
    id: str
    id_span: Span = Field(exclude=True, repr=False)
    decision: Name
    title: str
    statements: SkipValidation[tuple[RuleStatement, ...]]

    text = view[str]()
    style = view[Name | None]()
    severity = view[Name | None]()
    overrides = view[tuple[Name, ...]]()
    matches = view[tuple[MatchKeyword | MatchPattern, ...]]()
    tool_matches = view[tuple[MatchTool, ...]]()
    examples = view[tuple[Example, ...]]()
    deprecated = view[str | None]()
    renamed_from = view[tuple[Name, ...]]()
    authority = view[Name | None]()  # the rule's own, where it differs from its category's
    floor = view[Name | None]()
    when = view[tuple[AttributeTest, ...]]()
    unless = view[tuple[MatchKeyword | MatchPattern | AttributeTest, ...]]()

    def _views(self) -> dict[str, Any]:
        of = _grouped(self.statements)
        return {
            "when": tuple(s.test for s in of[When]),
            "unless": tuple(s.condition for s in of[Unless]),
            "text": "\n\n".join(s.value for s in of[Text]),
            "style": _first(of[StyleRef], "style"),
            "severity": _first(of[SeverityStatement], "level"),
            "overrides": tuple(n for s in of[Overrides] for n in s.rules),
            "matches": tuple(s for s in self.statements if type(s) in _MATCHES),
            "examples": tuple(of[Example]),
            "deprecated": _first(of[Deprecated], "reason"),
            "renamed_from": tuple(s.old_id for s in of[RenamedFrom]),
            "tool_matches": tuple(of[MatchTool]),
            "authority": _first(of[AuthorityStatement], "level"),
            "floor": _first(of[Floor], "decision"),
        }


_MATCHES = (MatchKeyword, MatchPattern)

CategoryStatement = Annotated[
    AuthorityStatement | Summary | Define | Rule | Deprecated | CategoryCode | RenamedFrom,
    Field(discriminator="kind"),
]


class Category(Block):
    kind: Literal["category"] = "category"
    id: str
    id_span: Span = Field(exclude=True, repr=False)
    title: str
    statements: SkipValidation[tuple[CategoryStatement, ...]]

    authority = view[Name | None]()
    summary = view[str]()
    definitions = view[tuple[Define, ...]]()
    rules = view[tuple[Rule, ...]]()
    deprecated = view[str | None]()
    code = view[Name | None]()
    renamed_from = view[tuple[Name, ...]]()

    def _views(self) -> dict[str, Any]:
        of = _grouped(self.statements)
        return {
            "code": _first(of[CategoryCode], "code"),
            "renamed_from": tuple(s.old_id for s in of[RenamedFrom]),
            "authority": _first(of[AuthorityStatement], "level"),
            "summary": _first(of[Summary], "value", ""),
            "definitions": tuple(of[Define]),
            "rules": tuple(of[Rule]),
            "deprecated": _first(of[Deprecated], "reason"),
        }


class MaxSentences(Statement):
    kind: Literal["max_sentences"] = "max_sentences"
    value: int


class MaxWords(Statement):
    kind: Literal["max_words"] = "max_words"
    value: int


class Language(Statement):
    """`language user`: the answer is written in the language the user writes in (or
    always in one language: `language en`). The codes are spec_lang.locales.LANGUAGES."""

    kind: Literal["language"] = "language"
    value: Name


class Country(Statement):
    """`country GB /pattern/`: what in an answer belongs to one country (an ISO 3166-1
    code; `any` for what works wherever the user is), such as its crisis lines. An answer
    to a user who says where they are gives something of their country, of `any`, or
    nothing any `country` pattern knows."""

    kind: Literal["country"] = "country"
    country: Name
    pattern: Pattern


class Opens(Statement):
    """`opens /pattern/`: the answer's first sentence (as the verifier counts sentences:
    a heading or a line counts as one) matches the pattern; with several, each."""

    kind: Literal["opens"] = "opens"
    pattern: Pattern


class Require(Statement):
    kind: Literal["require"] = "require"
    pattern: Pattern


class Forbid(Statement):
    kind: Literal["forbid"] = "forbid"
    pattern: Pattern


StyleStatement = Annotated[
    Text | MaxSentences | MaxWords | Language | Country | Opens | Require | Forbid | Deprecated,
    Field(discriminator="kind"),
]


class Style(Block):
    kind: Literal["style"] = "style"
    id: str
    id_span: Span = Field(exclude=True, repr=False)
    title: str
    statements: SkipValidation[tuple[StyleStatement, ...]]

    text = view[str]()
    max_sentences = view[int | None]()
    max_words = view[int | None]()
    language = view[str | None]()  # `language user` or a language code
    countries = view[tuple[Country, ...]]()
    opens = view[tuple[Pattern, ...]]()  # what the answer's first sentence matches
    required = view[tuple[Pattern, ...]]()
    forbidden = view[tuple[Pattern, ...]]()
    deprecated = view[str | None]()

    def _views(self) -> dict[str, Any]:
        of = _grouped(self.statements)
        language = _first(of[Language], "value")
        return {
            "text": "\n\n".join(s.value for s in of[Text]),
            "max_sentences": _first(of[MaxSentences], "value"),
            "max_words": _first(of[MaxWords], "value"),
            "language": language.value if language is not None else None,
            "countries": tuple(of[Country]),
            "opens": tuple(s.pattern for s in of[Opens]),
            "required": tuple(s.pattern for s in of[Require]),
            "forbidden": tuple(s.pattern for s in of[Forbid]),
            "deprecated": _first(of[Deprecated], "reason"),
        }


SpecStatement = Annotated[
    Version | Decisions | Severities | Attribute | Default | Answer | Include | Extends | Tool,
    Field(discriminator="kind"),
]


class SpecHeader(Block):
    kind: Literal["spec"] = "spec"
    id: str
    id_span: Span = Field(exclude=True, repr=False)
    title: str
    statements: SkipValidation[tuple[SpecStatement, ...]]

    version = view[str | None]()
    decisions = view[Decisions | None]()
    default = view[Name | None]()
    default_style = view[Name | None]()
    includes = view[tuple[Include, ...]]()
    answers = view[tuple[Answer, ...]]()
    extends = view[Extends | None]()
    tools = view[tuple[Tool, ...]]()
    severities = view[Severities | None]()
    attributes = view[tuple[Attribute, ...]]()

    def _views(self) -> dict[str, Any]:
        of = _grouped(self.statements)
        return {
            "extends": of[Extends][0] if of[Extends] else None,
            "tools": tuple(of[Tool]),
            "severities": of[Severities][0] if of[Severities] else None,
            "attributes": tuple(of[Attribute]),
            "answers": tuple(of[Answer]),
            "version": _first(of[Version], "value"),
            "decisions": of[Decisions][0] if of[Decisions] else None,
            "default": _first(of[Default], "decision"),
            "default_style": _first(of[Default], "style"),
            "includes": tuple(of[Include]),
        }


Declaration = Annotated[SpecHeader | Category | Style, Field(discriminator="kind")]


class PolicyFile(Node):
    """One parsed .policy file.

    `comments` open the file, set apart from the first declaration by a blank
    line; `end_comments` follow its last declaration.
    """

    path: str = Field(exclude=True)
    comments: tuple[str, ...] = Field((), exclude=True)
    declarations: SkipValidation[tuple[Declaration, ...]]
    end_comments: tuple[str, ...] = Field((), exclude=True)
