"""Every check of a loaded spec, each with a stable code, a span and a hint.

Codes, severities and help texts are entries of `core.codes.CODES`; a comment
`# policyspec: ignore[CODE, ...]` on a statement suppresses those codes inside it.

Every pass is linear in the size of the spec: lookups go through dicts, and
matching goes through one RE2 set.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import re2

from core.codes import CODES, Severity
from core.diagnostics import Diagnostic, did_you_mean
from spec_lang import ast
from spec_lang.examples import ExampleResult, evaluate_examples
from spec_lang.loader import Spec
from spec_lang.locales import COUNTRIES, LANGUAGES
from spec_lang.matchers import Matchers, keyword_regex, pattern_error
from spec_lang.parser import gc_paused
from spec_lang.text import Suggester, lookalike_key, normalize


def check(spec: Spec) -> list[Diagnostic]:
    """All findings for a spec, sorted by file and position."""
    with gc_paused():  # only temporaries are allocated; GC passes would rescan the whole tree
        return _check(spec)


def _check(spec: Spec) -> list[Diagnostic]:
    # A layer reports of its base only the errors that stop the base loading: the base is
    # checked on its own, and a warning there is not the layer's to fix or silence.
    from_base = set(spec.base.load_diagnostics) if spec.base else set()
    findings = [
        d for d in spec.load_diagnostics if d not in from_base or d.severity is Severity.ERROR
    ]
    # A file with syntax errors is checked no further: what was left out of its tree
    # would only be echoed as other findings. The other files are checked in full.
    broken = {d.span.file for d in findings if d.code == "PS001" and d.span}
    checked: list[Diagnostic] = []
    matchers = Matchers.for_spec(spec)
    passes = (
        _headers,
        _duplicates,
        _references,
        _values,
        _repeated,
        _overrides,
        _renames,
        _attributes,
        _conditions,
        _codes,
        _layer,
    )
    for check_pass in (*passes, _unused, _missing_text):
        checked.extend(check_pass(spec))
    checked.extend(_patterns(spec, matchers))
    findings.extend(d for d in checked if not (d.span and d.span.file in broken))
    if not any(d.severity is Severity.ERROR for d in findings):
        results = evaluate_examples(spec, matchers)
        findings.extend(_example_coverage(spec, results))
        findings.extend(_contradicted_examples(results))
        findings.extend(_untried_conditions(spec, results))
        findings.extend(_overlaps(spec, matchers, results))
    if spec.base_files:  # what the checks find in the base's files is the base's own
        findings = [d for d in findings if d in from_base or not _in_files(d, spec.base_files)]
    return sorted(_suppressed(spec, findings), key=_position)


def _in_files(finding: Diagnostic, files: frozenset[str]) -> bool:
    return finding.span is not None and finding.span.file in files


def _position(d: Diagnostic):
    span = d.span
    return (span.file, span.line, span.column, d.code) if span else ("", 0, 0, d.code)


def _headers(spec: Spec) -> Iterator[Diagnostic]:
    own = [f for f in spec.files if f.path not in spec.base_files]
    headers = [d for f in own for d in f.declarations if isinstance(d, ast.SpecHeader)]
    for extra in headers[1:]:
        yield Diagnostic(
            "PS014",
            f"a second spec header ('{extra.id}')",
            extra.id_span,
            hint="a spec has one header, in its root file; remove this one",
        )


def _duplicates(spec: Spec) -> Iterator[Diagnostic]:
    """PS101: categories, rules and styles share one namespace of IDs (`explain ID` names
    one thing). PS108: IDs that differ only by case or look-alike characters."""
    seen: dict[str, tuple[str, ast.Node]] = {}
    looks: dict[str, tuple[str, ast.Node]] = {}  # each ID's two look-alike keys, to the first
    for kind, items in (
        ("category", spec.categories),
        ("rule", spec.rules),
        ("style", spec.styles),
    ):
        for item in items:
            if item.id in seen:
                first_kind, original = seen[item.id]
                if spec.in_base(original) and not spec.in_base(item):
                    yield _taken_by_base(kind, item, first_kind, original)
                    continue
                what = kind if first_kind == kind else f"{kind} and {first_kind}"
                yield Diagnostic(
                    "PS101",
                    f"duplicate {what} ID '{item.id}'",
                    item.id_span,
                    hint=f"first defined at {original.id_span}; give one of them a new ID",
                )
                continue
            seen[item.id] = (kind, item)
            keys = lookalike_key(item.id)
            alike = next((looks[key] for key in keys if key in looks), None)
            if alike is not None:
                yield _lookalike(kind, item, *alike)
            for key in keys:
                looks.setdefault(key, (kind, item))


def _taken_by_base(kind: str, item, first_kind: str, original) -> Diagnostic:
    return Diagnostic(
        "PS111",
        f"{kind} ID '{item.id}' is already a {first_kind} of the base spec",
        item.id_span,
        hint=f"it is defined at {original.id_span}; give this {kind} a new ID, and to change "
        "the base's rule, override it",
    )


def _lookalike(kind: str, item, first_kind: str, first) -> Diagnostic:
    return Diagnostic(
        "PS108",
        f"{kind} ID '{item.id}' looks like {first_kind} ID '{first.id}' "
        "(they differ only by case or look-alike characters)",
        item.id_span,
        hint=f"'{first.id}' is defined at {first.id_span}; rename one of them so that the IDs "
        "differ by more than case or characters such as l, 1 and I, or O and 0",
    )


def _undefined(kind: str, name: ast.Name, known: Suggester) -> Diagnostic:
    return Diagnostic(
        "PS102",
        f"undefined {kind} '{name.value}'",
        name.span,
        hint=known.hint(name.value) or f"define the {kind} or correct the name",
    )


def _references(spec: Spec) -> Iterator[Diagnostic]:
    default_style = spec.header.default_style
    if default_style and default_style.value not in spec.style_by_id:
        yield _undefined("style", default_style, Suggester(spec.style_by_id))
    styles = rules = None  # suggesters, made at the first undefined name of their kind
    for rule in spec.rules:
        if rule.style and rule.style.value not in spec.style_by_id:
            styles = styles or Suggester(spec.style_by_id)
            yield _undefined("style", rule.style, styles)
        if spec.tools:
            used = [*(m.tool for m in rule.tool_matches)]
            used += [c.tool for e in rule.examples for c in e.calls]
            for name in used:
                if name.value not in spec.tools:
                    yield _undefined("tool", name, Suggester(spec.tools))
        names = [*rule.overrides, *(n for e in rule.examples for n in e.cites)]
        for name in names:
            if spec.resolve(name.value) is None:
                rules = rules or Suggester(spec.rule_by_id)
                yield _undefined("rule", name, rules)


def _unknown_decision(name: ast.Name, spec: Spec) -> Diagnostic:
    order = " < ".join(spec.decisions)
    return Diagnostic(
        "PS103",
        f"unknown decision '{name.value}'",
        name.span,
        hint=did_you_mean(name.value, spec.decisions) or f"the spec's decisions are {order}",
    )


def _unknown_value(what: str, name: ast.Name, allowed: list[str]) -> Diagnostic:
    listed = ", ".join(allowed[:-1]) + " or " + allowed[-1]
    return Diagnostic(
        "PS104",
        f"unknown {what} '{name.value}'",
        name.span,
        hint=did_you_mean(name.value, allowed) or f"use {listed}",
    )


def _values(spec: Spec) -> Iterator[Diagnostic]:
    for statement in spec.header.answers:
        if statement.decision.value not in spec.strictness:
            yield _unknown_decision(statement.decision, spec)
        if statement.answer.value not in ast.ANSWER_KINDS:
            yield _unknown_value("answer kind", statement.answer, list(ast.ANSWER_KINDS))
    yield from _order("decision", spec.header.decisions, "decisions comply < refuse")
    yield from _order("severity", spec.header.severities, "severities S1 < S2 < S3")
    if spec.header.default and spec.header.default.value not in spec.strictness:
        yield _unknown_decision(spec.header.default, spec)
    authorities = [a.value for a in reversed(ast.Authority)]
    for category in spec.categories:
        level = category.authority
        if level and level.value not in authorities:
            yield _unknown_value("authority", level, authorities)
    severities = list(spec.severities)
    for rule in spec.rules:
        if rule.authority and rule.authority.value not in authorities:
            yield _unknown_value("authority", rule.authority, authorities)
        floor = [rule.floor] if rule.floor else []
        for name in (rule.decision, *(e.decision for e in rule.examples), *floor):
            if name.value not in spec.strictness:
                yield _unknown_decision(name, spec)
        if rule.severity and rule.severity.value not in severities:
            yield _unknown_value("severity", rule.severity, severities)
        for example in rule.examples:
            for message in example.messages:
                if message.role.value not in ast.MESSAGE_ROLES:
                    yield _unknown_value("role", message.role, list(ast.MESSAGE_ROLES))
        for matcher in _matchers(rule):
            reads = matcher.reads
            if reads is not None and reads.role.value not in ast.READER_ROLES:
                yield _unknown_value("role to read", reads.role, list(ast.READER_ROLES))
    yield from _style_values(spec)


_LANGUAGE_VALUES = [ast.USER_LANGUAGE, *LANGUAGES]
_COUNTRY_VALUES = [ast.ANY_COUNTRY, *sorted(COUNTRIES)]


def _style_values(spec: Spec) -> Iterator[Diagnostic]:
    """PS104: a `language` the verifier cannot tell, a `country` it cannot place."""
    for style in spec.styles:
        for statement in style.statements:
            if type(statement) is ast.Language and statement.value.value not in _LANGUAGE_VALUES:
                yield _unknown_value("language", statement.value, _LANGUAGE_VALUES)
            if type(statement) is ast.Country and statement.country.value not in _COUNTRY_VALUES:
                yield _unknown_value("country", statement.country, _COUNTRY_VALUES)


def _matchers(rule: ast.Rule) -> list[ast.MatchKeyword | ast.MatchPattern]:
    """A rule's matches and the matchers of its `unless` conditions."""
    conditions = [c for c in rule.unless if not isinstance(c, ast.AttributeTest)]
    return [*rule.matches, *conditions]


