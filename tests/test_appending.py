"""core.appending: lines appended to one file by several processes at once stay whole, and
a line a killed writer left unfinished is cut off before the next is appended."""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.appending import LineAppender

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs fcntl")


def append_many(path: str, writer: int, count: int) -> None:
    with LineAppender(path) as appender:
        for number in range(count):
            # lines of uneven, growing sizes, past a pipe buffer's 4 KiB
            line = {"writer": writer, "number": number, "pad": "x" * (number * 97 % 9000)}
            appender.append(json.dumps(line).encode() + b"\n")


def test_lines_from_several_processes_at_once_are_each_whole(tmp_path):
    path = tmp_path / "out.jsonl"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=append_many, args=(str(path), w, 150)) for w in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
        assert writer.exitcode == 0
    lines = path.read_bytes().splitlines()
    seen = [(line["writer"], line["number"]) for line in map(json.loads, lines)]
    assert sorted(seen) == [(w, n) for w in range(4) for n in range(150)]


def test_a_line_a_killed_writer_left_unfinished_is_cut_before_the_next(tmp_path):
    path = tmp_path / "out.jsonl"
    # a writer killed in the middle of its write leaves the start of a line, no newline
    path.write_bytes(b'{"id": "a"}\n{"id": "b"}\n{"id": "cut off by a ki')
    with LineAppender(path) as appender:
        appender.append(b'{"id": "c"}\n')
    assert path.read_bytes() == b'{"id": "a"}\n{"id": "b"}\n{"id": "c"}\n'


def test_an_unfinished_line_longer_than_a_read_is_cut_whole(tmp_path):
    path = tmp_path / "out.jsonl"
    path.write_bytes(b'{"id": "a"}\n' + b"y" * 200_000)
    with LineAppender(path) as appender:
        appender.append(b'{"id": "b"}\n')
    assert path.read_bytes() == b'{"id": "a"}\n{"id": "b"}\n'
    path.write_bytes(b"z" * 70_000)  # no whole line at all
    with LineAppender(path) as appender:
        appender.append(b'{"id": "c"}\n')
    assert path.read_bytes() == b'{"id": "c"}\n'


@pytest.mark.parametrize("line", [b'{"id": 1}', b'{"id": 1}\n{"id": 2}\n', b"\n\n"])
def test_only_one_whole_line_is_taken(tmp_path, line):
    with LineAppender(tmp_path / "out.jsonl") as appender, pytest.raises(ValueError):
        appender.append(line)


def test_a_writer_killed_while_appending_leaves_only_whole_lines_after_the_next(tmp_path):
    """A real writer process killed at once: whatever it left, the next append leaves the
    file as whole lines only."""
    path = tmp_path / "out.jsonl"
    script = (
        "import sys; from core.appending import LineAppender\n"
        "a = LineAppender(sys.argv[1])\n"
        'for n in range(10**6): a.append(b\'{"n": %d, "pad": "%s"}\\n\' % (n, b\'x\' * 5000))\n'
    )
    root = Path(__file__).resolve().parent.parent
    writer = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], cwd=root, env={"PYTHONPATH": str(root)}
    )
    deadline = time.monotonic() + 60
    while (not path.exists() or path.stat().st_size < 50_000) and time.monotonic() < deadline:
        time.sleep(0.05)
    writer.kill()
    writer.wait()
    with LineAppender(path) as appender:
        appender.append(b'{"n": "after"}\n')
    lines = path.read_bytes().splitlines()
    assert len(lines) > 2
    assert [json.loads(line)["n"] for line in lines[:-1]] == list(range(len(lines) - 1))
    assert json.loads(lines[-1]) == {"n": "after"}
