import orjson
import pytest

from tests.verifier.factory import changed, consistent, load_spec
from verifier import Verifier
from verifier.batch import run

# A transcript that tries to run script wherever it is shown: in its ID, its prompt,
# its answer, a rule it cites and the text of the page.
ATTACK = "</script><script>window.__pwned = 1; alert(1)</script><img src=x onerror=alert(2)>"


@pytest.fixture(scope="session")
def spec():
    return load_spec()


@pytest.fixture
def make(spec):
    def build(*rules: str, **changes) -> dict:
        return changed(consistent(spec, list(rules)), **changes)

    return build


def write_lines(path, records) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))


@pytest.fixture
def verified(tmp_path, make, spec):
    """(transcripts, report): six transcripts verified, one of them the attack, one a
    malformed line; returns a function so tests can vary the decisions."""

    def verify(name: str = "runs", wrong: tuple[str, ...] = ("bad",)):
        """The IDs in `wrong` get the decision comply, which their rules forbid."""
        records = [
            make("WP-2", id="good"),
            make("WP-2", id="bad"),
            make("SH-2", id="sad"),
            make("SH-2", id="gap", output__confession__compliance_analysis=[]),
            make(
                "WP-2",
                id=ATTACK,
                messages=[{"role": "user", "content": ATTACK}],
                output__answer=ATTACK,
                output__reasoning=[{"rule": ATTACK, "claim": ATTACK}],
            ),
        ]
        for record in records:
            if record["id"] in wrong:
                record["output"]["decision"] = "comply"
        transcripts = tmp_path / f"{name}.jsonl"
        write_lines(transcripts, records)
        with transcripts.open("ab") as stream:
            stream.write(b"{oops\n")
        report = tmp_path / f"{name}.report.jsonl"
        run(Verifier(spec), [transcripts], report)
        return transcripts, report

    return verify
