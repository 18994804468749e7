"""The prompt templates (Jinja2 files a user can override) and spec(category), which
sft-gen, rubric and safeguard share.

spec(category) is the paper's: a summary of every category, the full text of
the one relevant category, and the style guidelines its rules name. spec(None),
for a conversation whose category is unknown, holds no category in full (all
of them would overflow a small model's context): every category's summary with
its rules' IDs, decisions and titles, and every style guideline.
"""

from __future__ import annotations

import contextvars
import functools
import json
import os
import re
import string
import traceback
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path

import jinja2
import jinja2.compiler
import jinja2.sandbox

from compiler import scope
from compiler.conditions import conditions
from core.diagnostics import did_you_mean
from spec_lang import InputError, Spec

DEFAULT_TEMPLATES = Path(__file__).parent / "templates"
TEMPLATE_NAMES = tuple(sorted(p.name for p in DEFAULT_TEMPLATES.glob("*.j2")))
_BLANK_LINES = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def environment(templates: Path | None = None) -> jinja2.Environment:
    """Templates from `templates` where it has them, the defaults otherwise."""
    if templates is not None:
        if not templates.is_dir():
            raise InputError(f"{templates}: no such templates folder")
        for path in sorted(templates.glob("*.j2")):
            if path.name not in TEMPLATE_NAMES:
                hint = (
                    did_you_mean(path.name, TEMPLATE_NAMES) or f"known: {', '.join(TEMPLATE_NAMES)}"
                )
                raise InputError(f"{path}: not a template policyspec uses; {hint}")
    return _environment(templates)


# What one rendering of a template may do. A template is the user's text, so it runs in
# Jinja2's immutable sandbox (no attribute starting with _, no mutating methods, no
# reaching Python's globals) and within these bounds, so that it cannot hang or exhaust
# memory: every range() of one rendering together yields at most MAX_ITERATIONS numbers;
# no text built (output, a concatenation, a filter's or call's result) is longer than
# MAX_TEXT characters; no number given to a call or filter (a width, a count) or used to
# repeat a text exceeds MAX_COUNT; a power has at most MAX_POWER_BITS bits.
MAX_ITERATIONS = 1_000_000
MAX_TEXT = 50_000_000
MAX_COUNT = 100_000
MAX_POWER_BITS = 4096


class TemplateLimitError(jinja2.TemplateError):
    """A template that went past one of the bounds above."""


class _Budget:
    def __init__(self) -> None:
        self.iterations = MAX_ITERATIONS


_BUDGET: contextvars.ContextVar[_Budget] = contextvars.ContextVar("template_budget")


def _checked_text(value: object) -> object:
    if isinstance(value, str | list | tuple) and len(value) > MAX_TEXT:
        raise TemplateLimitError(f"a text or list longer than {MAX_TEXT:,} items")
    return value


def _checked_argument(value: object) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_COUNT:
        raise TemplateLimitError(f"the number {_short(value)} is larger than {MAX_COUNT:,}")
    _checked_text(value)


def _short(number: int) -> str:
    return str(number) if number.bit_length() < 64 else f"of {number.bit_length()} bits"


_PERCENT_WIDTHS = re.compile(r"%[-#0 +]*(\d*)(?:\.(\d*))?")
_FORMAT_NUMBERS = re.compile(r"\d+")


def _checked_widths(text: str, percent: bool) -> None:
    """A `%` or str.format pattern whose widths or precisions are within MAX_COUNT: Python
    builds `'%1000000000s' % x` in full before anything can measure it."""
    if percent:
        numbers = [n for match in _PERCENT_WIDTHS.finditer(text) for n in match.groups() if n]
    else:
        specs = [spec or "" for _, _, spec, _ in string.Formatter().parse(text)]
        numbers = [n for spec in specs for n in _FORMAT_NUMBERS.findall(spec)]
    for number in numbers:
        if len(number) > 6 or int(number) > MAX_COUNT:
            raise TemplateLimitError(f"a width or precision larger than {MAX_COUNT:,}")


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    budget = _BUDGET.get(None) or _Budget()
    budget.iterations -= len(numbers)
    if budget.iterations < 0:
        raise TemplateLimitError(f"range() over more than {MAX_ITERATIONS:,} numbers in all")
    return numbers


