"""Item 2: a spec folder is read safely: only regular files inside it, each under a size
limit, and messages repeat only a short excerpt of a line."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.diagnostics import render
from spec_lang import InputError, check, load, loader
from spec_lang.text import EXCERPT_CHARS

ROOT_DIR = Path(__file__).resolve().parents[2]


def policyspec(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "policyspec", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT_DIR,
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_in_the_folder_neither_hangs_check_nor_fmt(write_spec):
    folder = write_spec()
    os.mkfifo(folder / "x.policy")
    checked = policyspec("check", str(folder), timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "x.policy" in checked.stdout  # PS013: in the folder, not included
    formatted = policyspec("fmt", "--check", str(folder), timeout=60)
    assert "Traceback" not in formatted.stderr
    assert "x.policy: not a regular file" in formatted.stderr


def test_a_link_to_dev_zero_is_skipped_and_refused_when_included(write_spec):
    folder = write_spec()
    (folder / "zero.policy").symlink_to("/dev/zero")
    assert [d.code for d in check(load(folder))] == ["PS013"]
    included = write_spec(
        pets__policy='spec pets "Pets" {\n  include "cats.policy"\n  include "zero.policy"\n}\n'
    )
    with pytest.raises(InputError, match=r"include 'zero\.policy' leaves the spec folder"):
        load(included)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_an_included_fifo_is_refused_without_blocking(write_spec):
    folder = write_spec(
        pets__policy='spec pets "Pets" {\n  include "cats.policy"\n  include "x.policy"\n}\n'
    )
    os.mkfifo(folder / "x.policy")
    with pytest.raises(InputError, match=r"x\.policy: not a regular file"):
        load(folder)


def test_a_link_out_of_the_folder_is_not_read_as_a_root(write_spec, tmp_path):
    outside = tmp_path / "outside.policy"
    outside.write_text('spec other "Other" {}\n')
    folder = write_spec()
    (folder / "other.policy").symlink_to(outside)
    assert load(folder).name == "pets"  # not "several files have a spec header"


def test_a_file_over_the_limit_is_refused_with_the_limit_named(write_spec, monkeypatch):
    monkeypatch.setattr(loader, "MAX_POLICY_BYTES", 4096)
    folder = write_spec(big__policy="x " * 4000)
    with pytest.raises(InputError, match=r"big.policy: 8,000 bytes, over the limit of 4,096"):
        load(folder)


def test_the_default_limit_is_8_mib():
    assert loader.MAX_POLICY_BYTES == 8 << 20


def test_a_long_line_is_shown_as_an_excerpt(write_spec):
    folder = write_spec(pets__policy='spec pets "Pets" {\n' + "x " * 50_000 + "\n}\n")
    errors = [d for d in check(load(folder)) if d.code == "PS001"]
    assert errors  # one per line: the rest of a bad line is taken for echoes
    for diagnostic in errors:
        shown = render(diagnostic, {diagnostic.span.file: (folder / "pets.policy").read_text()})
        assert max(len(line) for line in shown.splitlines()) < 3 * EXCERPT_CHARS
        assert len(diagnostic.message) < 200


def test_cli_on_a_file_over_the_limit_says_one_line_and_exits_2(write_spec):
    folder = write_spec(big__policy="x " * (4 << 20) + "x")
    result = policyspec("check", str(folder))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "over the limit" in result.stderr
    assert len(result.stderr) < 300
