"""The author's workbench: what a person writing a spec reaches for besides `check`.

The language server (`workbench.lsp`, needs the `lsp` extra), `explain`, `decide` (one
input through the spec, with the reasons), coverage of the examples, `diff` between two
versions of a spec, the static documentation site, and `init`. It sits above the
language (spec_lang) and below the command line, which is a thin layer over it.
"""
