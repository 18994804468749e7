"""The endpoint judge against a real OpenAI-compatible server process, started here.

The server is `transformers serve` (it needs fastapi, uvicorn and openai: the
`judge-server` extra) serving the embedded model's weights converted to a Hugging Face
folder, on CPU. It takes `response_format` but does not enforce it (transformers
5.25 lists it among the fields it ignores), so the small model's reply usually does
not parse: which is what this test checks end to end, over HTTP: every verdict
parses under the schema and cites only the spec's IDs, or is unscored and fails.
A server that enforces json_schema on CPU with a local model file (llama.cpp's
llama-server) could not be built or installed here: see docs/judge.md.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

import spec_lang
from compiler import JudgeLimits
from judge import EndpointBackend, Judge, Sampling, Settings
from tests.judge.test_judge import BASELINE, transcript

MISSING = [m for m in ("fastapi", "uvicorn", "openai") if importlib.util.find_spec(m) is None]


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if MISSING:
        pytest.skip(f"transformers serve needs {', '.join(MISSING)}: pip install '.[judge-server]'")
    from runtime.models import _converted, _embedded_gguf

    folder = _converted(_embedded_gguf(), "smollm2-135m")
    port = _port()
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    command = [
        str(Path(sys.executable).with_name("transformers")),
        "serve",
        str(folder),
        "--device",
        "cpu",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = os.environ | {"OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    with log.open("wb") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"transformers serve did not start: {log.read_text()[-2000:]}")
                time.sleep(1)
        yield f"http://127.0.0.1:{port}/v1", str(folder)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.slow
def test_a_real_endpoint_judges_or_fails_closed(server):
    url, model = server
    spec = spec_lang.load(BASELINE)
    ids = {rule.id for rule in spec.rules}
    # Small bounds keep max_tokens (the schema's budget) and so the run short.
    limits = JudgeLimits(rules=2, reasons=1, reason_chars=40, objectives=1, note_chars=40)
    settings = Settings(Sampling(k=2, seed=3), confession=False, limits=limits)
    backend = EndpointBackend(url, model, timeout=300)
    body = backend.request_body(
        "p", {"$schema": "x", "x-policyspec": {}, "type": "object"}, 3, settings.sampling, 9
    )
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["schema"] == {"type": "object"}
    judgement = Judge(spec, backend, settings).judge(transcript())
    line = judgement.to_json(samples=True)
    assert line["judge"] == f"endpoint:{url}#{model}" and line["k"] == 2
    samples = line["answer"]["samples"]
    assert len(samples) == 2 and all(isinstance(s["reply"], str) for s in samples)
    for sample in samples:
        if sample["verdict"] is None:
            assert sample["problem"]
            continue
        verdict = sample["verdict"]
        assert set(verdict["applicable_rules"]) <= ids
        assert verdict["required_decision"] in spec.decisions
    if line["answer"]["status"] == "unscored":
        assert not judgement.passed and "JG001" in [f["code"] for f in line["findings"]]
    print(json.dumps(line["answer"]["unscored"]))
