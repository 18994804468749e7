"""User templates (`compile --templates DIR`) run in a bounded sandbox: nothing in them runs
as code, they cannot hang or exhaust memory, and any error in them is one line, exit 2."""

from __future__ import annotations

import os
import time

import pytest
import typer
from typer.testing import CliRunner

from compiler import compile_spec
from policyspec.compile_command import compile_spec as compile_command
from spec_lang import InputError
from tests.compiler.conftest import SPECS

app = typer.Typer()
app.callback()(lambda: None)
app.command("compile")(compile_command)


def _compile(mini, folder, template: str, name: str = "judge.j2"):
    (folder / name).write_text(template)
    return compile_spec(mini, "rubric", folder / "out", templates=folder)


def test_a_template_cannot_reach_python(mini, tmp_path, word_tokens):
    marker = tmp_path / "ran"
    template = f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}"
    with pytest.raises(InputError, match=r"judge\.j2:1: .*unsafe; fix the template"):
        _compile(mini, tmp_path, template)
    assert not marker.exists()


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{% set l = [] %}{{ l.append(1) }}",
        "{{ spec.__dict__ }}",
    ],
)
def test_unsafe_attributes_and_mutation_are_refused(mini, tmp_path, word_tokens, template):
    with pytest.raises(InputError, match="unsafe"):
        _compile(mini, tmp_path, template)


@pytest.mark.parametrize(
    ("template", "message"),
    [
        (
            "{% for i in range(10**7) %}{% for j in range(10**7) %}x{% endfor %}{% endfor %}",
            "number",
        ),
        ("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}", "range"),
        ("{{ 'x' * 10**9 }}", "longer than"),
        ("{{ 10**100000 }}", "power"),
        ("{{ 'x'|center(10**9) }}", "larger than"),
        ("{{ '%1000000000s' % 'a' }}", "width"),
        ("{{ '%1000000000s'|format('a') }}", "width"),
        ("{{ '{:1000000000}'.format(1) }}", "width"),
        ("{% set s = 'xxxxxxxxxx' %}" + "{% set s = s ~ s %}" * 40 + "{{ s }}", "longer than"),
        ("{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('xxxxxxxx') }}", "longer than|itself"),
        (
            "{% for i in range(900) %}{% for j in range(900) %}{{ 'x' * 99 }}{% endfor %}"
            "{% endfor %}",
            "output longer than",
        ),
    ],
)
def test_templates_are_bounded_in_time_and_size(mini, tmp_path, word_tokens, template, message):
    start = time.monotonic()
    with pytest.raises(InputError, match=message):
        _compile(mini, tmp_path, template)
    assert time.monotonic() - start < 20


def test_the_bounds_leave_ordinary_templates_alone(mini, tmp_path, word_tokens):
    template = (
        "{% for i in range(3) %}{{ i }}{% endfor %} {{ '%5.1f' % 2.25 }} {{ '{:>4}'.format(7) }}"
        " {{ ['a', 'b'] | join('+') }} {{ 'ab' * 3 }} {{ 2 ** 10 }} {{ category.id }}"
    )
    _compile(mini, tmp_path, template)
    text = (tmp_path / "out/rubric/judge/weapons.prompt").read_text()
    assert text.endswith("012   2.2    7 a+b ababab 1024 weapons\n")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 1/0 }}", "judge.j2:1: template judge.j2: ZeroDivisionError"),
        ("{% include 'nope.j2' %}", "no template 'nope.j2'"),
        ("{% include '../../etc/passwd' %}", "no template"),
        ("{% extends 'judge.j2' %}", "itself"),
        ("{% include 'judge.j2' %}", "itself"),
        ("{% for %}", "judge.j2:1: Expected an expression"),
        ("{{ nope }}", "'nope' is undefined"),
    ],
)
def test_a_template_error_is_one_line_and_exit_2(tmp_path, word_tokens, template, message):
    (tmp_path / "judge.j2").write_text(template)
    result = CliRunner().invoke(
        app,
        [
            "compile",
            str(SPECS / "mini"),
            "-t",
            "rubric",
            "-o",
            str(tmp_path / "out"),
            "--templates",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert message in result.output
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_includes_stay_in_the_templates_folder(mini, tmp_path, word_tokens):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET")
    folder = tmp_path / "templates"
    folder.mkdir()
    os.symlink(outside / "secret.txt", folder / "secret.txt")
    (folder / "shared.txt").write_text("SHARED")
    with pytest.raises(InputError, match="outside the templates folder"):
        _compile(mini, folder, "{% include 'secret.txt' %}")
    _compile(mini, folder, "{% include 'shared.txt' %}")
    assert "SHARED" in (folder / "out/rubric/judge/weapons.prompt").read_text()
