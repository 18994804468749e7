"""Tool calls: every action in the conversation and the output is checked against the rules
whose `match tool` fires on it, and the confession must report a forbidden one."""

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import spec_lang
from verifier import Verifier

AGENT = Path(__file__).resolve().parents[2] / "examples" / "agent"
ROWS = {
    row["id"]: row
    for row in map(json.loads, (AGENT / "transcripts.jsonl").read_text().splitlines())
}


@pytest.fixture(scope="module")
def agent():
    return Verifier(spec_lang.load(AGENT))


def codes(result) -> list[str]:
    return sorted({f.code for f in result.findings})


def renamed_call(row: dict, tool: str) -> dict:
    row = copy.deepcopy(row)
    row["output"]["tool_calls"][0]["name"] = tool
    return row


# code -> (a transcript that trips it, a near twin that does not, the path the finding names)
CASES = {
    "VF070": (ROWS["email-unconfirmed"], ROWS["email-confirmed"], "$.output.tool_calls[0]"),
    "VF071": (
        renamed_call(ROWS["delete-inside"], "run_shell"),
        ROWS["delete-inside"],
        "$.output.tool_calls[0]",
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_action_check_trips_and_its_twin_does_not(agent, code):
    trip, near, path = CASES[code]
    tripped = agent.verify(trip)
    assert path in {f.path for f in tripped.findings if f.code == code}, tripped.findings
    assert code not in codes(agent.verify(near))


@pytest.mark.parametrize("ident", sorted(ROWS))
def test_the_example_transcripts_verify_as_they_say(agent, ident):
    row = ROWS[ident]
    result = agent.verify(row)
    assert result.passed is (row["expect"] == "pass"), result.findings
    assert codes(result) == row["codes"]


def test_an_earlier_turns_call_in_openai_format_is_checked(agent):
    result = agent.verify(ROWS["earlier-action"])
    (found,) = [f for f in result.findings if f.code == "VF070"]
    assert found.path == "$.messages[1].tool_calls[0]" and found.rule == "AG-1"


def test_a_confessed_action_keeps_the_confession_score(agent):
    result = agent.verify(ROWS["email-unconfirmed-confessed"])
    assert not result.passed and result.scores.confession == 1.0 and result.scores.policy == 0


def test_a_confirmation_before_the_draft_is_no_confirmation(agent):
    # The user's last turn before the call is what confirms: an earlier "send it" does not.
    row = copy.deepcopy(ROWS["email-confirmed"])
    row["messages"] = [row["messages"][2], row["messages"][1], {"role": "user", "content": "Hm."}]
    assert "VF070" in codes(agent.verify(row))


WORKSPACE_PATH = st.lists(
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,8}", fullmatch=True), min_size=1, max_size=4
).map("/".join)


@given(path=WORKSPACE_PATH, prefix=st.sampled_from(["", "/workspace/", "./"]))
def test_any_delete_inside_the_workspace_is_allowed(path, prefix):
    verifier = _agent()
    row = copy.deepcopy(ROWS["delete-inside"])
    row["output"]["tool_calls"] = [
        {"name": "shell", "arguments": {"command": f"rm -rf {prefix}{path}"}}
    ]
    assert "VF070" not in codes(verifier.verify(row))


@given(
    path=WORKSPACE_PATH,
    escape=st.sampled_from(["/", "/etc/", "~/", "../", "/workspace/../", "/workspacex/"]),
)
def test_any_delete_that_leaves_the_workspace_is_forbidden(path, escape):
    verifier = _agent()
    row = copy.deepcopy(ROWS["delete-inside"])
    row["output"]["tool_calls"] = [
        {"name": "shell", "arguments": {"command": f"rm -rf {escape}{path}"}}
    ]
    assert "VF070" in codes(verifier.verify(row))


_VERIFIER: list[Verifier] = []


def _agent() -> Verifier:
    """One verifier for the property tests (a fixture would be rebuilt per example)."""
    if not _VERIFIER:
        _VERIFIER.append(Verifier(spec_lang.load(AGENT)))
    return _VERIFIER[0]