def _bounded_filter(function: Callable) -> Callable:
    @functools.wraps(function)  # keeps Jinja's pass_context/pass_environment marks
    def bounded(*args: object, **kwargs: object) -> object:
        for value in (*args, *kwargs.values()):
            _checked_argument(value)
        if function.__name__ == "do_format":
            for value in args:
                if isinstance(value, str):
                    _checked_widths(value, percent=True)
        return _checked_text(function(*args, **kwargs))

    return bounded


class _BoundedCodeGenerator(jinja2.compiler.CodeGenerator):
    """Checks the length of every `a ~ b` concatenation once it is built."""

    def visit_Concat(self, node, frame) -> None:
        self.write("environment.checked_text(")
        super().visit_Concat(node, frame)
        self.write(")")


class _BoundedSandbox(jinja2.sandbox.ImmutableSandboxedEnvironment):
    code_generator_class = _BoundedCodeGenerator
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: object) -> None:
        super().__init__(**options)
        self.globals["range"] = _bounded_range
        self.filters["conditions"] = conditions
        self.filters = {name: _bounded_filter(f) for name, f in self.filters.items()}

    @staticmethod
    def checked_text(value: object) -> object:
        return _checked_text(value)

    @staticmethod
    def concat(parts: Iterable[str]) -> str:  # the body of a macro, a call or a {% set %} block
        return _checked_text("".join(parts))

    def call_binop(self, context, operator: str, left: object, right: object) -> object:
        if operator == "**":
            numbers = isinstance(left, int) and isinstance(right, int) and abs(left) > 1
            if numbers and right * abs(left).bit_length() > MAX_POWER_BITS:
                raise TemplateLimitError(f"a power of more than {MAX_POWER_BITS} bits")
        elif operator == "*":
            for sized, count in ((left, right), (right, left)):
                repeated = isinstance(sized, str | list | tuple) and isinstance(count, int)
                if repeated and len(sized) * count > MAX_TEXT:
                    raise TemplateLimitError(f"a text or list longer than {MAX_TEXT:,} items")
        elif operator == "%" and isinstance(left, str):
            _checked_widths(left, percent=True)
            for value in right if isinstance(right, tuple) else (right,):
                _checked_argument(value)
        return _checked_text(super().call_binop(context, operator, left, right))

    def wrap_str_format(self, value: object) -> Callable[..., str] | None:  # str.format
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _checked_widths(value.__self__, percent=False)
        return wrapped

    def call(__self, __context, __obj, *args: object, **kwargs: object) -> object:
        for value in (*args, *kwargs.values()):
            if not isinstance(__obj, jinja2.runtime.Macro):
                _checked_argument(value)
            _checked_text(value)
        return _checked_text(super().call(__context, __obj, *args, **kwargs))


