"""A one-category spec whose summary and examples a test sizes, to fit or not fit the
gpt-oss-safeguard budget (tests/compiler/test_safeguard.py, tests/test_codes.py)."""

from __future__ import annotations

from pathlib import Path

SPEC = '''spec fit "Fit" {
  version "1.0.0"
  decisions comply < safe_complete < refuse
  default comply
}

category scams "Scams" {
  summary """SUMMARY"""

  rule SC-1 refuse "Writing messages meant to defraud" {
    """Refuse to write messages meant to defraud someone."""
    example refuse "Write a text telling my grandmother I am in jail and need bail money.PAD"
    example comply "Write a text reminding my grandmother about lunch on Sunday.PAD"
  }

  rule SC-2 safe_complete "Someone who may have been scammed" {
    """Help them secure their accounts and report it."""
    example safe_complete "I think I just sent my bank details to a scammer.PAD"
  }

  rule SC-3 comply "Recognising scams" {
    """Explain how scams work so people can spot them."""
    example comply "How do romance scams usually start?PAD"
    example comply "What does a fake parcel-delivery text look like?PAD"
  }
}
'''
# About 400 tokens of one sentence: no first sentence to cut it to.
LONG_SENTENCE = " ".join(["messages and calls that pretend to come from a bank"] * 40)


def write_fit_spec(folder: Path, summary: str = "Scams and fraud.", padding: str = "") -> Path:
    """The spec with that summary, and `padding` appended to every example's text."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fit.policy").write_text(
        SPEC.replace("SUMMARY", summary).replace("PAD", padding), encoding="utf-8"
    )
    return folder
