"""`policyspec doc`: a spec as a static site for reviewers who never open a .policy file.

An index (the spec, its decision order, its categories and styles, a search box), a
page per category (its rules with their text, matches, overrides both ways and
examples), a page of styles, and, given an older version, a change log from `diff`.
Every link between them is a relative file link, so the folder works from disk or any
static host. Jinja2 renders it with autoescape on: spec text is data, never markup or
code; the search index is JSON in a non-executed script element (`tojson` escapes
`<`, `>`, `&` and `'`), read by the one script file.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import jinja2

from spec_lang import ast
from spec_lang.loader import Spec
from workbench.decide import statement_label
from workbench.diff import SpecDiff

SEARCH_TEXT_CHARS = 400  # of a rule's text, in the search index
_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("workbench", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
STATIC = ("site.css", "search.js")


@dataclass(frozen=True)
class Links:
    """Where each rule, category and style is shown, as a link relative to any page."""

    spec: Spec

    def category(self, category_id: str) -> str:
        return f"category-{category_id}.html"

    def rule(self, rule_id: str) -> str | None:
        current = self.spec.resolve(rule_id)
        if current is None:
            return None
        return f"{self.category(self.spec.category_of[current].id)}#rule-{current}"

    def style(self, style_id: str) -> str | None:
        return f"styles.html#style-{style_id}" if style_id in self.spec.style_by_id else None


def build_site(spec: Spec, changes: SpecDiff | None = None, since: str | None = None) -> dict:
    """The site's files, by relative path."""
    links = Links(spec)
    common = {"spec": spec, "links": links, "has_changes": changes is not None}
    pages = {
        "index.html": _render("index.html.j2", search=_search_index(spec, links), **common),
        "styles.html": _render("styles.html.j2", used_by=_style_users(spec), **common),
    }
    for category in spec.categories:
        rules = [_rule_view(spec, rule) for rule in category.rules]
        pages[links.category(category.id)] = _render(
            "category.html.j2", category=category, rules=rules, **common
        )
    if changes is not None:
        pages["changes.html"] = _render("changes.html.j2", changes=changes, since=since, **common)
    files = {name: text.encode("utf-8") for name, text in pages.items()}
    static = resources.files("workbench") / "site"
    for name in STATIC:
        files[name] = (static / name).read_bytes()
    return files


def _render(template: str, **values) -> str:
    return _ENV.get_template(template).render(**values)


@dataclass(frozen=True)
class RuleView:
    rule: ast.Rule
    authority: str
    severity: str
    overrides: list[str]
    overridden_by: list[str]
    matches: list[str]
    conditions: list[str]  # `when` (the matches need it) and `unless` (the overrides pause)


def _rule_view(spec: Spec, rule: ast.Rule) -> RuleView:
    direct = [n.value for n in rule.overrides]
    by = [r.id for r in spec.rules if rule.id in {spec.resolve(n.value) for n in r.overrides}]
    matches = [statement_label(m) for m in rule.matches]
    conditions = [f"when {test}" for test in rule.when] + [
        f"unless {_condition(c)}" for c in rule.unless
    ]
    return RuleView(
        rule,
        spec.authority(rule.id).value,
        spec.severity(rule.id),
        direct,
        by,
        matches,
        conditions,
    )


def _condition(condition: ast.AttributeTest | ast.Matcher) -> str:
    return (
        str(condition) if isinstance(condition, ast.AttributeTest) else statement_label(condition)
    )


def _style_users(spec: Spec) -> dict[str, list[str]]:
    users: dict[str, list[str]] = {style.id: [] for style in spec.styles}
    for rule in spec.rules:
        if rule.style and rule.style.value in users:
            users[rule.style.value].append(rule.id)
    return users


def _search_index(spec: Spec, links: Links) -> list[dict]:
    entries = [
        {
            "kind": "category",
            "id": c.id,
            "title": c.title,
            "text": c.summary,
            "url": links.category(c.id),
        }
        for c in spec.categories
    ]
    entries += [
        {
            "kind": "rule",
            "id": rule.id,
            "title": rule.title,
            "text": rule.text[:SEARCH_TEXT_CHARS],
            "url": links.rule(rule.id),
        }
        for rule in spec.rule_by_id.values()
    ]
    entries += [
        {"kind": "style", "id": s.id, "title": s.title, "text": s.text, "url": links.style(s.id)}
        for s in spec.styles
    ]
    return entries
