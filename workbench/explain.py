"""`policyspec explain ID`: a rule, category or style with everything that relates to it."""

from __future__ import annotations

from core.diagnostics import did_you_mean
from spec_lang import ast
from spec_lang.loader import Spec


def _find(spec: Spec, identifier: str):
    rule_id = spec.resolve(identifier)
    if rule_id:
        return spec.rule_by_id[rule_id]
    category_id = spec.resolve_category(identifier)
    found = spec.category_by_id.get(category_id or "") or spec.style_by_id.get(identifier)
    if found is None:
        known = [*spec.rule_by_id, *spec.category_by_id, *spec.style_by_id]
        hint = did_you_mean(identifier, known) or "policyspec check lists what the spec defines"
        raise LookupError(f"no rule, category or style '{identifier}' in spec {spec.name}; {hint}")
    return found


def _overridden_by(spec: Spec, rule_id: str) -> list[str]:
    return [r.id for r in spec.rules if rule_id in {spec.resolve(n.value) for n in r.overrides}]


def _origin(spec: Spec, node: ast.Node) -> str:
    """The spec that wrote `node`: this one, or the base (of a base...) it extends."""
    source = spec
    while source.base is not None and source.in_base(node):
        source = source.base
    layer = "" if source is spec else f", the base of {spec.name}"
    return f"{source.name} {source.version}{layer}"


def explain_json(spec: Spec, identifier: str) -> dict:
    node = _find(spec, identifier)
    common = {
        "id": node.id,
        "title": node.title,
        "defined_at": str(node.id_span),
        "from": _origin(spec, node),
    }
    if isinstance(node, ast.Rule):
        category = spec.category_of[node.id]
        return {
            "kind": "rule",
            **common,
            "renamed_from": [n.value for n in node.renamed_from],
            "decision": node.decision.value,
            "category": category.id,
            "authority": spec.authority(node.id).value,
            "severity": spec.severity(node.id),
            "style": node.style.value if node.style else None,
            "text": node.text,
            "deprecated": node.deprecated,
            "overrides": sorted(spec.overridden_by(node.id), key=spec.rule_order.get),
            "overridden_by": _overridden_by(spec, node.id),
            "floor": node.floor.value if node.floor else None,
            "matches": [_matcher(m) for m in (*node.matches, *node.tool_matches)],
            "when": [str(test) for test in node.when],
            "unless": [
                str(c) if isinstance(c, ast.AttributeTest) else _matcher(c) for c in node.unless
            ],
            "examples": [
                {"decision": e.decision.value, "text": e.text, "cites": [n.value for n in e.cites]}
                for e in node.examples
            ],
        }
    if isinstance(node, ast.Category):
        return {
            "kind": "category",
            **common,
            "authority": (node.authority.value if node.authority else ast.DEFAULT_AUTHORITY.value),
            "code": node.code.value if node.code else None,
            "renamed_from": [n.value for n in node.renamed_from],
            "summary": node.summary,
            "definitions": {d.term: d.value for d in node.definitions},
            "rules": [
                {"id": r.id, "decision": r.decision.value, "title": r.title} for r in node.rules
            ],
        }
    return {
        "kind": "style",
        **common,
        "text": node.text,
        "max_sentences": node.max_sentences,
        "max_words": node.max_words,
        "opens": [str(p) for p in node.opens],
        "require": [str(p) for p in node.required],
        "forbid": [str(p) for p in node.forbidden],
        "language": node.language,
        "countries": [f"{c.country.value} {c.pattern}" for c in node.countries],
        "used_by": [r.id for r in spec.rules if r.style and r.style.value == node.id],
    }


def explain_text(spec: Spec, identifier: str) -> str:
    info = explain_json(spec, identifier)
    lines = [
        f"{info['kind']} {info['id']}: {info['title']}",
        f"  defined at     {info['defined_at']}",
        f"  from           {info['from']}",
    ]
    if identifier != info["id"]:
        lines.insert(1, f"  (renamed from {identifier})")

    def field(label: str, value) -> None:
        if isinstance(value, list):
            value = ", ".join(value) if value else "-"
        lines.append(f"  {label:<15}{value if value is not None else '-'}")

    if info["kind"] == "rule":
        field("decision", info["decision"])
        field("category", f"{info['category']} (authority {info['authority']})")
        field("severity", info["severity"])
        if info["floor"] is not None:
            field("floor", info["floor"])
        field("style", info["style"])
        field("overrides", info["overrides"])
        field("overridden by", info["overridden_by"])
        field("matches", info["matches"])
        if info["when"]:
            field("when", info["when"])
        if info["unless"]:
            field("unless", [f"{c} (then it overrides nothing)" for c in info["unless"]])
        if info["deprecated"] is not None:
            field("deprecated", info["deprecated"])
        lines += ["", _indent(info["text"]), "", "  examples:"]
        for example in info["examples"]:
            cites = f"  (cites {', '.join(example['cites'])})" if example["cites"] else ""
            near = "" if example["decision"] == info["decision"] else "  near miss"
            lines.append(f"    {example['decision']:<14}{example['text']!r}{cites}{near}")
    elif info["kind"] == "category":
        field("authority", info["authority"])
        if info["code"]:
            field("code", info["code"])
        if info["renamed_from"]:
            field("renamed from", info["renamed_from"])
        lines += ["", _indent(info["summary"]), ""]
        for term, text in info["definitions"].items():
            lines.append(f"  define {term!r}: {text}")
        lines.append("  rules:")
        for rule in info["rules"]:
            lines.append(f"    {rule['id']:<10}{rule['decision']:<14}{rule['title']}")
    else:
        for key in (
            "max_sentences",
            "max_words",
            "opens",
            "require",
            "forbid",
            "language",
            "countries",
        ):
            field(key.replace("_", " "), info[key])
        field("used by", info["used_by"])
        lines += ["", _indent(info["text"])]
    return "\n".join(lines)


def _matcher(matcher: ast.MatchKeyword | ast.MatchPattern | ast.MatchTool) -> str:
    """`keyword 'x'` or `pattern /x/`, and `in ...` where it says whose words it reads;
    `tool NAME` with its pattern or keyword for a call."""
    if isinstance(matcher, ast.MatchTool):
        what = f"tool {matcher.tool.value}"
        if matcher.pattern is not None:
            return f"{what} pattern {matcher.pattern}"
        return f"{what} keyword {matcher.keyword!r}" if matcher.keyword is not None else what
    if isinstance(matcher, ast.MatchKeyword):
        text = f"keyword {matcher.keyword!r}"
    else:
        text = f"pattern {matcher.pattern}"
    return f"{text} {matcher.reads}" if matcher.reads else text


def _indent(text: str) -> str:
    return "\n".join("  " + line if line else "" for line in text.splitlines())
