"""What of a spec the compiled artifacts cover: the rules, categories and styles in force.

Deprecated rules, categories and styles keep their IDs meaningful in stored
transcripts, but a model is never taught or allowed to cite them, so every
target leaves them out. The lookups are built once per Spec object (a compile
asks for them per category and per rule) and dropped with it.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import KeysView
from dataclasses import dataclass

from spec_lang import Spec, ast


def spec_meta(spec: Spec) -> dict[str, str]:
    """The name, version and content hash that every compiled output carries."""
    return {"name": spec.name, "version": spec.version, "hash": spec.content_hash}


def categories(spec: Spec) -> tuple[ast.Category, ...]:
    """Categories in force: not deprecated, with at least one rule in force, declaration order."""
    return _index(spec).categories


def category_ids(spec: Spec) -> KeysView[str]:
    """The IDs of the categories in force, for membership tests."""
    return _index(spec).rules_of.keys()


def category(spec: Spec, category_id: str) -> ast.Category:
    """A category in force by ID; LookupError (with a hint) otherwise."""
    if category_id not in category_ids(spec):
        known = ", ".join(c.id for c in categories(spec)) or "none"
        raise LookupError(f"no category {category_id!r} in force in {spec.name} (known: {known})")
    return spec.category_by_id[category_id]


def rules(spec: Spec, category_id: str | None = None) -> tuple[ast.Rule, ...]:
    """Rules in force, of one category or of all, in declaration order."""
    if not category_id:
        return _index(spec).rules
    return _index(spec).rules_of[category(spec, category_id).id]


def export_codes(spec: Spec) -> dict[str, str]:
    """Category ID to the code it is exported under (Llama Guard's S1, S2, ...), for the
    categories in force that can be violated (a rule stricter than the weakest decision)
    or that pin a code. A pinned code (`code S9`) is kept; the others are numbered S1,
    S2, ... in declaration order, skipping the pinned ones."""
    return _index(spec).export_codes


def exceptions(spec: Spec, rule_id: str) -> tuple[str, ...]:
    """The rules in force that override `rule_id`, directly or through a chain, in order."""
    return _index(spec).exceptions.get(rule_id, ())


def flagged(spec: Spec, rule: ast.Rule) -> bool:
    """Whether a guard (Llama Guard, gpt-oss-safeguard) should flag what `rule` covers: its
    decision is stricter than the weakest and asks for a refusal, or asks nothing of the
    answer (a classifier's label). A safe completion is an answer, not a violation."""
    decision = rule.decision.value
    return decision != spec.decisions[0] and spec.answer_kinds[decision] in ("refuse", "none")


def styles(spec: Spec, in_scope: tuple[ast.Rule, ...]) -> tuple[ast.Style, ...]:
    """The styles those rules name, and the spec's default style, in declaration order."""
    named = {rule.style.value for rule in in_scope if rule.style} | {spec.default_style}
    return tuple(style for style in spec.style_by_id.values() if style.id in named)


@dataclass(frozen=True)
class _Index:
    categories: tuple[ast.Category, ...]
    rules_of: dict[str, tuple[ast.Rule, ...]]
    rules: tuple[ast.Rule, ...]
    exceptions: dict[str, tuple[str, ...]]
    export_codes: dict[str, str]

    @classmethod
    def of(cls, spec: Spec) -> _Index:
        live = {c.id: _live(c.rules) for c in spec.category_by_id.values() if c.deprecated is None}
        rules_of = {category_id: found for category_id, found in live.items() if found}
        in_force = tuple(rule for found in rules_of.values() for rule in found)
        overriding: defaultdict[str, list[str]] = defaultdict(list)
        for rule in in_force:
            for overridden in spec.overridden_by(rule.id):
                overriding[overridden].append(rule.id)
        categories = tuple(spec.category_by_id[c] for c in rules_of)
        return cls(
            categories=categories,
            rules_of=rules_of,
            rules=in_force,
            exceptions={rule_id: tuple(ids) for rule_id, ids in overriding.items()},
            export_codes=_export_codes(spec, categories, rules_of),
        )


_INDEXES: dict[int, tuple[weakref.ref[Spec], _Index]] = {}


def _index(spec: Spec) -> _Index:
    """The spec's lookups, built on first use and forgotten when the spec is."""
    key = id(spec)
    found = _INDEXES.get(key)
    if found is None or found[0]() is not spec:
        forget = weakref.ref(spec, lambda _: _INDEXES.pop(key, None))
        found = _INDEXES[key] = (forget, _Index.of(spec))
    return found[1]


def _export_codes(
    spec: Spec, categories: tuple[ast.Category, ...], rules_of: dict[str, tuple[ast.Rule, ...]]
) -> dict[str, str]:
    weakest = spec.decisions[0]
    pinned = {c.id: c.code.value for c in categories if c.code is not None}
    taken = set(pinned.values())
    numbers = (f"S{n}" for n in range(1, len(categories) + len(taken) + 1))
    codes = {}
    for category in categories:
        if category.id in pinned:
            codes[category.id] = pinned[category.id]
        elif any(rule.decision.value != weakest for rule in rules_of[category.id]):
            codes[category.id] = next(code for code in numbers if code not in taken)
    return codes


def _live(candidates: tuple[ast.Rule, ...]) -> tuple[ast.Rule, ...]:
    return tuple(rule for rule in candidates if rule.deprecated is None)
