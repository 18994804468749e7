"""Syntax tree to canonical text.

One layout: two-space indents, one statement per line, a blank line between
declarations and before each rule, prose in triple quotes, everything else in
short JSON-style strings. Comments stay with the statement they were attached
to. `format_file` promises `parse(format_file(tree)) == tree`.
"""

from __future__ import annotations

import json
from functools import singledispatch

from spec_lang import ast
from spec_lang.diagnostics import SpecError
from spec_lang.parser import parse, parse_all, reads_as_one_string, string_value

INDENT = "  "


def format_file(tree: ast.PolicyFile) -> str:
    chunks = [_statement(declaration, 0) for declaration in tree.declarations]
    if tree.comments:
        chunks.insert(0, "\n".join(tree.comments))
    if tree.end_comments:
        chunks.append("\n".join(tree.end_comments))
    return "\n\n".join(chunks) + "\n" if chunks else ""


def quote(value: str) -> str:
    """A short string literal (JSON escapes)."""
    text = json.dumps(value, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate, written as an escape in the source
        text = json.dumps(value)
    return text


def prose(value: str, depth: int) -> str:
    """A triple-quoted literal when it reads back to the same value, else a short one."""
    if "\n" in value:
        pad = INDENT * (depth + 1)
        body = "\n".join(pad + line if line.strip() else "" for line in value.split("\n"))
        literal = f'"""\n{body}\n{pad}"""'
    else:
        literal = f'"""{value}"""'
    if reads_as_one_string(literal) and string_value(literal) == value:
        return literal
    return quote(value)


def _names(names: tuple[ast.Name, ...], separator: str = ", ") -> str:
    return separator.join(name.value for name in names)


def _statement(node: ast.Statement, depth: int) -> str:
    pad = INDENT * depth
    lines = [pad + comment for comment in node.comments]
    text = _render(node, depth)
    if isinstance(node, ast.Block):
        header, newline, rest = text.partition("\n")
        if node.trailing_comment:
            header += "  " + node.trailing_comment
        text = header + newline + rest
        if node.closing_comment:
            text += "  " + node.closing_comment
    elif node.trailing_comment:
        text += "  " + node.trailing_comment
    lines.append(pad + text)
    return "\n".join(lines)


def _block(header: str, node: ast.Block, statements, depth: int, gap_before=()) -> str:
    """`header {`, the statements one level deeper, and `}`."""
    if not statements and not node.end_comments and not node.trailing_comment:
        return header + " {}"
    inner = []
    for index, statement in enumerate(statements):
        if index and isinstance(statement, gap_before):
            inner.append("")
        inner.append(_statement(statement, depth + 1))
    inner.extend(INDENT * (depth + 1) + comment for comment in node.end_comments)
    return "\n".join([header + " {", *inner, INDENT * depth + "}"])


@singledispatch
def _render(node: ast.Statement, depth: int) -> str:
    raise TypeError(f"no layout for {type(node).__name__}")


@_render.register
def _(node: ast.SpecHeader, depth: int) -> str:
    return _block(f"spec {node.id} {quote(node.title)}", node, node.statements, depth)


@_render.register
def _(node: ast.Category, depth: int) -> str:
    header = f"category {node.id} {quote(node.title)}"
    return _block(header, node, node.statements, depth, gap_before=ast.Rule)


@_render.register
def _(node: ast.Rule, depth: int) -> str:
    header = f"rule {node.id} {node.decision.value} {quote(node.title)}"
    return _block(header, node, node.statements, depth)


@_render.register
def _(node: ast.Style, depth: int) -> str:
    return _block(f"style {node.id} {quote(node.title)}", node, node.statements, depth)


@_render.register
def _(node: ast.Example, depth: int) -> str:
    header = f"example {node.decision.value}"
    if not node.block:
        (message,) = node.messages
        cites = f" cites {_names(node.cites)}" if node.cites else ""
        return f"{header} {quote(message.content)}{cites}"
    return _block(header, node, node.statements, depth)


@_render.register
def _(node: ast.Version, depth: int) -> str:
    return f"version {quote(node.value)}"


@_render.register
def _(node: ast.Decisions, depth: int) -> str:
    return f"decisions {_names(node.labels, ' < ')}"


@_render.register
def _(node: ast.Default, depth: int) -> str:
    style = f" style {node.style.value}" if node.style else ""
    return f"default {node.decision.value}{style}"


@_render.register
def _(node: ast.Answer, depth: int) -> str:
    return f"answer {node.decision.value} {node.answer.value}"


@_render.register
def _(node: ast.Include, depth: int) -> str:
    return f"include {quote(node.path)}"


@_render.register
def _(node: ast.Extends, depth: int) -> str:
    return f"extends {quote(node.path)}"


@_render.register
def _(node: ast.Tool, depth: int) -> str:
    arguments = f" arguments {_names(node.arguments)}" if node.arguments else ""
    return f"tool {node.name.value} {quote(node.description)}{arguments}"


@_render.register
def _(node: ast.MatchTool, depth: int) -> str:
    text = f"match tool {node.tool.value}"
    if node.pattern is not None:
        return f"{text} pattern {node.pattern}"
    if node.keyword is not None:
        return f"{text} keyword {quote(node.keyword)}"
    return text


@_render.register
def _(node: ast.Floor, depth: int) -> str:
    return f"floor {node.decision.value}"


@_render.register
def _(node: ast.Call, depth: int) -> str:
    return f"call {node.tool.value} {prose(node.arguments, depth)}"


@_render.register
def _(node: ast.AuthorityStatement, depth: int) -> str:
    return f"authority {node.level.value}"


@_render.register
def _(node: ast.Summary, depth: int) -> str:
    return f"summary {prose(node.value, depth)}"


@_render.register
def _(node: ast.Define, depth: int) -> str:
    return f"define {quote(node.term)} {prose(node.value, depth)}"


@_render.register
def _(node: ast.Text, depth: int) -> str:
    return prose(node.value, depth - 1)


@_render.register
def _(node: ast.StyleRef, depth: int) -> str:
    return f"style {node.style.value}"


@_render.register
def _(node: ast.SeverityStatement, depth: int) -> str:
    return f"severity {node.level.value}"


@_render.register
def _(node: ast.Overrides, depth: int) -> str:
    return f"overrides {_names(node.rules)}"


@_render.register
def _(node: ast.MatchKeyword, depth: int) -> str:
    return f"match {_matcher(node)}"


@_render.register
def _(node: ast.MatchPattern, depth: int) -> str:
    return f"match {_matcher(node)}"


def _matcher(node: ast.MatchKeyword | ast.MatchPattern) -> str:
    """`keyword "x"` or `pattern /x/`, with whose words it reads when it says."""
    if isinstance(node, ast.MatchKeyword):
        text = f"keyword {quote(node.keyword)}"
    else:
        text = f"pattern {node.pattern}"
    return f"{text} {node.reads}" if node.reads else text


@_render.register
def _(node: ast.When, depth: int) -> str:
    return f"when {node.test}"


@_render.register
def _(node: ast.Unless, depth: int) -> str:
    condition = node.condition
    if isinstance(condition, ast.AttributeTest):
        return f"unless {condition}"
    return f"unless {_matcher(condition)}"


@_render.register
def _(node: ast.ExampleWith, depth: int) -> str:
    return f"with {node.test}"


@_render.register
def _(node: ast.Severities, depth: int) -> str:
    return f"severities {_names(node.labels, ' < ')}"


@_render.register
def _(node: ast.Attribute, depth: int) -> str:
    return f"attribute {node.name.value} {_names(node.values)}"


@_render.register
def _(node: ast.CategoryCode, depth: int) -> str:
    return f"code {node.code.value}"


@_render.register
def _(node: ast.Deprecated, depth: int) -> str:
    return f"deprecated {quote(node.reason)}"


@_render.register
def _(node: ast.RenamedFrom, depth: int) -> str:
    return f"renamed_from {node.old_id.value}"


@_render.register
def _(node: ast.Message, depth: int) -> str:
    return f"{node.role.value} {quote(node.content)}"


@_render.register
def _(node: ast.Cites, depth: int) -> str:
    return f"cites {_names(node.rules)}"


@_render.register
def _(node: ast.MaxSentences, depth: int) -> str:
    return f"max_sentences {node.value}"


@_render.register
def _(node: ast.MaxWords, depth: int) -> str:
    return f"max_words {node.value}"


@_render.register
def _(node: ast.Language, depth: int) -> str:
    return f"language {node.value.value}"


@_render.register
def _(node: ast.Country, depth: int) -> str:
    return f"country {node.country.value} {node.pattern}"


@_render.register
def _(node: ast.Opens, depth: int) -> str:
    return f"opens {node.pattern}"


@_render.register
def _(node: ast.Require, depth: int) -> str:
    return f"require {node.pattern}"


@_render.register
def _(node: ast.Forbid, depth: int) -> str:
    return f"forbid {node.pattern}"


def format_source(source: str, path: str = "<string>") -> str:
    """Format a file's text, refusing to return anything that would not parse back the same.

    Raises SpecError with every syntax error when `source` does not parse.
    """
    tree, errors = parse_all(source, path)
    if errors:
        raise SpecError(errors, {path: source})
    formatted = format_file(tree)
    if parse(formatted, path) != tree:  # a formatter bug must never reach the disk
        raise AssertionError(f"{path}: formatting would change the meaning; file left as it is")
    return formatted
