"""Item 5: fmt keeps edits made while it runs, symlinks, line endings and permissions,
and says one line (exit 2) when it cannot write."""

import errno
import stat

from typer.testing import CliRunner

import spec_lang
from core import atomic
from policyspec.cli import app
from tests.pets import CATS

runner = CliRunner()
MESSY = CATS.replace("  rule C-2", "      rule C-2")


def fmt(*args):
    return runner.invoke(app, ["fmt", *map(str, args)])


def formatted_text() -> str:
    return spec_lang.formatter.format_source(MESSY, "cats.policy")


def test_a_symlinked_file_is_written_through_and_stays_a_link(write_spec, tmp_path):
    folder = write_spec()
    real = tmp_path / "real.policy"
    real.write_text(MESSY)
    (folder / "cats.policy").unlink()
    (folder / "cats.policy").symlink_to(real)
    assert fmt(folder).exit_code == 0
    assert (folder / "cats.policy").is_symlink()
    assert real.read_text() == formatted_text()


def test_crlf_stays_crlf_and_permissions_stay(write_spec):
    folder = write_spec()
    path = folder / "cats.policy"
    path.write_bytes(MESSY.replace("\n", "\r\n").encode())
    path.chmod(0o640)
    assert fmt(folder).exit_code == 0
    data = path.read_bytes()
    assert data == formatted_text().replace("\n", "\r\n").encode()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert fmt("--check", folder).exit_code == 0  # CRLF alone is not a change


def test_an_edit_saved_while_fmt_runs_is_kept(write_spec, monkeypatch):
    folder = write_spec(cats__policy=MESSY)
    path = folder / "cats.policy"
    original = spec_lang.formatter.format_source
    edited = MESSY + "# saved by an editor meanwhile\n"

    def format_while_an_editor_saves(source, name):
        path.write_text(edited)
        return original(source, name)

    monkeypatch.setattr(spec_lang.formatter, "format_source", format_while_an_editor_saves)
    result = fmt(folder)
    assert result.exit_code == 1
    assert "skipped" in result.stderr and "changed while it was formatted" in result.stderr
    assert path.read_text() == edited
    assert not [p for p in folder.iterdir() if p.name.startswith(atomic.PREFIX)]


def test_a_full_or_read_only_disk_is_one_line_and_exit_2(write_spec, monkeypatch):
    folder = write_spec(cats__policy=MESSY)

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(atomic, "mkstemp", full)
    result = fmt(folder)
    assert result.exit_code == 2
    assert "cats.policy: cannot write (No space left on device)" in result.stderr
    assert "Traceback" not in result.output
    assert (folder / "cats.policy").read_text() == MESSY
