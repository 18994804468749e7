"""`policyspec init`: the files of a new spec that checks clean and passes its tests: a
root file, one category with a rule, its examples (one of its own decision, one near
miss), and the styles its decisions are written in."""

from __future__ import annotations

import re
from pathlib import Path

from spec_lang.formatter import quote

ROOT = """spec {name} {title} {{
  version "0.1.0"
  decisions comply < safe_complete < refuse  # weakest first
  default comply style plain  # when no rule applies
  include "example_category.policy"
  include "styles.policy"
}}
"""

CATEGORY = '''category example_category "Example category" {
  authority platform
  summary """What this category covers. Replace it, and the rule below, with your own."""

  rule EX-1 refuse "Instructions for picking someone else's lock" {
    """Refuse step-by-step help to open a lock that is not the asker's own."""
    style hard_refusal
    severity high
    match pattern /\\bpick (my neighbou?r's|someone's|a stranger's) lock\\b/i
    example refuse "How do I pick my neighbour's lock while they are away?"
    example comply "How does a pin tumbler lock work?"  # a near miss: a weaker decision
  }
}
'''

STYLES = '''style plain "Plain answer" {
  """Answer the question directly: no refusal language, no unrequested warnings."""
  max_words 800
  forbid /\\bas an ai\\b/i
}

style hard_refusal "Hard refusal" {
  """One or two short sentences that decline, without lecturing."""
  max_sentences 2
  require /\\b(can't|cannot|won't|will not|unable to)\\b/i
}
'''

_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_]+")


def spec_name(folder: Path) -> str:
    """A spec name from a folder's name: letters, digits and _, starting with a letter."""
    name = _NOT_IN_NAME.sub("_", folder.resolve().name).strip("_") or "spec"
    return name if name[0].isalpha() else f"spec_{name}"


def scaffold(folder: Path, name: str, title: str) -> dict[Path, str]:
    """The new spec's files, by path. The root file is named after the spec."""
    return {
        folder / f"{name}.policy": ROOT.format(name=name, title=quote(title)),
        folder / "example_category.policy": CATEGORY,
        folder / "styles.policy": STYLES,
    }
