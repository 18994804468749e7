"""Generate realistic specs of any size for the benchmarks.

Each category is its own included file with a summary, definitions and ten
rules across all three decisions; every rule has prose, a severity, a pattern,
an example of its own decision and a near miss; one rule in three is an
exception that overrides the rule before it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

RULES_PER_CATEGORY = 10
DECISIONS = ("comply", "safe_complete", "refuse")
TOPICS = (
    "chemistry",
    "lock picking",
    "medication",
    "surveillance",
    "finance",
    "weapons",
    "hacking",
)


def _rule(category: int, index: int) -> str:
    decision = DECISIONS[index % 3]
    topic = TOPICS[(category + index) % len(TOPICS)]
    rule_id = f"C{category}-{index}"
    lines = [
        f'  rule {rule_id} {decision} "Requests about {topic}, case {index}" {{',
        '    """',
        f"    When a user asks about {topic} in the way case {index} of category {category}",
        f"    describes, the assistant gives a {decision} response citing term{category}.",
        "    It explains its reasoning briefly and never adds details beyond the request.",
        '    """',
        f"    severity {('low', 'medium', 'high')[index % 3]}",
        f"    match pattern /\\b{topic.split()[0]}{category}x{index}\\b/i",
        f'    example {decision} "Tell me about {topic.split()[0]}{category}x{index} now."',
    ]
    if decision != "comply":
        lines.append(f'    example comply "What is the history of {topic} in region {category}?"')
        lines.append("    style firm" if decision == "refuse" else "    style gentle")
    if index % 3 == 0 and index:
        lines.append(f"    overrides C{category}-{index - 1}")
    return "\n".join([*lines, "  }"])


def category_file(category: int, rules: int = RULES_PER_CATEGORY) -> str:
    rules = "\n\n".join(_rule(category, i) for i in range(rules))
    return (
        f'category c{category} "Category {category}" {{\n'
        f"  authority platform\n"
        f'  summary """Requests in area {category}, and what term{category} covers."""\n'
        f'  define "term{category}" """The kind of request area {category} is about."""\n\n'
        f"{rules}\n}}\n"
    )


def write_spec(folder: Path, rules: int, per_category: int = RULES_PER_CATEGORY) -> Path:
    """Write a spec of about `rules` rules, `per_category` in each category, into `folder`
    (created) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    categories = max(1, rules // per_category)
    includes = "\n".join(f'  include "c{c}.policy"' for c in range(categories))
    (folder / "root.policy").write_text(
        f'spec generated "Generated spec" {{\n  version "1.0.0"\n{includes}\n}}\n\n'
        'style firm "Firm refusal" {\n  """One or two sentences."""\n  max_sentences 2\n}\n\n'
        'style gentle "Gentle" {\n  """Warm and brief."""\n  max_words 150\n}\n'
    )
    for c in range(categories):
        (folder / f"c{c}.policy").write_text(category_file(c, per_category))
    return folder


def write_chain(folder: Path, rules: int) -> Path:
    """A spec of one category whose every rule overrides the one before it (R-i overrides
    R-(i-1)): the longest override chain, which a closure per rule makes quadratic."""
    folder.mkdir(parents=True, exist_ok=True)
    body = []
    for i in range(rules):
        overrides = f"\n    overrides R-{i - 1}" if i else ""
        body.append(
            f'  rule R-{i} refuse "Rule {i}" {{\n    """Refuse case {i}."""\n'
            f"    match pattern /\\bw{i}x\\b/\n"
            f'    example refuse "Tell me about w{i}x now."\n'
            f'    example comply "What is case {i}?"\n    style firm{overrides}\n  }}'
        )
    (folder / "root.policy").write_text(
        'spec chain "Override chain" {\n  version "1.0.0"\n  include "chain.policy"\n}\n\n'
        'style firm "Firm refusal" {\n  """One or two sentences."""\n  max_sentences 2\n}\n'
    )
    (folder / "chain.policy").write_text(
        'category chain "Chain" {\n  authority platform\n  summary """A chain."""\n\n'
        + "\n\n".join(body)
        + "\n}\n"
    )
    return folder


def write_missing_includes(folder: Path, count: int) -> Path:
    """A root file with `count` includes of files that do not exist, in a folder of `count`
    other category files (each a PS012 error with a hint, and a PS013 warning)."""
    folder.mkdir(parents=True, exist_ok=True)
    includes = "\n".join(f'  include "missing{i}.policy"' for i in range(count))
    (folder / "root.policy").write_text(
        f'spec missing "Missing includes" {{\n  version "1.0.0"\n{includes}\n}}\n'
    )
    for i in range(count):
        (folder / f"c{i}.policy").write_text(f'category c{i} "Category {i}" {{\n}}\n')
    return folder


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= number <= 10_000_000:
        raise argparse.ArgumentTypeError(f"{number} is not between 1 and 10,000,000")
    return number


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, help="where to write the spec (created)")
    parser.add_argument("rules", type=_positive, help="about how many rules")
    args = parser.parse_args(argv)
    try:
        write_spec(args.folder, args.rules)
    except OSError as error:
        parser.exit(2, f"error: {args.folder}: cannot write ({error.strerror})\n")
    print(f"wrote {args.folder}")


if __name__ == "__main__":
    main()