def _order(what: str, declared: ast.Decisions | ast.Severities | None, example: str):
    """PS106: a declared order lists two or more labels, each once."""
    if declared is None:
        return
    labels = [n.value for n in declared.labels]
    for label, count in Counter(labels).items():
        if count > 1:
            yield Diagnostic(
                "PS106",
                f"{what} '{label}' appears twice in the order",
                declared.span,
                hint=f"list each {what} once, from the weakest up",
            )
    if len(labels) < 2:
        yield Diagnostic(
            "PS106",
            f"a {what} order needs at least two labels",
            declared.span,
            hint=f"for example: {example}",
        )


def _attributes(spec: Spec) -> Iterator[Diagnostic]:
    """PS106 an attribute declared twice or with a value twice; PS109 a test (`when`,
    `unless`, an example's `with`) of an attribute or value the spec does not declare."""
    seen: set[str] = set()
    for statement in spec.header.attributes:
        name = statement.name.value
        values = [v.value for v in statement.values]
        repeated = [v for v, count in Counter(values).items() if count > 1]
        if name in seen or repeated:
            what = f"value '{repeated[0]}' of " if repeated else ""
            yield Diagnostic(
                "PS106",
                f"{what}attribute '{name}' is declared twice",
                statement.span,
                hint="declare each attribute once, listing each value once",
            )
        seen.add(name)
    for rule in spec.rules:
        tests = [*rule.when, *(c for c in rule.unless if isinstance(c, ast.AttributeTest))]
        tests += [s.test for e in rule.examples for s in e.statements if type(s) is ast.ExampleWith]
        for test in tests:
            yield from _attribute_test(spec, test)


