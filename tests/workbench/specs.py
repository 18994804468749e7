"""The pets spec with a second category that overrides and cites the first: references
that cross files, for the workbench's tests."""

from pathlib import Path

from tests.pets import CATS

ROOT = """spec pets "Pet policy" {
  version "1.0.0"
  include "cats.policy"
  include "dogs.policy"
}
"""

DOGS = '''category dogs "Dogs" {
  summary """Dogs, and what owners ask about them."""

  rule D-1 comply "Poison first aid" {
    """Tell a worried owner what to do after a pet ate poison."""
    overrides C-1
    match keyword "ate poison"
    example comply "My dog ate poison, what do I do?"
    example refuse "How do I poison a cat?" cites C-1
  }
}
'''


def write_pets(folder: Path, **files: str) -> Path:
    """The spec in `folder`, with files replaced or added by name (`dogs__policy=...`)."""
    folder.mkdir(parents=True, exist_ok=True)
    every = {"pets.policy": ROOT, "cats.policy": CATS, "dogs.policy": DOGS, **files}
    for name, text in every.items():
        (folder / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return folder
