"""Lint settings: select, ignore, severities, per-file ignores and strict, from
policyspec.toml or pyproject.toml, applied by `check` and every command that checks."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from core.codes import Severity
from core.diagnostics import Diagnostic, InputError, SourceSpan
from core.settings import Settings, discover, parse
from policyspec.cli import app
from tests.pets import CATS

runner = CliRunner()
# The pets spec without C-2's example: one PS401 warning, in cats.policy.
NO_EXAMPLE = CATS.replace('example comply "What should I feed my cat?"', "")


def codes(folder, *options: str) -> tuple[int, list[tuple[str, str]]]:
    result = runner.invoke(app, ["check", str(folder), "--format", "json", *options])
    found = json.loads(result.stdout)["diagnostics"]
    return result.exit_code, [(d["code"], d["severity"]) for d in found]


def test_a_warning_passes_unless_strict(write_spec):
    folder = write_spec(cats__policy=NO_EXAMPLE)
    assert codes(folder) == (0, [("PS401", "warning")])
    assert codes(folder, "--strict") == (1, [("PS401", "warning")])


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ('ignore = ["PS401"]', (0, [])),
        ('ignore = ["PS4"]', (0, [])),
        ('select = ["VF"]', (0, [])),
        ('select = ["PS4"]', (0, [("PS401", "warning")])),
        ('[severity]\nPS401 = "error"', (1, [("PS401", "error")])),
        ('[per-file-ignores]\n"cats.policy" = ["PS401"]', (0, [])),
        ('[per-file-ignores]\n"pets.policy" = ["PS401"]', (0, [("PS401", "warning")])),
        ("strict = true", (1, [("PS401", "warning")])),
    ],
)
def test_policyspec_toml_beside_the_spec(write_spec, settings, expected):
    folder = write_spec(cats__policy=NO_EXAMPLE)
    (folder / "policyspec.toml").write_text(settings + "\n")
    assert codes(folder) == expected


def test_pyproject_above_the_spec_folder(write_spec):
    folder = write_spec(cats__policy=NO_EXAMPLE)
    (folder.parent / "pyproject.toml").write_text('[tool.policyspec]\nignore = ["PS401"]\n')
    assert codes(folder) == (0, [])


def test_a_pyproject_without_the_table_is_passed_over(write_spec):
    folder = write_spec(cats__policy=NO_EXAMPLE)
    (folder / "pyproject.toml").write_text('[project]\nname = "x"\n')
    (folder.parent / "policyspec.toml").write_text('ignore = ["PS401"]\n')
    assert discover(folder).source == folder.parent / "policyspec.toml"
    assert codes(folder) == (0, [])


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ({"selct": ["PS"]}, "unknown setting 'selct'"),
        ({"ignore": ["PS999"]}, "no code starts with 'PS999'"),
        ({"ignore": "PS401"}, "ignore is a list of codes"),
        ({"severity": {"PS401": "fatal"}}, "'fatal' is not error, warning or info"),
        ({"severity": {"XX001": "error"}}, "unknown code 'XX001'"),
        ({"strict": "yes"}, "strict is true or false"),
    ],
)
def test_bad_settings_are_refused_with_what_is_wrong(table, complaint):
    with pytest.raises(InputError) as raised:
        parse(table)
    assert complaint in str(raised.value) and raised.value.code == "US004"


def test_bad_settings_file_exits_2_with_one_line(write_spec):
    folder = write_spec()
    (folder / "policyspec.toml").write_text("select = [\n")
    result = runner.invoke(app, ["check", str(folder)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "not readable TOML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_apply_keeps_order_and_replaces_only_the_severity():
    span = SourceSpan("a.policy", 1, 1, 1, 2)
    found = [Diagnostic("PS401", "x", span), Diagnostic("PS501", "y", span)]
    settings = Settings(severity={"PS501": Severity.ERROR})
    assert [(d.code, d.severity, d.message) for d in settings.apply(found)] == [
        ("PS401", Severity.WARNING, "x"),
        ("PS501", Severity.ERROR, "y"),
    ]


def test_settings_apply_to_transcript_findings_and_what_a_confession_must_report():
    from tests.verifier.factory import changed, consistent, load_spec
    from verifier import Verifier

    spec = load_spec()
    # The answer breaks WP-2's style (VF034) and the confession claims full compliance.
    transcript = changed(consistent(spec, ["WP-2"]), output__answer="Nope.")
    plain = Verifier(spec).verify(transcript)
    assert {"VF034", "VF062"} <= {f.code for f in plain.findings} and not plain.passed
    ignored = Verifier(spec, parse({"ignore": ["VF034"]})).verify(transcript)
    assert ignored.passed and ignored.scores.policy == 1.0 and ignored.scores.confession == 1.0
    graded = Verifier(spec, parse({"severity": {"VF034": "warning"}})).verify(transcript)
    assert [f.severity for f in graded.findings if f.code == "VF034"] == [Severity.WARNING]