def _attribute_test(spec: Spec, test: ast.AttributeTest) -> Iterator[Diagnostic]:
    name, value = test.attribute.value, test.value.value
    if name not in spec.attributes:
        declared = ", ".join(spec.attributes) or "none"
        yield Diagnostic(
            "PS109",
            f"unknown attribute '{name}'",
            test.attribute.span,
            hint=did_you_mean(name, spec.attributes)
            or f"declare it in the spec header (`attribute {name} ...`); declared: {declared}",
        )
    elif value not in spec.attributes[name]:
        values = spec.attributes[name]
        yield Diagnostic(
            "PS109",
            f"attribute '{name}' has no value '{value}'",
            test.value.span,
            hint=did_you_mean(value, values) or f"its values are {', '.join(values)}",
        )


def _conditions(spec: Spec) -> Iterator[Diagnostic]:
    """PS203: an `unless` on a rule that overrides nothing changes nothing. PS204: a
    condition that can never hold where the rule's matches fire, given its `when` tests."""
    for rule in spec.rules:
        if rule.unless and not rule.overrides:
            yield Diagnostic(
                "PS203",
                f"'{rule.id}' has an `unless` condition but overrides no rule",
                rule.unless[0].span,
                hint="`unless` suspends an exception's overrides; add `overrides ID` or drop it",
            )
        required: dict[str, ast.AttributeTest] = {}
        for test in rule.when:
            first = required.setdefault(test.attribute.value, test)
            if first.value.value != test.value.value:
                yield Diagnostic(
                    "PS204",
                    f"'{rule.id}' can never fire: it needs {test.attribute.value} to be both "
                    f"{first.value.value} and {test.value.value}",
                    test.span,
                    hint="a rule's `when` tests must all hold; keep one of them",
                )
        for condition in rule.unless:
            if not isinstance(condition, ast.AttributeTest):
                continue
            needed = required.get(condition.attribute.value)
            if needed is not None and needed.value.value != condition.value.value:
                yield Diagnostic(
                    "PS204",
                    f"'{rule.id}' fires only when {needed}, so `unless {condition}` never holds",
                    condition.span,
                    hint="test a value the rule can meet, or drop the condition",
                )


