"""A rule's conditions in words, for prompts: whose words its matches read, the
conversation attributes it needs (`when`), and what suspends its overrides (`unless`).

Prompts show these so that a judge or classifier model reads a rule as the matchers
and the verifier do. The `conditions` filter gives them to templates:
`{% for line in rule | conditions %}`.
"""

from __future__ import annotations

from spec_lang import ast
from spec_lang.matchers import USER, describe_scope, scope_of


def describe_matcher(matcher: ast.MatchKeyword | ast.MatchPattern) -> str:
    """`user messages contain "pipe bomb"`, `the last system or developer message matches /x/`."""
    where = describe_scope(scope_of(matcher))
    verb = "contains" if scope_of(matcher)[1] else "contain"
    if isinstance(matcher, ast.MatchKeyword):
        return f"{where} {verb} {ast_quote(matcher.keyword)}"
    return f"{where} {'matches' if scope_of(matcher)[1] else 'match'} {matcher.pattern}"


def ast_quote(text: str) -> str:
    return '"' + text.replace('"', "'") + '"'


def describe_test(test: ast.AttributeTest) -> str:
    return f"the conversation's {test.attribute.value} is {test.value.value}"


def conditions(rule: ast.Rule) -> list[str]:
    """One line per condition the rule states, none for a rule that states none."""
    lines = []
    scopes = sorted({scope_of(m) for m in rule.matches} - {USER})
    if scopes:
        read = ", ".join(describe_scope(s) for s in scopes)
        lines.append(f"Its signals are read in: {read}.")
    if rule.when:
        lines.append("Applies only when " + " and ".join(map(describe_test, rule.when)) + ".")
    for condition in rule.unless:
        if isinstance(condition, ast.AttributeTest):
            said = describe_test(condition)
        else:
            said = describe_matcher(condition)
        lines.append(f"Not an exception when {said}.")
    return lines
