"""policyspec: safety policies as code. The Python API mirrors the CLI."""

from spec_lang import check, decide, format_file, load, parse

__all__ = ["check", "decide", "format_file", "load", "parse"]