def _codes(spec: Spec) -> Iterator[Diagnostic]:
    """PS110: two categories pinned to one export code."""
    pinned: dict[str, ast.Category] = {}
    for category in spec.categories:
        code = category.code
        if code is None:
            continue
        first = pinned.setdefault(code.value, category)
        if first is not category:
            yield Diagnostic(
                "PS110",
                f"categories '{first.id}' and '{category.id}' are both exported as {code.value}",
                code.span,
                hint=f"'{first.id}' pins it at {first.code.span}; give each category its own code",
            )


# Statements a block may hold at most once.
_SINGLE = {
    ast.SpecHeader: (ast.Version, ast.Decisions, ast.Severities, ast.Default, ast.Extends),
    ast.Category: (ast.AuthorityStatement, ast.Summary, ast.Deprecated, ast.CategoryCode),
    ast.Rule: (
        ast.StyleRef,
        ast.SeverityStatement,
        ast.Deprecated,
        ast.AuthorityStatement,
        ast.Floor,
    ),
    ast.Style: (ast.MaxSentences, ast.MaxWords, ast.Language, ast.Deprecated),
}


#: Statements a block may hold many of, but each only once (a second changes nothing).
_DISTINCT = (ast.MatchKeyword, ast.MatchPattern, ast.MatchTool)


def _repeated(spec: Spec) -> Iterator[Diagnostic]:
    blocks = [spec.header, *spec.categories, *spec.rules, *spec.styles]
    for block in blocks:
        seen: set[type] = set()
        matches: set[ast.Statement] = set()
        for statement in block.statements:
            kind = type(statement)
            if kind in _SINGLE[type(block)]:
                if kind in seen:
                    yield Diagnostic(
                        "PS105",
                        f"'{statement.kind}' is given twice in '{block.id}'",
                        statement.span,
                        hint="keep one of them",
                    )
                seen.add(kind)
            elif isinstance(statement, _DISTINCT):
                if statement in matches:
                    yield Diagnostic(
                        "PS105",
                        f"the same match is given twice in '{block.id}'",
                        statement.span,
                        hint="keep one of them: a second fires on nothing the first does not",
                    )
                matches.add(statement)


