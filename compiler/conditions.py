"""A rule's conditions in words, for prompts: whose words its matches read, the tool
calls it covers (`match tool`), the conversation attributes it needs (`when`), and
what suspends its overrides (`unless`).

Prompts show these so that a judge or classifier model reads a rule as the matchers
and the verifier do. The `conditions` filter gives them to templates:
`{% for line in rule | conditions %}`.
"""

from __future__ import annotations

from spec_lang import ast
from spec_lang.matchers import USER, describe_scope, scope_of


def _matcher(matcher: ast.MatchKeyword | ast.MatchPattern) -> str:
    """`user messages contain "pipe bomb"`, `the last system or developer message matches /x/`."""
    scope = scope_of(matcher)
    one = scope[1] or scope[0] == "any"  # "the last message", "every message": singular
    if isinstance(matcher, ast.MatchKeyword):
        keyword = matcher.keyword.replace('"', "'")
        return f'{describe_scope(scope)} {"contains" if one else "contain"} "{keyword}"'
    return f"{describe_scope(scope)} {'matches' if one else 'match'} {matcher.pattern}"


def _call(matcher: ast.MatchTool) -> str:
    """`every call of delete_file`, `calls of shell whose arguments match /rm/`."""
    tool = matcher.tool.value
    if matcher.pattern is not None:
        return f"calls of {tool} whose arguments match {matcher.pattern}"
    if matcher.keyword is not None:
        keyword = matcher.keyword.replace('"', "'")
        return f'calls of {tool} whose arguments contain "{keyword}"'
    return f"every call of {tool}"


def _test(test: ast.AttributeTest) -> str:
    return f"the conversation's {test.attribute.value} is {test.value.value}"


def conditions(rule: ast.Rule, arguments: bool = True) -> list[str]:
    """One line per condition the rule states, none for a rule that states none. With
    `arguments=False` (`rule | conditions(false)`, for a prompt with a tight budget) the
    tool calls are named by tool alone, without what their arguments must match."""
    lines = []
    scopes = sorted({scope_of(m) for m in rule.matches} - {USER})
    if scopes:
        read = ", ".join(describe_scope(s) for s in scopes)
        lines.append(f"Its signals are read in: {read}.")
    if rule.tool_matches and not arguments:
        tools = ", ".join(dict.fromkeys(m.tool.value for m in rule.tool_matches))
        lines.append(f"It covers the assistant's calls of: {tools}.")
    elif rule.tool_matches:
        calls = "; ".join(map(_call, rule.tool_matches))
        lines.append(f"The assistant's tool calls it covers: {calls}.")
        if any(m.pattern is not None or m.keyword is not None for m in rule.tool_matches):
            lines.append("A call's arguments are read as `name: value` lines.")
    if rule.when:
        lines.append("Applies only when " + " and ".join(map(_test, rule.when)) + ".")
    for condition in rule.unless:
        said = _test(condition) if isinstance(condition, ast.AttributeTest) else _matcher(condition)
        lines.append(f"Not an exception when {said}.")
    return lines
