"""Item 7: compile and fmt killed (SIGKILL) at random moments leave the old state or the
new one, whole: a compile folder whose manifest matches its files, .policy files each
holding their old text or their formatted text, never a part. Bounded: a few runs each,
well under a minute together."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

import spec_lang
from benchmarks.specgen import category_file, write_spec
from core.atomic import PREFIX

ROOT = Path(__file__).resolve().parent.parent
COMPILE = "import sys, compiler; compiler.compile_spec(sys.argv[1], 'schema', sys.argv[2])"
RUNS = 6

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def start(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def timed(*args: str) -> float:
    started = time.monotonic()
    assert start(*args).wait(timeout=120) in (0, 1)
    return time.monotonic() - started


def kill_at_random(args: tuple[str, ...], full: float, rng: random.Random) -> None:
    """Start the command and kill it after a random part of a full run's time, weighted to
    its second half, where the writing happens."""
    process = start(*args)
    time.sleep(full * (0.3 + 0.8 * rng.random()))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)


def whole_compile(out: Path, versions: set[str]) -> None:
    if not out.exists():
        return
    manifest = orjson.loads((out / "manifest.json").read_bytes())
    assert manifest["spec"]["version"] in versions
    listed = {
        name: digest for t in manifest["targets"].values() for name, digest in t["files"].items()
    }
    on_disk = {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}
    assert on_disk == set(listed) | {"manifest.json"}
    for name, digest in listed.items():
        data = (out / name).read_bytes()
        assert "sha256:" + hashlib.sha256(data).hexdigest() == digest, name


def test_compile_killed_at_random_leaves_a_whole_folder(tmp_path):
    rng = random.Random(7)
    specs = []
    for version in ("1.0.0", "2.0.0"):
        folder = write_spec(tmp_path / version, 300)
        root = folder / "root.policy"
        root.write_text(root.read_text().replace('version "1.0.0"', f'version "{version}"'))
        specs.append(folder)
    out = tmp_path / "build" / "out"
    full = timed("-c", COMPILE, str(specs[0]), str(out))
    whole_compile(out, {"1.0.0"})
    for run in range(RUNS):
        kill_at_random(("-c", COMPILE, str(specs[run % 2]), str(out)), full, rng)
        whole_compile(out, {"1.0.0", "2.0.0"})
    timed("-c", COMPILE, str(specs[1]), str(out))  # a run after the kills cleans up after them
    whole_compile(out, {"2.0.0"})
    assert not [p for p in out.parent.iterdir() if p.name.startswith(PREFIX)]
    assert not [p for p in out.rglob("*") if p.name.startswith(PREFIX)]


def test_fmt_killed_at_random_leaves_each_file_old_or_new(tmp_path):
    rng = random.Random(11)
    folder = tmp_path / "spec"
    folder.mkdir()
    messy = {}
    for i in range(40):
        text = spec_lang.formatter.format_source(category_file(i, 30), f"c{i}.policy")
        messy[f"c{i}.policy"] = text.replace("\n  rule ", "\n        rule ")
    formatted = {
        name: spec_lang.formatter.format_source(text, name) for name, text in messy.items()
    }
    assert all(formatted[name] != messy[name] for name in messy)

    def reset() -> None:
        for name, text in messy.items():
            (folder / name).write_text(text)

    reset()
    full = timed("-m", "policyspec", "fmt", str(folder))
    for _ in range(RUNS):
        reset()
        kill_at_random(("-m", "policyspec", "fmt", str(folder)), full, rng)
        for name in messy:
            assert (folder / name).read_text() in (messy[name], formatted[name]), name
    timed("-m", "policyspec", "fmt", str(folder))
    assert {name: (folder / name).read_text() for name in messy} == formatted
    assert not [p for p in folder.iterdir() if p.name.startswith(PREFIX)]