def _overrides(spec: Spec) -> Iterator[Diagnostic]:
    reported: set[frozenset[str]] = set()
    for rule in spec.rule_by_id.values():
        for name in rule.overrides:
            target = spec.resolve(name.value)
            if target is None:
                continue
            if spec.in_override_cycle(rule.id, target):
                cycle = _override_path(spec, target, rule.id)
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    yield Diagnostic(
                        "PS201",
                        _cycle_message(rule.id, cycle),
                        name.span,
                        hint="an exception overrides the rule it carves out of, never the reverse",
                    )
            yield from _floor(spec, rule, spec.rule_by_id[target], name)
            mine, theirs = spec.authority(rule.id), spec.authority(target)
            if theirs.rank > mine.rank and spec.in_base(spec.rule_by_id[target]):
                if not spec.in_base(rule):
                    yield Diagnostic(
                        "PS205",
                        f"'{rule.id}' overrides the base's '{target}', which the base keeps "
                        f"to {theirs.value} authority; this layer's rule speaks for {mine.value}",
                        name.span,
                        hint="the base lets a layer adjust only its rules of developer or user "
                        "authority; add a rule beside it instead",
                    )
            elif theirs.rank > mine.rank:
                yield Diagnostic(
                    "PS202",
                    f"'{rule.id}' ({mine.value}) overrides '{target}', which "
                    f"has higher authority ({theirs.value})",
                    name.span,
                    hint="a rule may only override rules of the same or a lower authority",
                )


def _floor(spec: Spec, rule: ast.Rule, target: ast.Rule, name: ast.Name) -> Iterator[Diagnostic]:
    """PS206: an exception from outside the target's category that decides more weakly
    than the target's `floor`."""
    floor = target.floor
    if floor is None or spec.category_of[rule.id] is spec.category_of[target.id]:
        return
    strictness = spec.strictness
    if (
        floor.value in strictness
        and strictness.get(rule.decision.value, 0) < strictness[floor.value]
    ):
        yield Diagnostic(
            "PS206",
            f"'{rule.id}' ({rule.decision.value}) overrides '{target.id}', whose floor is "
            f"{floor.value}",
            name.span,
            hint=f"decide {floor.value} or stricter in '{rule.id}'",
        )


def _layer(spec: Spec) -> Iterator[Diagnostic]:
    """PS207: a layer's category or rule that claims platform authority; PS017: a layer
    that changes its base's decisions."""
    if spec.base is None:
        return
    scales = (
        ("decisions", spec.header.decisions, spec.decisions, spec.base.decisions),
        ("severities", spec.header.severities, spec.severities, spec.base.severities),
    )
    for what, declared, mine, theirs in scales:
        if declared and mine != theirs:
            yield Diagnostic(
                "PS017",
                f"the layer's {what} ({' < '.join(mine)}) differ from its base's "
                f"({' < '.join(theirs)})",
                declared.span,
                hint=f"remove the `{what}` statement: a layer keeps its base's",
            )
    own = [c for c in spec.categories if not spec.in_base(c)]
    levels = [c.authority for c in own] + [r.authority for c in own for r in c.rules]
    for level in levels:
        if level is not None and level.value == ast.Authority.PLATFORM.value:
            yield Diagnostic(
                "PS207",
                "a layer cannot speak for the platform",
                level.span,
                hint="use `authority developer` (the default in a layer) or `authority user`",
            )


