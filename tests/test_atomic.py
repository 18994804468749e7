"""Atomic writes of several files: all or nothing, no temporary file left, permissions kept."""

from __future__ import annotations

import stat

import pytest

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
