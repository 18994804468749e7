"""Verifying on a real local Ray cluster, and through Hugging Face datasets: one result per
input row, in order, a row that cannot be verified a failing result."""

from __future__ import annotations

import json

import orjson
import pytest
from typer.testing import CliRunner

from policyspec.cli import app
from tests.verifier.factory import SPEC_DIR
from verifier.distributed import verify_batch

ray = pytest.importorskip("ray", reason="ray is an extra: pip install 'policyspec[ray]'")


@pytest.fixture(scope="module")
def cluster():
    """One local Ray cluster of one CPU for the module: starting one takes seconds."""
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture
def lines(make) -> list[bytes]:
    """A pass, a wrong decision, a line that is not JSON, a blank line, a JSON array."""
    return [
        orjson.dumps(make("WP-2", id="good")),
        orjson.dumps(make("WP-2", id="bad", output__decision="comply")),
        b"{oops",
        b"",
        b"[1, 2]",
    ]


def test_verify_on_ray_writes_the_report_verify_writes(cluster, lines, tmp_path):
    runs = tmp_path / "runs.jsonl"
    runs.write_bytes(b"\n".join(lines) + b"\n")
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    runner = CliRunner()
    expected = runner.invoke(app, ["verify", str(SPEC_DIR), str(runs), "-o", str(local)])
    result = runner.invoke(
        app, ["verify", str(SPEC_DIR), str(runs), "-o", str(on_ray), "--ray", "local"]
    )
    assert (result.exit_code, result.stdout) == (expected.exit_code, expected.stdout)
    assert on_ray.read_bytes() == local.read_bytes()
    assert [json.loads(line)["line"] for line in on_ray.read_text().splitlines()] == [1, 2, 3, 4, 5]

    dataset = ray.data.from_items([{"transcript": line} for line in lines])
    rows = dataset.map_batches(verify_batch, fn_kwargs={"spec": str(SPEC_DIR)}).take_all()
    assert [row["passed"] for row in rows] == [True, False, False, False, False]
    assert [json.loads(row["result"])["id"] for row in rows] == ["good", "bad", None, None, None]


def test_datasets_map_gives_every_row_a_result(lines):
    datasets = pytest.importorskip("datasets")
    table = datasets.Dataset.from_dict({"transcript": [line.decode() for line in lines]})
    verified = table.map(verify_batch, batched=True, batch_size=2, fn_kwargs={"spec": SPEC_DIR})
    assert verified["passed"] == [True, False, False, False, False]
    findings = [json.loads(result)["findings"] for result in verified["result"]]
    assert [f[0]["code"] for f in findings[2:]] == ["VF001", "VF001", "VF003"]