def _patterns(spec: Spec, matchers: Matchers) -> Iterator[Diagnostic]:
    styles = [
        p
        for style in spec.styles
        for p in (
            *style.opens,
            *style.required,
            *style.forbidden,
            *(c.pattern for c in style.countries),
        )
    ]
    problems = [*matchers.errors.values(), *((p, pattern_error(p)) for p in styles)]
    for pattern, problem in problems:
        if problem:
            yield Diagnostic(
                "PS301",
                f"pattern {pattern} cannot be used: {problem}",
                pattern.span,
                hint="patterns use RE2 syntax (no backreferences or lookaround) so they run in "
                "linear time on untrusted text",
            )
    for rule in spec.rules:
        for statement in _matchers(rule):
            if isinstance(statement, ast.MatchKeyword) and not statement.keyword.strip():
                yield Diagnostic(
                    "PS301", "empty keyword", statement.span, hint="give the keyword text"
                )
        for statement in rule.tool_matches:
            if statement.keyword is not None and not statement.keyword.strip():
                yield Diagnostic(
                    "PS301", "empty keyword", statement.span, hint="give the keyword text"
                )


def _renames(spec: Spec) -> Iterator[Diagnostic]:
    yield from _renamed("rule", spec.rules, spec.rule_by_id)
    yield from _renamed("category", spec.categories, spec.category_by_id)


def _renamed(kind: str, items, current: dict) -> Iterator[Diagnostic]:
    """PS107: an old ID still in use, or claimed by two rules (or two categories)."""
    claimed: dict[str, str] = {}
    for item in items:
        for old in item.renamed_from:
            if old.value in current:
                yield Diagnostic(
                    "PS107",
                    f"'{item.id}' is renamed from '{old.value}', which is still a {kind} ID",
                    old.span,
                    hint=f"an old ID may not be in use; rename the other {kind} or drop this line",
                )
            elif old.value in claimed and claimed[old.value] != item.id:
                yield Diagnostic(
                    "PS107",
                    f"'{old.value}' is claimed as an old ID by both "
                    f"'{claimed[old.value]}' and '{item.id}'",
                    old.span,
                    hint=f"an old ID can lead to one {kind} only",
                )
            claimed.setdefault(old.value, item.id)


def _override_path(spec: Spec, start: str, goal: str) -> list[str]:
    """The rules from `start` to `goal` along overrides, both included (shortest)."""
    came_from: dict[str, str | None] = {start: None}
    queue = [start]
    for current in queue:
        if current == goal:
            break
        rule = spec.rule_by_id.get(current)
        for name in rule.overrides if rule else ():
            target = spec.resolve(name.value)
            if target is not None and target not in came_from:
                came_from[target] = current
                queue.append(target)
    path, step = [], goal
    while step is not None:
        path.append(step)
        step = came_from.get(step)
    return path[::-1]


def _cycle_message(rule_id: str, path: list[str]) -> str:
    """`rule_id` overrides path[0], which leads back to `rule_id` along `path`."""
    if path == [rule_id]:
        return f"override cycle: '{rule_id}' overrides itself"
    if len(path) == 2:
        return f"override cycle: '{rule_id}' and '{path[0]}' override each other"
    chain = " → ".join([rule_id, *path])
    return f"override cycle: {chain}"


def _unused(spec: Spec) -> Iterator[Diagnostic]:
    used_styles = {rule.style.value for rule in spec.rules if rule.style}
    used_styles.update(filter(None, [spec.default_style]))
    for style in spec.styles:
        if style.id not in used_styles and style.deprecated is None:
            yield Diagnostic(
                "PS601",
                f"style '{style.id}' is not used by any rule",
                style.id_span,
                hint="name it in a rule (`style ID`) or remove it",
            )
    yield from _deprecated_references(spec)
    definitions = [d for category in spec.categories for d in category.definitions]
    if not definitions:
        return
    terms = re2.Set.SearchSet(re2.Options())
    for definition in definitions:
        terms.Add(_term_regex(definition.term))
    terms.Compile()
    used: set[int] = set()
    texts = [c.summary for c in spec.categories] + [s.text for s in spec.styles]
    texts += [f"{r.title}\n{r.text}" for r in spec.rules]
    for index, definition in enumerate(definitions):
        used.update(i for i in (terms.Match(normalize(definition.value)) or ()) if i != index)
    # One search over all the texts: a keyword never matches across the NUL between two.
    used.update(terms.Match(normalize("\0".join(texts))) or ())
    for index, definition in enumerate(definitions):
        if index not in used:
            yield Diagnostic(
                "PS602",
                f"definition of '{definition.term}' is never used",
                definition.span,
                hint="use the term in a rule, summary or style, or remove it",
            )


