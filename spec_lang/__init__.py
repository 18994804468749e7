"""The policy language: parse, load, check, format, and decide."""

from core.codes import Severity
from core.diagnostics import Diagnostic
from spec_lang.checker import check
from spec_lang.diagnostics import InputError, SpecError, SpecSyntaxError
from spec_lang.examples import ExampleResult, evaluate_examples
from spec_lang.formatter import format_file
from spec_lang.loader import Spec, load
from spec_lang.matchers import Matchers
from spec_lang.parser import parse, parse_all
from spec_lang.semantics import Decision, decide

__all__ = [
    "Decision",
    "Diagnostic",
    "ExampleResult",
    "InputError",
    "Matchers",
    "Severity",
    "Spec",
    "SpecError",
    "SpecSyntaxError",
    "check",
    "decide",
    "evaluate_examples",
    "format_file",
    "load",
    "parse",
    "parse_all",
]