class _ConfinedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that loads nothing whose real path (links resolved) is outside
    the folder it was found in: a link in the templates folder cannot include /etc/passwd."""

    def get_source(self, environment, template):
        for folder in self.searchpath:
            pieces = jinja2.loaders.split_template_path(template)
            path = os.path.join(folder, *pieces)
            if os.path.isfile(path):
                real, root = os.path.realpath(path), os.path.realpath(folder)
                if os.path.commonpath([real, root]) != root:
                    raise jinja2.TemplateNotFound(
                        f"{template} (it leads outside the templates folder)"
                    )
                return super().get_source(environment, template)
        raise jinja2.TemplateNotFound(template)


@cache
def _environment(templates: Path | None) -> jinja2.Environment:
    folders = [DEFAULT_TEMPLATES] if templates is None else [templates, DEFAULT_TEMPLATES]
    return _BoundedSandbox(
        loader=_ConfinedLoader(folders),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        autoescape=False,
    )


def render(name: str, templates: Path | None = None, **context: object) -> str:
    """A template rendered; runs of blank lines become one, and the ends are trimmed."""
    return _BLANK_LINES.sub("\n\n", _render_as_written(name, templates, context)).strip()


def _render_as_written(name: str, templates: Path | None, context: Mapping[str, object]) -> str:
    """A template rendered, its whitespace as the template writes it.

    Any error in a template (syntax, a missing include, 1/0, a bound passed, a template
    that extends itself) is an InputError naming the template and line. With no user
    templates folder, an error other than a template's own is a bug and is raised as is.
    """
    token = _BUDGET.set(_Budget())
    try:
        parts, size = [], 0
        for part in environment(templates).get_template(name).generate(**context):
            size += len(part)
            if size > MAX_TEXT:
                raise TemplateLimitError(f"output longer than {MAX_TEXT:,} characters")
            parts.append(part)
        return "".join(parts)
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.filename or error.name or name}:{error.lineno}"
        raise InputError(f"{where}: {error.message}; fix the template") from None
    except (jinja2.TemplateError, RecursionError, MemoryError) as error:
        raise InputError(_template_error(name, error)) from None
    except Exception as error:
        if templates is None:
            raise
        raise InputError(_template_error(name, error)) from None
    finally:
        _BUDGET.reset(token)


def _template_error(name: str, error: BaseException) -> str:
    """`file:line: what went wrong; fix the template`, the line the one the template ran."""
    where = name
    for frame, line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename.endswith(".j2"):
            where = f"{frame.f_code.co_filename}:{line}"
    if isinstance(error, jinja2.TemplateNotFound):
        what = f"no template {error.message!r} to include or extend (only the templates folder's)"
    elif isinstance(error, RecursionError):
        what = "the template includes, extends or calls itself without end"
    elif isinstance(error, jinja2.TemplateError):
        what = (error.message or type(error).__name__).rstrip(".")
    else:
        what = f"{type(error).__name__}: {error}"
    return f"{where}: template {name}: {what}; fix the template"


def spec_for_category(
    spec: Spec, category_id: str | None = None, templates: Path | None = None
) -> str:
    """spec(category): every category's summary, the full category, its style guidelines.

    With no category: every summary with its rules' titles, and every style guideline.
    """
    return spec_texts(spec, templates)(category_id)


def spec_texts(spec: Spec, templates: Path | None = None) -> Callable[[str | None], str]:
    """spec(category) by category, each rendered once: what the targets of one compile share.

    The list of every category's summary is most of each spec(category) (all of them
    together grow with categories squared), so it is rendered once and shared.
    """

    @cache
    def summaries(titled: bool) -> str:
        categories = scope.categories(spec)
        rules = {c.id: scope.rules(spec, c.id) for c in categories} if titled else {}
        context = {"categories": categories, "rules": rules, "titled": titled}
        return _render_as_written("summaries.j2", templates, context)

    @cache
    def spec_text(category_id: str | None) -> str:
        full = (scope.category(spec, category_id),) if category_id else ()
        shown = full or scope.categories(spec)
        return render(
            "spec.j2",
            templates,
            spec=spec,
            summaries=summaries(titled=not full),
            categories=scope.categories(spec),
            full=full,
            rules={c.id: scope.rules(spec, c.id) for c in shown},
            styles=scope.styles(spec, scope.rules(spec, category_id)),
            examples_per_rule=EXAMPLES_PER_RULE,
        )

    return spec_text


#: How many of a rule's examples spec(category) shows, the first as written: enough to
#: teach the rule's line, where a rule with dozens (the requests `policyspec test` holds
#: it to, in six languages) would push its category past the token budget.
EXAMPLES_PER_RULE = 8


def conversation_text(messages: Iterable[Mapping[str, str]]) -> str:
    """A conversation as plain text, one `role: content` block per message."""
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)


def front_matter(fields: Mapping[str, object]) -> str:
    """A `---` block of `key: JSON value` lines (valid YAML) to put before a prompt file's text."""
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n"
