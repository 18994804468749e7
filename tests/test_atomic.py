"""Atomic writes of several files: all or nothing, no temporary file left, permissions kept."""

from __future__ import annotations

import os
import stat

import pytest

from core import atomic
from core.atomic import write_all


def test_every_file_is_written_and_an_existing_one_keeps_its_permissions(tmp_path):
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"old")
    kept.chmod(0o640)
    write_all({kept: b"new", tmp_path / "a" / "b.txt": bytearray(b"made")})
    assert kept.read_bytes() == b"new"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    assert (tmp_path / "a" / "b.txt").read_bytes() == b"made"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["a", "b.txt", "kept.txt"]


def test_a_file_that_cannot_be_written_replaces_nothing_and_leaves_no_temporary(tmp_path):
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"old")
    too_long = tmp_path / ("x" * 250)  # its temporary file's name is past the 255-byte limit
    with pytest.raises(OSError):
        write_all({kept: b"new", too_long: b"x"})  # kept's temporary file is written first
    assert kept.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]


def dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_temporary_names_carry_the_prefix_and_the_pid(tmp_path):
    import os

    from core.atomic import PREFIX, mkstemp

    handle, name = mkstemp(tmp_path / "report.jsonl")
    os.close(handle)
    assert os.path.basename(name).startswith(f"{PREFIX}{os.getpid()}-report.jsonl.")


def test_sweep_removes_only_the_leftovers_of_dead_processes(tmp_path):
    import os

    from core.atomic import sweep

    pid = dead_pid()
    (tmp_path / f".policyspec-{pid}-x.policy.abc.tmp").write_text("left")
    (tmp_path / f".policyspec-{pid}-build.xyz").mkdir()
    (tmp_path / f".policyspec-{pid}-build.xyz" / "f").write_text("left")
    mine = tmp_path / f".policyspec-{os.getpid()}-y.tmp"
    mine.write_text("in use")
    (tmp_path / "keep.txt").write_text("mine")
    write_all({tmp_path / "new.txt": b"new"})  # every write sweeps its folder first
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, "keep.txt", "new.txt"])
    (tmp_path / f".policyspec-{pid}-later.tmp").write_text("left")
    assert sweep(tmp_path) == []  # once a process: the next run removes it


def test_replace_folder_switches_as_a_whole_and_keeps_what_it_is_told(tmp_path, monkeypatch):
    from core import atomic

    out = tmp_path / "out"
    atomic.replace_folder(out, {"a/1.txt": b"one", "b/2.txt": b"two"}, keep=lambda _: False)
    atomic.replace_folder(out, {"a/1.txt": b"ONE"}, keep=lambda name: name == "b")
    assert (out / "a/1.txt").read_bytes() == b"ONE" and (out / "b/2.txt").read_bytes() == b"two"
    monkeypatch.setattr(atomic, "_exchange", lambda first, second: False)  # the fallback swap
    atomic.replace_folder(out, {"a/1.txt": b"1"}, keep=lambda _: False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in out.rglob("*")] == ["a", "1.txt"]


def test_a_swap_killed_between_its_renames_is_undone_by_the_next_write(tmp_path):
    from core import atomic

    aside = tmp_path / f".policyspec-{dead_pid()}-out-old"  # the old folder, renamed aside
    aside.mkdir()
    (aside / "manifest.json").write_text("{}")
    atomic.write_all({tmp_path / "other.txt": b"x"})
    assert (tmp_path / "out" / "manifest.json").read_text() == "{}"
    assert not aside.exists()


def test_sigterm_ends_the_cli_as_an_exception_so_writers_clean_up(tmp_path, monkeypatch):
    import os
    import signal

    from core import atomic
    from policyspec.cli import exit_on_sigterm

    previous = signal.getsignal(signal.SIGTERM)
    exit_on_sigterm()
    try:

        def killed_while_flushing(path):
            os.kill(os.getpid(), signal.SIGTERM)

        monkeypatch.setattr(atomic, "_flush_to_disk", killed_while_flushing)
        with pytest.raises(SystemExit):
            write_all({tmp_path / "a.txt": b"a"})
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert list(tmp_path.iterdir()) == []


def test_a_new_file_gets_the_permissions_of_a_new_file(tmp_path):
    mask = os.umask(0o022)
    try:
        atomic.write_bytes(tmp_path / "new.html", b"x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "new.html").stat().st_mode) == 0o644
