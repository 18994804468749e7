"""What of a spec the compiled artifacts cover: the rules, categories and styles in force.

Deprecated rules, categories and styles keep their IDs meaningful in stored
transcripts, but a model is never taught or allowed to cite them, so every
target leaves them out.
"""

from __future__ import annotations

from spec_lang import Spec, ast


def spec_meta(spec: Spec) -> dict[str, str]:
    """The name, version and content hash that every compiled output carries."""
    return {"name": spec.name, "version": spec.version, "hash": spec.content_hash}


def categories(spec: Spec) -> tuple[ast.Category, ...]:
    """Categories in force: not deprecated, with at least one rule in force, declaration order."""
    return tuple(
        category
        for category in spec.category_by_id.values()
        if category.deprecated is None and _live(category.rules)
    )


def category(spec: Spec, category_id: str) -> ast.Category:
    """A category in force by ID; LookupError (with a hint) otherwise."""
    found = {c.id: c for c in categories(spec)}
    if category_id not in found:
        known = ", ".join(found) or "none"
        raise LookupError(f"no category {category_id!r} in force in {spec.name} (known: {known})")
    return found[category_id]


def rules(spec: Spec, category_id: str | None = None) -> tuple[ast.Rule, ...]:
    """Rules in force, of one category or of all, in declaration order."""
    scope = (category(spec, category_id),) if category_id else categories(spec)
    return tuple(rule for c in scope for rule in _live(c.rules))


def styles(spec: Spec, in_scope: tuple[ast.Rule, ...]) -> tuple[ast.Style, ...]:
    """The styles those rules name, in declaration order."""
    named = {rule.style.value for rule in in_scope if rule.style}
    return tuple(style for style in spec.style_by_id.values() if style.id in named)


def _live(candidates: tuple[ast.Rule, ...]) -> tuple[ast.Rule, ...]:
    return tuple(rule for rule in candidates if rule.deprecated is None)
