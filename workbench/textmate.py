"""The TextMate grammar of .policy files (editors/textmate/policy.tmLanguage.json), made
from the language's own definitions: the keywords are every keyword of
spec_lang/policy.lark, the value words are the AST's (decisions, severities,
authorities, answer kinds, roles). Regenerate after changing the grammar:

    python -m workbench.textmate   # from the repository's root

(a test fails while the file differs). The patterns use the part of regex syntax
that Oniguruma (editors) and Python's `re` (the test) read alike.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core import atomic
from spec_lang import ast
from workbench.completion import ROLES, grammar_parser

SCOPE = "source.policy"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)*"
_BEFORE, _AFTER = r"(?<![A-Za-z0-9_.-])", r"(?![A-Za-z0-9_-])"
DECLARATIONS = ("spec", "category", "rule", "style")


def grammar_keywords() -> list[str]:
    """Every keyword of the grammar: its terminals written as a quoted word."""
    terminals = grammar_parser().terminals
    words = (t.pattern.value for t in terminals if t.pattern.type == "str")
    return sorted(word for word in words if word.isidentifier())


def value_words() -> list[str]:
    values = {
        *ast.DEFAULT_DECISIONS,
        *ast.ANSWER_KINDS,
        *(s.value for s in ast.Severity),
        *(a.value for a in ast.Authority),
        *ROLES,
    }
    return sorted(values)


def _words(words: list[str]) -> str:
    alternatives = "|".join(sorted(words, key=lambda w: (-len(w), w)))
    return f"{_BEFORE}(?:{alternatives}){_AFTER}"


def grammar() -> dict:
    declaration = "|".join(DECLARATIONS)
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "policy",
        "scopeName": SCOPE,
        "fileTypes": ["policy"],
        "patterns": [
            {"name": "comment.line.number-sign.policy", "match": "#.*$"},
            {
                "name": "string.quoted.triple.policy",
                "begin": '"""',
                "end": '"""',
            },
            {
                "name": "string.quoted.double.policy",
                "match": r'"(?:[^"\\\n]|\\.)*"',
            },
            {
                "name": "string.regexp.policy",
                "match": r"/(?![/*])(?:[^/\\\n]|\\.)*/[A-Za-z]*",
            },
            {
                "match": f"{_BEFORE}({declaration})\\s+({_NAME})",
                "captures": {
                    "1": {"name": "keyword.other.declaration.policy"},
                    "2": {"name": "entity.name.type.policy"},
                },
            },
            {"name": "keyword.other.policy", "match": _words(grammar_keywords())},
            {"name": "constant.language.policy", "match": _words(value_words())},
            {"name": "constant.numeric.policy", "match": r"\b[0-9]+\b"},
            {
                "name": "variable.other.rule.policy",
                "match": f"{_BEFORE}[A-Z][A-Za-z0-9_]*(?:[-.][A-Za-z0-9_]+)+{_AFTER}",
            },
            {"name": "punctuation.section.block.policy", "match": "[{}]"},
            {"name": "keyword.operator.policy", "match": "[<,]"},
        ],
    }


# Where the grammar is kept: for any TextMate editor, and inside the VS Code extension
# (an extension is packaged from its own folder only).
FILES = (
    "editors/textmate/policy.tmLanguage.json",
    "editors/vscode/syntaxes/policy.tmLanguage.json",
)


def grammar_json() -> str:
    return json.dumps(grammar(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the grammar to FILES, under the folder given (default: the current one)."""
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    for name in FILES:
        atomic.write_text(root / name, grammar_json())


if __name__ == "__main__":
    main()
