"""Compile a spec into what training and evaluation pipelines need.

Each target is a small generator over the one loaded spec: schema, sft-gen,
sft, rubric, safeguard, llamaguard. `compile_spec` writes them all; the other
functions are what pipelines call at run time.
"""

from compiler.build import CompileError, CompileResult, Target, compile_spec
from compiler.judge_schema import JudgeLimits, confession_judge_schema, judge_schema
from compiler.render import spec_for_category
from compiler.rubric import Grade, confession_judge_prompt, judge_prompt, parse_grade
from compiler.schema import (
    Limits,
    output_model,
    output_regex,
    output_schema,
    serialise,
    token_budget,
)
from compiler.sft_gen import teacher_messages
from compiler.tokens import count_tokens

__all__ = [
    "CompileError",
    "CompileResult",
    "Grade",
    "JudgeLimits",
    "Limits",
    "Target",
    "compile_spec",
    "confession_judge_prompt",
    "confession_judge_schema",
    "count_tokens",
    "judge_prompt",
    "judge_schema",
    "output_model",
    "output_regex",
    "output_schema",
    "parse_grade",
    "serialise",
    "spec_for_category",
    "teacher_messages",
    "token_budget",
]
