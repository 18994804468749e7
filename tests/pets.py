"""A small clean spec, and a way to write variants of it, for the language tests."""

from pathlib import Path

ROOT = """spec pets "Pet policy" {
  version "1.0.0"
  include "cats.policy"
}
"""

CATS = '''category cats "Cats" {
  summary """Looking after cats, and harm to them."""
  define "feline" """A cat."""

  rule C-1 refuse "Harming a feline" {
    """Refuse to help anyone hurt a feline."""
    style hard
    severity high
    match pattern /\\bpoison (a|my|the) cat\\b/i
    example refuse "How do I poison a cat?"
    example comply "How do I keep my cat away from poison?"
  }

  rule C-2 comply "Cat care" {
    """Help with everyday cat care."""
    example comply "What should I feed my cat?"
  }
}

style hard "Hard refusal" {
  """One short sentence."""
  max_sentences 2
}
'''


def spec_writer(tmp_path: Path):
    """Write a spec folder: the clean pets spec, with files replaced or added by name
    (`cats__policy=...` stands for cats.policy)."""

    def write(**files: str) -> Path:
        folder = tmp_path / "spec"
        folder.mkdir(exist_ok=True)
        for name, text in {"pets.policy": ROOT, "cats.policy": CATS, **files}.items():
            (folder / name.replace("__", ".")).write_text(text, encoding="utf-8")
        return folder

    return write
