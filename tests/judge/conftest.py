"""The judge tests' real HTTP server (tests/judge/http_judge.py), started per test."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.judge.test_judge import confession, transcript, verdict

ROOT = Path(__file__).resolve().parents[2]


class Server:
    """tests/judge/http_judge.py running in its own process."""

    def __init__(self, folder: Path, *flags: str):
        port_file = folder / f"port-{time.monotonic_ns()}"
        command = [sys.executable, "-m", "tests.judge.http_judge", str(port_file)]
        command += ["--verdict", json.dumps(verdict()), "--confession", json.dumps(confession())]
        command += flags  # after the defaults: a --verdict here wins
        self.process = subprocess.Popen(command, cwd=ROOT)
        deadline = time.monotonic() + 30
        while not port_file.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{port_file.read_text()}"
        self.url = f"{self.base}/v1"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.base}/stats", timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture
def serve(tmp_path):
    started: list[Server] = []

    def start(*flags: str) -> Server:
        started.append(Server(tmp_path, *flags))
        return started[-1]

    yield start
    for server in started:
        server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def refusals_then(tmp_path: Path, *answers: str) -> Path:
    """A runs file with one transcript per answer (ids t1, t2, ...), each answer opening
    with a refusal; the http judge reads the words after it (LOW-GRADE, STUCK, ...)."""
    path = tmp_path / "runs.jsonl"
    lines = [
        json.dumps(transcript(answer=f"Sorry, I can't help with that. {answer}") | {"id": f"t{i}"})
        for i, answer in enumerate(answers, 1)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