def _term_regex(term: str) -> str:
    """A defined term as a keyword whose last word may be inflected: a definition of
    'violent crime' is used by 'violent crimes'; of 'policy', by 'policies'."""
    regex = keyword_regex(term)
    if not term[-1:].isalpha():
        return regex
    body = regex.removesuffix(r"\b")
    if term.endswith("y"):
        body = body[:-1] + "(?:y|ies|ied)"
    elif term.endswith("e"):
        body += "(?:s|d|rs?)?"
    else:
        body += "(?:s|es|ed|ing|er|ers)?"
    return body + (r"\b" if regex.endswith(r"\b") else "")


def _deprecated_references(spec: Spec) -> Iterator[Diagnostic]:
    default = spec.header.default_style
    style = spec.style_by_id.get(default.value) if default else None
    if style is not None and style.deprecated is not None:
        message = f"the spec's default uses deprecated style '{style.id}'"
        yield Diagnostic("PS603", message, default.span, hint=style.deprecated)
    for rule in spec.rules:
        if rule.deprecated is not None:
            continue
        style = spec.style_by_id.get(rule.style.value) if rule.style else None
        if style is not None and style.deprecated is not None:
            yield Diagnostic(
                "PS603",
                f"'{rule.id}' uses deprecated style '{style.id}'",
                rule.style.span,
                hint=style.deprecated,
            )
        for name in rule.overrides:
            target = spec.rule_by_id.get(spec.resolve(name.value) or "")
            if target is not None and target.deprecated is not None:
                yield Diagnostic(
                    "PS603",
                    f"'{rule.id}' overrides deprecated rule '{target.id}'",
                    name.span,
                    hint=target.deprecated,
                )


def _missing_text(spec: Spec) -> Iterator[Diagnostic]:
    for category in spec.categories:
        if not category.summary.strip():
            yield Diagnostic(
                "PS701",
                f"category '{category.id}' has no summary",
                category.id_span,
                hint='add `summary """..."""`: training prompts show every category by its summary',
            )
    for rule in spec.rules:
        if not rule.text.strip():
            yield Diagnostic(
                "PS701",
                f"rule '{rule.id}' has no text",
                rule.id_span,
                hint='add """...""" saying what the rule requires and why',
            )


def _example_coverage(spec: Spec, results: list[ExampleResult]) -> Iterator[Diagnostic]:
    own: set[str] = set()
    near: set[str] = set()
    for result in results:
        (near if result.near_miss else own).add(result.rule.id)
    for rule in spec.rule_by_id.values():
        if rule.deprecated is not None:
            continue
        decision = rule.decision.value
        if rule.id not in own:
            yield Diagnostic(
                "PS401",
                f"rule '{rule.id}' has no example of its own decision ({decision})",
                rule.id_span,
                hint=f'add `example {decision} "..."` with a request this rule decides',
                rule=rule.id,
            )
        if spec.strictness.get(decision, 0) > 0 and rule.id not in near:
            weaker = spec.decisions[0]
            yield Diagnostic(
                "PS402",
                f"rule '{rule.id}' has no near miss",
                rule.id_span,
                hint=f'add `example {weaker} "..."`: a request that looks like this rule\'s but '
                "must get a weaker decision",
                rule=rule.id,
            )


def _untried_conditions(spec: Spec, results: list[ExampleResult]) -> Iterator[Diagnostic]:
    """PS404: an exception's `unless` condition that holds in none of the spec's examples:
    nothing shows it can fire, nor that it takes the exception away when it does."""
    tried = {rule_id for result in results for rule_id in result.suspended}
    for rule in spec.rule_by_id.values():
        if rule.unless and rule.overrides and rule.deprecated is None and rule.id not in tried:
            yield Diagnostic(
                "PS404",
                f"no example of the spec sets off the `unless` condition of '{rule.id}'",
                rule.unless[0].span,
                hint=f"add an example where the condition holds, expecting what the rules "
                f"'{rule.id}' overrides decide",
            )


