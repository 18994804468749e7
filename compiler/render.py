"""The prompt templates (Jinja2 files a user can override) and spec(category), which
sft-gen, rubric and safeguard share.

spec(category) is the paper's: a summary of every category, the full text of
the one relevant category, and the style guidelines its rules name. spec(None),
for a conversation whose category is unknown, holds no category in full (all
of them would overflow a small model's context): every category's summary with
its rules' IDs, decisions and titles, and every style guideline.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from pathlib import Path

import jinja2

from compiler import scope
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


@cache
def _environment(templates: Path | None) -> jinja2.Environment:
    folders = [DEFAULT_TEMPLATES] if templates is None else [templates, DEFAULT_TEMPLATES]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folders),
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
    """A template rendered, its whitespace as the template writes it."""
    try:
        return environment(templates).get_template(name).render(**context)
    except jinja2.TemplateSyntaxError as error:
        raise InputError(f"{error.filename}:{error.lineno}: {error.message}") from None
    except jinja2.UndefinedError as error:
        raise InputError(f"template {name}: {error.message}") from None


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
        )

    return spec_text


def conversation_text(messages: Iterable[Mapping[str, str]]) -> str:
    """A conversation as plain text, one `role: content` block per message."""
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)


def front_matter(fields: Mapping[str, object]) -> str:
    """A `---` block of `key: JSON value` lines (valid YAML) to put before a prompt file's text."""
    lines = [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in fields.items()]
    return "---\n" + "\n".join(lines) + "\n---\n"
