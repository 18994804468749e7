"""A rule's conditions in words, for prompts: whose words its matches read, the
conversation attributes it needs (`when`), and what suspends its overrides (`unless`).

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


def _test(test: ast.AttributeTest) -> str:
    return f"the conversation's {test.attribute.value} is {test.value.value}"


def conditions(rule: ast.Rule) -> list[str]:
    """One line per condition the rule states, none for a rule that states none."""
    lines = []
    scopes = sorted({scope_of(m) for m in rule.matches} - {USER})
    if scopes:
        read = ", ".join(describe_scope(s) for s in scopes)
        lines.append(f"Its signals are read in: {read}.")
    if rule.when:
        lines.append("Applies only when " + " and ".join(map(_test, rule.when)) + ".")
    for condition in rule.unless:
        said = _test(condition) if isinstance(condition, ast.AttributeTest) else _matcher(condition)
        lines.append(f"Not an exception when {said}.")
    return lines