def _contradicted_examples(results: list[ExampleResult]) -> Iterator[Diagnostic]:
    for result in results:
        if result.fired and not result.passed:
            fired = ", ".join(result.fired)
            yield Diagnostic(
                "PS403",
                f"example expects {result.expected}, but the matches of "
                f"{fired} decide {result.decided.decision}",
                result.example.span,
                hint="narrow the pattern, add an `overrides`, or cite the rule that decides this "
                "example",
            )


def _overlaps(spec: Spec, matchers: Matchers, results: list[ExampleResult]) -> Iterator[Diagnostic]:
    """Two rules with different decisions whose matches fire on one text, with no override.

    The texts tried are the spec's own examples and keywords: overlap is shown
    by a witness, never guessed.
    """
    witnesses = [(r.example.request, r.example.span, r.fired) for r in results]
    witnesses += [
        (s.keyword, s.span, matchers.fired(s.keyword))
        for r in spec.rule_by_id.values()
        for s in r.matches
        if isinstance(s, ast.MatchKeyword)
    ]
    reported: set[tuple[str, str]] = set()
    for text, span, fired in witnesses:
        for i, first in enumerate(fired):
            for second in fired[i + 1 :]:
                pair = (first, second)
                a, b = spec.rule_by_id[first], spec.rule_by_id[second]
                if pair in reported or a.decision.value == b.decision.value:
                    continue
                if spec.overridden_among((first, second), (first, second)):
                    continue
                reported.add(pair)
                yield Diagnostic(
                    "PS501",
                    f"matches of '{first}' ({a.decision.value}) and "
                    f"'{second}' ({b.decision.value}) both fire on {text[:60]!r}",
                    span,
                    hint="add `overrides` to say which one wins, or narrow one of the matches",
                )


_SUPPRESSION = re.compile(r"policyspec:\s*ignore\[([^\]]*)\]")


@dataclass
class _Suppression:
    span: ast.SourceSpan  # the statement the comment belongs to: it covers the whole block
    codes: tuple[str, ...]
    used: set[str] = field(default_factory=set)


def _suppressed(spec: Spec, findings: list[Diagnostic]) -> list[Diagnostic]:
    """The findings less those a `# policyspec: ignore[CODE, ...]` comment on an enclosing
    statement suppresses, plus a PS901 for each suppression (or code in one) that
    suppresses nothing."""
    if not any("policyspec:" in text for text in spec.sources.values()):
        return findings
    suppressions = [s for f in spec.files for s in _suppressions_in(f.declarations)]
    kept = []
    for finding in findings:
        span = finding.span
        covering = [
            s
            for s in suppressions
            if span is not None
            and finding.code in s.codes
            and s.span.file == span.file
            and s.span.line <= span.line <= s.span.end_line
        ]
        for suppression in covering:
            suppression.used.add(finding.code)
        if not covering:
            kept.append(finding)
    for s in suppressions:
        at = ast.SourceSpan(s.span.file, s.span.line, s.span.column, s.span.line, s.span.column + 1)
        for code in s.codes:
            if code not in CODES:
                message = f"the suppression names {code!r}, which is not a code"
                kept.append(Diagnostic("PS901", message, at, hint=did_you_mean(code, CODES)))
            elif code not in s.used:
                kept.append(
                    Diagnostic("PS901", f"nothing here is {code}: the suppression is unused", at)
                )
    return kept


def _suppressions_in(statements) -> Iterator[_Suppression]:
    for statement in statements:
        comments = (*statement.comments, statement.trailing_comment or "")
        for comment in comments:
            for match in _SUPPRESSION.finditer(comment):
                codes = tuple(c.strip() for c in match.group(1).split(",") if c.strip())
                yield _Suppression(statement.span, codes)
        yield from _suppressions_in(getattr(statement, "statements", ()))
